// The monitor: one thread per runtime (like Go's sysmon) that watches what
// each worker runs. It preempts a fiber that has run past Config::time_slice
// (preempt.h), and reports a task that has run longer than
// Config::stall_threshold without yielding (Seastar's reactor stall report).
//
// Protocol:
//   1. Each worker bumps its run sequence (Worker::run_seq) before and after
//      every task it runs: odd means "a task is running". Relaxed stores, no
//      clock read on the hot path.
//   2. The monitor samples each worker's sequence every slice/10 (at most
//      every threshold/4) while some worker runs a task or is awake (a run
//      that began just after a slower sample would be preempted at 1.5
//      slices); with preemption off, every threshold/4 (at most 50 ms) while
//      none runs a task; and not at all while every worker is parked (step
//      6). A run first seen at one sample began, on average, halfway since
//      the previous one; preemption counts from there, hand-off and stall
//      reports from the sample itself.
//   3. The same odd value seen for longer than the slice: it asks the worker
//      to preempt (preempt.h). A signal may land where switching is unsafe
//      (a hog reading the clock is in the vDSO a good part of the time), so
//      while the run lasts it asks again after slice/10, doubling the wait
//      at each miss up to a whole slice: a miss costs about a tenth of a
//      slice, and code that is never safe gets at most one signal a slice.
//   4. Seen for longer than Config::handoff_after: the worker is stuck (a
//      blocking system call, a long computation). Its ring is stealable
//      already; its LIFO slot is not, so the monitor asks the worker's own
//      thread (kHandOff) to move that task into the ring, and at the next
//      sample wakes an idle worker to take what is queued. Again every
//      10 handoff_after while the run lasts: the stuck task may have queued
//      more before it blocked.
//   5. Seen for longer than the threshold: it asks for a stall report. The
//      handler, running in the stalled task's own context, writes the task's
//      id, name, worker and run time and a backtrace of the thread to stderr,
//      with async-signal-safe calls only. One report per stalled run, and at
//      most one per second in all (rate limit).
//   6. When a sample finds no run and every worker parked, nothing can run
//      past a slice, so the monitor sleeps until a worker leaves park()
//      (MonitorGate): an idle runtime wakes no thread at all. The worker
//      counts itself awake and then checks whether the monitor sleeps; the
//      monitor says it sleeps and then checks that no worker is awake. Both
//      sides are seq_cst, so at least one sees the other (the store-load
//      pattern of idle.h's step 4).
//   7. Spare workers (Go's hand-off to a new M). Each sample counts the
//      regular workers stuck past Config::handoff_after whose thread sleeps
//      in the kernel (a blocking system call; a long computation is left to
//      preemption, as in Go) and those running nothing. While stuck ones
//      outnumber idle ones, the stuck workers' queues have nobody to take
//      them: if any task is queued, the monitor makes that many spares
//      active (at most max_spare_workers), starting each thread on first
//      use. An active spare steals from every queue (a lone regular worker
//      pops without a CAS, so nobody steals from it: step 4's kHandOff
//      handler, on its own thread, moves its LIFO slot and ring to the
//      inject queue instead), and naps in its driver between looks (it is
//      outside Idle's sleeper list, so nobody notifies it). When the stuck
//      ones no longer outnumber the idle ones (a stuck call returned), the
//      monitor deactivates the surplus: each finishes its current task,
//      gives what it queued to the inject queue and rests in its driver,
//      still firing its timers and completing its I/O (those tasks go to the
//      inject queue too). A spare counts as awake for step 6 while active.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace weft::sched {

class Scheduler;
class Worker;

// Step 6: where the monitor sleeps and the workers wake it. Owned by the
// Scheduler, so it outlives both the monitor and the workers.
class MonitorGate {
 public:
  using Clock = std::chrono::steady_clock;
  explicit MonitorGate(uint32_t workers) : awake_(workers) {}

  // ---- for workers, on their way into and out of Worker::park() ----
  void worker_parking() { awake_.fetch_sub(1, std::memory_order_seq_cst); }
  void worker_unparked();

  // ---- for the monitor thread ----
  // False once stopped.
  bool wait_for(Clock::duration period);
  enum class Sleep { kStopped, kNotAllParked, kSlept };
  // Sleeps while every worker is parked.
  Sleep sleep_while_all_parked();
  void stop();

 private:
  std::atomic<uint32_t> awake_;
  std::atomic<bool> sleeping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
};

class Monitor {
 public:
  Monitor(Scheduler& scheduler, MonitorGate& gate);
  ~Monitor();  // stops and joins the thread
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // How many stall reports were made (tests, diagnostics).
  uint64_t reports() const { return reports_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Seen {
    uint64_t seq = 0;
    Clock::time_point since;  // first seen: stall reports never overstate a run
    Clock::time_point began;  // its likely start: for the time slice
    Clock::time_point preempt_sent;
    Clock::duration preempt_retry{};  // step 3: the wait before asking again
    bool reported = false;
    Clock::time_point handed_off;  // step 4: when the worker was last asked
    bool wake_pending = false;     // step 4: wake the others at the next sample
  };
  void loop();
  void raise_priority();  // Config::monitor_nice
  // Samples every worker; true if any runs a task.
  bool sample(std::vector<Seen>& seen, Clock::time_point last, Clock::time_point now);
  // Step 7, from one sample's count of stuck and idle regular workers.
  void balance_spares(uint32_t stuck, uint32_t idle);
  // True if the worker is running a task.
  bool check(uint32_t worker, Seen& seen, Clock::time_point began, Clock::time_point now);
  uint32_t requests_for(Seen& seen, Clock::time_point now);
  uint32_t hand_off(Seen& seen, Clock::time_point now);

  Scheduler& scheduler_;
  const Clock::duration threshold_;  // 0: no stall reports
  const Clock::duration slice_;      // 0: no preemption
  const Clock::duration handoff_;    // 0: no hand-off
  const int signal_;
  std::chrono::steady_clock::time_point last_report_{};
  std::atomic<uint64_t> reports_{0};
  MonitorGate& gate_;
  std::thread thread_;
};

}  // namespace weft::sched
