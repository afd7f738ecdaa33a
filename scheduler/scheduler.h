// The M:N scheduler: N worker threads, each with a local run queue, a global
// inject queue, work-stealing between workers, and futex parking.
//
// Shutdown protocol:
//   1. kWait: raise waiting_for_tasks_, then wait until the per-worker live
//      counts sum to zero. While the flag is up, a finishing task adds them
//      up and futex-wakes the waiter at zero; the waiter also re-checks every
//      10 ms, in case it read one shard mid-update.
//   2. Set the shutdown flag (release; workers read it with acquire at the top
//      of their loop and in park) and unpark every worker.
//   3. Join the worker threads. No task runs after this point. Then wait for
//      wakes still in flight from outside threads (schedule() counts them):
//      such a wake may unpark a worker after its task was already joined.
//   4. kCancel: take every task still queued (drained from every queue) or
//      blocked (the registry, which a task joins at its first park). One that
//      never started is finished with TaskCancelled (dropping the scheduler's
//      reference destroys its frame once nobody holds its JoinHandle). A
//      started fiber, or a coroutine that has parked, is resumed on this
//      thread with cancel_requested set, so its wait throws TaskCancelled and
//      its stack or frame unwinds.
//   5. Queues are dropped; every stack returns to the pool, which unmaps it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/core/stack.h"
#include "runtime/core/task_header.h"
#include "runtime/core/thread_state.h"
#include "scheduler/config.h"
#include "scheduler/driver.h"
#include "scheduler/events.h"
#include "scheduler/idle.h"
#include "scheduler/inject_queue.h"
#include "scheduler/monitor.h"
#include "scheduler/spawn_options.h"
#include "scheduler/task_registry.h"

namespace weft::sched {

class Worker;

class Scheduler final : public core::Executor, public std::enable_shared_from_this<Scheduler> {
 public:
  // `drivers` makes each worker's Driver (an I/O reactor); none: futexes.
  explicit Scheduler(const Config& config, const DriverFactory& drivers = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // The scheduler whose worker (or task) is running on this thread, if any.
  static Scheduler* current() {
    // Only Scheduler implements core::Executor, so the downcast is exact.
    return static_cast<Scheduler*>(core::this_thread().executor);
  }

  // Takes one reference for the scheduler and one for the caller's handle.
  void spawn(core::TaskHeader* task, const SpawnOptions& options);
  void shutdown();

  // core::Executor: the one wake path ends here.
  void schedule(core::TaskHeader* task) override;
  void count_stale_entry_reused() override { stale_reused_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t stale_entries_reused() const { return stale_reused_.load(std::memory_order_relaxed); }

  // ---- for workers ----
  const Config& config() const { return config_; }
  // The regular workers, 0 .. num_workers()-1; spares follow them, up to
  // num_slots() (Config::max_spare_workers; a spare may have no thread yet).
  uint32_t num_workers() const { return num_regular_; }
  uint32_t num_slots() const { return static_cast<uint32_t>(workers_.size()); }
  Worker& worker(uint32_t i) { return *workers_[i]; }
  Worker* current_worker();
  InjectQueue& inject() { return inject_; }
  Idle& idle() { return idle_; }
  MonitorGate& monitor_gate() { return monitor_gate_; }
  core::StackPool& stacks() { return stacks_; }
  TaskRegistry& registry() { return registry_; }
  bool is_shutdown() const { return shutdown_.load(std::memory_order_acquire); }
  // Whether regular workers steal from each other (and their rings need the
  // CAS on pop). Not with one regular worker, spares or not: a spare takes a
  // lone worker's queue only through the inject queue (Worker::hand_off_from_signal).
  bool stealing_enabled() const { return config_.mode == SchedulingMode::kWorkStealing && num_regular_ > 1; }

  // ---- spares (monitor.h, step 7) ----
  uint32_t max_spares() const { return num_slots() - num_regular_; }
  // The monitor thread only: spares 0 .. n-1 run (each started on first
  // use), the rest rest; fewer run if one cannot start.
  void set_active_spares(uint32_t n);
  uint32_t active_spares() const { return active_spares_; }  // the monitor thread only
  // How long an active spare that found nothing naps before looking again.
  std::chrono::nanoseconds spare_nap() const;
  // Spare threads started so far (a spare starts once; tests, diagnostics).
  uint32_t spares_started() const { return spares_started_.load(std::memory_order_relaxed); }
  // Any task queued where a worker could steal or take it.
  bool work_queued();

  // At most half the CPUs (at least one) spin for work at once, as Go bounds
  // its spinning Ms: more spinners would take the CPU from the very worker
  // that has the work, when workers outnumber cores.
  bool try_start_spinning();
  void stop_spinning() { spinners_.fetch_sub(1, std::memory_order_relaxed); }

  void notify_parked();            // protocol step 4 of idle.h
  void notify_if_work_pending();   // protocol step 3 of idle.h
  void push_to_worker(uint32_t worker, core::TaskHeader* task);
  // Bookkeeping after a task ran to completion (or was cancelled). `here`:
  // the worker that ran it, or nullptr on the shutdown thread.
  void finish_task(core::TaskHeader* task, Worker* here);

  std::size_t live_tasks() const;
  // Fibers the monitor preempted (preempt.h), since the runtime started.
  uint64_t preemptions() const { return preemptions_.load(std::memory_order_relaxed); }
  void count_preemption() { preemptions_.fetch_add(1, std::memory_order_relaxed); }
  void set_event_sink(EventSink sink, void* context) {
    sink_context_ = context;
    sink_ = sink;
  }
  void emit(EventKind kind, const core::TaskHeader* task, uint32_t worker) const {
    if (sink_ != nullptr) [[unlikely]]
      sink_(sink_context_, Event{kind, worker, task ? task->id() : 0});
  }

 private:
  void wait_for_tasks();
  void wait_for_outside_wakes();
  void cancel_remaining();
  void cancel_task(core::TaskHeader* task);
  void cancel_fiber(core::TaskHeader* task);
  bool cancel_coroutine(core::TaskHeader* task);
  uint32_t home_for_spawn();

  // The factory's driver for this worker, or a FutexDriver without one.
  std::unique_ptr<Driver> make_driver(uint32_t worker);
  bool start_spare(Worker& spare);
  void unpark_all();

  const Config config_;
  const DriverFactory drivers_;
  const uint32_t num_regular_;
  std::vector<std::unique_ptr<Worker>> workers_;
  uint32_t active_spares_ = 0;  // the monitor thread's
  std::atomic<uint32_t> spares_started_{0};
  MonitorGate monitor_gate_;          // before monitor_: it outlives the monitor thread
  std::unique_ptr<Monitor> monitor_;  // none when stall_threshold, time_slice and handoff_after are all 0
  InjectQueue inject_;
  Idle idle_;
  core::StackPool stacks_;
  TaskRegistry registry_;
  // Task ids: workers take blocks of kIdBlock from here, outside spawns one.
  static constexpr uint64_t kIdBlock = 1024;
  std::atomic<uint64_t> next_id_{1};
  // Live tasks, counted per shard (one per worker, written only by it; the
  // last for outside threads) so spawns and exits on different workers share
  // no cache line; a shard may go negative, the sum is exact. Only while shutdown
  // waits do finishing tasks add the shards up, and wake it at zero.
  struct alignas(64) LiveShard {
    std::atomic<int64_t> n{0};
  };
  std::unique_ptr<LiveShard[]> live_;
  std::atomic<bool> waiting_for_tasks_{false};
  std::atomic<uint64_t> stale_reused_{0};  // by wakes (join_in_place.h, step 7)
  std::atomic<uint32_t> drained_{0};  // futex word for the shutdown waiter
  // schedule() for a caller that already knows its worker (null: not one).
  void schedule_from(Worker* here, core::TaskHeader* task);
  uint64_t take_id(Worker* here);
  void add_live(Worker* here, int64_t delta);
  std::atomic<uint32_t> next_home_{0};
  std::atomic<bool> shutdown_{false};
  std::atomic<uint32_t> outside_wakes_{0};
  std::atomic<uint32_t> spinners_{0};
  std::atomic<uint64_t> preemptions_{0};
  uint32_t max_spinners_ = 1;
  bool stopped_ = false;
  EventSink sink_ = nullptr;
  void* sink_context_ = nullptr;
};

std::size_t default_worker_count();

}  // namespace weft::sched
