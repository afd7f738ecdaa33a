// One worker thread: its run queues and its loop.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "runtime/core/context.h"
#include "runtime/core/fiber.h"
#include "runtime/core/stack.h"
#include "runtime/core/task_header.h"
#include "runtime/core/thread_state.h"
#include "scheduler/driver.h"
#include "scheduler/run_queue.h"
#include "scheduler/task_registry.h"
#include "scheduler/timer_queue.h"

namespace weft::sched {

class Scheduler;

// A regular worker runs for the runtime's whole life. A spare (Config::
// max_spare_workers) has no thread until the monitor first wants it, runs
// only while wanted, and otherwise rests: it gives away what it has queued
// and only fires its timers and completes its I/O (monitor.h, step 7).
enum class WorkerRole : uint8_t { kRegular, kSpare };

class Worker {
 public:
  // `driver` may be null for a spare: start() then takes one.
  Worker(Scheduler& scheduler, uint32_t index, WorkerRole role, std::unique_ptr<Driver> driver);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start(std::unique_ptr<Driver> driver = nullptr);
  void join();
  uint32_t index() const { return index_; }
  WorkerRole role() const { return role_; }
  // Has a thread (a spare before its first start has none). Written by the
  // monitor before the thread starts; read by others after joining it.
  bool started() const { return driver_ != nullptr; }

  // ---- spares: the monitor sets, the spare's own thread reads ----
  // release / acquire: pairs with run_spare()'s loads, so the spare sees the
  // driver and whatever the monitor saw before it asked.
  void set_wanted(bool wanted);
  bool wanted() const { return wanted_.load(std::memory_order_acquire); }
  // The worker thread's kernel id, 0 before it has started.
  int tid() const { return tid_.load(std::memory_order_relaxed); }

  // ---- owner thread only ----
  // A task that became runnable on this worker's thread. `lifo`: put it in
  // the LIFO slot (it was just woken by the running task: run it next).
  void schedule_local(core::TaskHeader* task, bool lifo);

  // ---- any thread ----
  // For tasks that must run on this worker (pinned, thread-per-core, forced
  // migration). The caller unparks the worker afterwards.
  void push_remote(core::TaskHeader* task);
  RunQueue::Steal stealer() { return queue_.steal(); }

  // ---- owner thread only (a task running on this worker) ----
  TimerQueue& timers() { return timers_; }
  // `task`, running here, yields: true if it may go on running instead,
  // nothing else being ready (yield.h).
  bool yield_in_place(core::TaskHeader* task);
  // join_in_place.h: whether `joiner`, running here, may run `child` in place
  // (step 1), and the run itself once it has claimed the child (steps 3-4).
  bool may_run_in_place(const core::FiberBase& joiner, const core::FiberBase& child) const;
  // Step 2: true if `task` was in this worker's LIFO slot, now taken out.
  bool take_from_lifo_slot(const core::TaskHeader* task);
  // Step 6: whether the runtime has room for one more stale entry, and
  // counting one made.
  bool may_leave_stale_entry();
  void count_stale_entry_made() { local_.count_stale_made(); }
  void run_in_place(core::FiberBase& joiner, core::FiberBase& child);
  Driver& driver() { return *driver_; }

  // ---- the monitor (monitor.h) ----
  // Odd while a task runs; bumped before and after each run.
  uint64_t run_seq() const { return run_seq_.load(std::memory_order_relaxed); }
  // Asks this worker's thread for `requests` (preempt.h's SignalRequest
  // bits) by sending it `signal`; its handler takes them.
  void request_signal(uint32_t requests, int signal);
  uint32_t take_signal_requests() { return signal_requests_.exchange(0, std::memory_order_acquire); }
  // The monitor signal's handler, on this worker's thread while a task has
  // run past Config::handoff_after (a blocking system call, say): moves the
  // LIFO slot's task into the ring, where other workers can steal it; with
  // stealing off (one regular worker) it moves the LIFO slot and the ring to
  // the inject queue, where spares take them. Not while the interrupted task
  // is itself queueing (in_queue_op_).
  void hand_off_from_signal();

  // ---- shutdown, after the thread has exited ----
  void drain_for_shutdown(std::vector<core::TaskHeader*>& out);
  void drop_timers() { timers_.clear(); }
  // Before shutdown reads the registry (task_registry.h, step 4).
  void flush_removals() { removals_.flush(); }
  void unpark() { driver_->unpark(); }

  // Owner thread: the next task id from this worker's block.
  uint64_t next_id_in_block = 0;
  uint64_t id_block_end = 0;

 private:
  void run();
  void run_spare();
  void rest_as_spare();
  void give_away_local_work();
  // The LIFO slot, then the ring, onto the inject queue; returns how many.
  std::size_t move_local_to_inject(bool stealers_possible);
  void enter_thread();
  void claim_task_state_bias();
  void leave_thread();
  core::TaskHeader* next_task();
  core::TaskHeader* steal_work();
  core::TaskHeader* steal_from_others();
  void run_task(core::TaskHeader* task);
  void run_one(core::TaskHeader* task);
  core::TaskHeader* next_from_lifo();
  void begin_run(core::TaskHeader* task);
  void advance_run_seq(uint64_t by);
  core::TaskHeader* resume(core::TaskHeader* task);
  void resume_fiber(core::FiberBase* fiber);
  void after_suspend(core::TaskHeader* task);
  void requeue(core::TaskHeader* task, bool lifo);
  bool should_notify_after_push(bool ring_was_empty);
  void requeue_preempted(core::TaskHeader* task);
  void finish(core::TaskHeader* task);
  bool reuse_stale_entry(core::TaskHeader* task);
  bool spin_for_work();
  void park();
  bool fire_timers();
  bool poll_io();

  core::Stack acquire_stack(const core::FiberBase& fiber);
  void release_stack(core::Stack stack);
  core::TaskHeader* take_lifo();
  bool fairness_tick_next() const;
  core::TaskHeader* take_pinned();
  core::TaskHeader* take_from_inject(std::size_t max);
  bool begin_search();
  void end_search();
  bool has_local_work();
  bool may_yield_in_place(const core::TaskHeader* task);
  bool work_anywhere();

  Scheduler& scheduler_;
  const uint32_t index_;
  const WorkerRole role_;
  std::atomic<bool> wanted_{false};  // spares only
  std::atomic<int> tid_{0};
  std::thread thread_;
  core::MachineContext context_;  // the worker thread's own stack, between tasks
  // This worker thread's runtime state. The worker's own stack never
  // migrates (only fibers do), so it may keep the address.
  core::ThreadState* ts_ = nullptr;
  RunQueue queue_;
  RunQueue::Local local_{queue_};
  core::TaskHeader* lifo_ = nullptr;
  uint32_t lifo_polls_ = 0;  // slot runs since the last demotion (kMaxLifoPolls)
  // Pushes onto a non-empty ring since the last wake-up check (idle.h, step 4).
  static constexpr uint32_t kNotifyEvery = 16;
  uint32_t pushes_unchecked_ = 0;
  // True while a running task is in schedule_local() on this thread: the
  // one owner operation on lifo_ and the ring a signal handler can interrupt
  // with a task running. Read only by that handler, on this thread.
  bool in_queue_op_ = false;
  // Raises in_queue_op_ for one operation. Signal fences: the handler
  // (hand_off_from_signal) runs on this thread between any two instructions
  // and must see the flag up before the operation starts, down after it ends.
  struct QueueOpGuard {
    explicit QueueOpGuard(bool& flag) : flag(flag) {
      flag = true;
      std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    ~QueueOpGuard() {
      std::atomic_signal_fence(std::memory_order_seq_cst);
      flag = false;
    }
    bool& flag;
  };
  uint64_t tick_ = 0;
  std::atomic<uint64_t> run_seq_{0};  // written by the owner, read by the monitor
  // release (request_signal) / acquire (take_signal_requests): the handler
  // sees what the monitor wrote before it sent the signal.
  std::atomic<uint32_t> signal_requests_{0};
  bool searching_ = false;
  std::minstd_rand rng_;
  // Tasks that may run only here: an owner-only FIFO, fed by the remote
  // queue that other threads push to.
  core::TaskHeader* pinned_head_ = nullptr;
  core::TaskHeader* pinned_tail_ = nullptr;
  std::mutex remote_mu_;
  core::TaskHeader* remote_head_ = nullptr;  // guarded by remote_mu_
  core::TaskHeader* remote_tail_ = nullptr;  // guarded by remote_mu_
  std::atomic<bool> remote_nonempty_{false};
  std::unique_ptr<Driver> driver_;  // parks, and polls I/O completions
  TimerQueue timers_;
  // A few warm stacks kept by this worker, in front of the pool's mutex.
  std::vector<core::Stack> stack_cache_;
  // Finished tasks' registry slots, freed in batches (task_registry.h).
  TaskRegistry::Removals removals_;
};

}  // namespace weft::sched
