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
//      every threshold/4) while some worker runs a task, and every slice (at
//      most threshold/4, at most 50 ms) while all are idle, so an idle
//      runtime costs it a few wake-ups a second. A run first seen at one
//      sample began, on average, halfway since the previous one; preemption
//      counts from there, hand-off and stall reports from the sample itself.
//   3. The same odd value seen for longer than the slice: it asks the worker
//      to preempt (preempt.h), again every slice while the run lasts (the
//      first signal may land where switching is unsafe).
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

class Monitor {
 public:
  explicit Monitor(Scheduler& scheduler);
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
    bool reported = false;
    Clock::time_point handed_off;  // step 4: when the worker was last asked
    bool wake_pending = false;     // step 4: wake the others at the next sample
  };
  void loop();
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
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace weft::sched
