#include "scheduler/worker.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <utility>

#include "runtime/core/detail/sanitizers.h"
#include "runtime/core/frame_allocator.h"
#include "runtime/core/join.h"
#include "runtime/core/stack_overflow.h"
#include "runtime/core/thread_state.h"
#include "scheduler/join_in_place.h"
#include "scheduler/scheduler.h"

namespace weft::sched {

using core::TaskHeader;

namespace {
// Check the inject queue first every this many ticks, even when the local
// queue is busy, so that tasks there cannot starve (Go and Tokio use 61).
constexpr uint64_t kGlobalQueueInterval = 61;
// LIFO-slot runs before the slot yields to the queue, so a pair of tasks
// waking each other cannot starve the rest: every fourth task found in the
// slot goes to the back of the ring instead. Tokio counts only consecutive
// slot runs (its cap is 3 too); weft counts them all, which was measured:
// with Tokio's rule a task joining a batch of children it spawned went
// through the slot after every child (child from the ring, parent from the
// slot, never three in a row), so each join parked and woke, and batch
// spawn + join took 51 -> 82 ns per coroutine and 109 -> 181 ns per fiber
// (BM_*SpawnJoin, medians of 3, same session). Demoted every fourth time,
// the joiner falls behind the children still queued and finds them done.
constexpr uint32_t kMaxLifoPolls = 3;
}  // namespace

Worker::Worker(Scheduler& scheduler, uint32_t index, WorkerRole role, std::unique_ptr<Driver> driver)
    : scheduler_(scheduler),
      index_(index),
      role_(role),
      rng_(0x9e3779b9u * (index + 1)),
      driver_(std::move(driver)),
      removals_(scheduler.registry()) {}

void Worker::start(std::unique_ptr<Driver> driver) {
  if (driver) driver_ = std::move(driver);
  if (role_ == WorkerRole::kSpare) {
    wanted_.store(true, std::memory_order_relaxed);  // the thread start orders it
    thread_ = std::thread([this] { run_spare(); });
  } else {
    thread_ = std::thread([this] { run(); });
  }
}

void Worker::set_wanted(bool wanted) {
  if (wanted_.exchange(wanted, std::memory_order_acq_rel) == wanted) return;
  if (wanted) driver_->unpark();  // it rests in its driver
}

void Worker::request_signal(uint32_t requests, int signal) {
  signal_requests_.fetch_or(requests, std::memory_order_release);
  pthread_kill(thread_.native_handle(), signal);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

// The hot path, as a table of contents.
void Worker::run() {
  enter_thread();
  while (!scheduler_.is_shutdown()) {
    if (TaskHeader* t = next_task()) {
      run_task(t);
    } else if (fire_timers() || poll_io()) {
      continue;
    } else if (TaskHeader* stolen = steal_work()) {
      run_task(stolen);
    } else if (core::frame_allocator::refill_reserve()) {
      continue;  // idle time spent on the next frames' memory; look again
    } else if (!spin_for_work()) {
      park();
    }
  }
  leave_thread();
}

void Worker::enter_thread() {
  core::ensure_alternate_signal_stack();
  // Named for top -H, gdb's "info threads" and /proc (at most 15 bytes).
  char name[16];
  std::snprintf(name, sizeof(name), "weft-%s%u", role_ == WorkerRole::kSpare ? "spare" : "w", index_);
  pthread_setname_np(pthread_self(), name);
  tid_.store(static_cast<int>(::gettid()), std::memory_order_relaxed);
  ts_ = &core::this_thread();
  ts_->executor = &scheduler_;
  ts_->worker = this;
  ts_->scheduler_context = &context_;
  claim_task_state_bias();
  if (scheduler_.config().pin_workers) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
      uint32_t seen = 0;
      uint32_t want = index_ % static_cast<uint32_t>(CPU_COUNT(&allowed));
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        if (seen++ != want) continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
        break;
      }
    }
  }
}

// The sole regular worker updates task states without locked instructions
// until another thread touches one (task_header.h, "One thread, no locked
// instructions"); any other worker revokes that before it runs a task, as
// its own plain stores (transition_to_running(), transition_to_done())
// would race with the holder's.
void Worker::claim_task_state_bias() {
  core::detail::ThreadBias& bias = scheduler_.task_state_bias();
  if (role_ == WorkerRole::kRegular && scheduler_.num_workers() == 1 && bias.grant(core::detail::this_thread_id())) return;
  bias.revoke();
}

void Worker::leave_thread() {
  // Another thread may later be given this one's identity.
  scheduler_.task_state_bias().give_up(core::detail::this_thread_id());
  core::this_thread() = core::ThreadState{};
}

TaskHeader* Worker::next_task() {
  ++tick_;
  if (tick_ % kGlobalQueueInterval == 0) {
    fire_timers();  // so a busy worker's sleepers still wake on time
    poll_io();      // and its submissions are flushed, its completions seen
    // Fairness only: one task, so a busy local queue is not disturbed.
    if (TaskHeader* t = take_from_inject(/*max=*/1)) return t;
  }
  if (TaskHeader* t = take_lifo()) return t;
  // Alternate between the stealable queue and the pinned one, so neither
  // can starve the other.
  if (tick_ & 1) {
    if (TaskHeader* t = take_pinned()) return t;
  }
  // A spare's ring can always be stolen from (by other spares).
  if (TaskHeader* t = local_.pop(scheduler_.stealing_enabled() || role_ == WorkerRole::kSpare)) return t;
  if (TaskHeader* t = take_pinned()) return t;
  return take_from_inject(RunQueue::kCapacity / 2);
}

inline TaskHeader* Worker::take_lifo() {
  if (lifo_ == nullptr) return nullptr;
  TaskHeader* t = lifo_;
  lifo_ = nullptr;
  if (++lifo_polls_ <= kMaxLifoPolls) return t;
  lifo_polls_ = 0;
  // With nothing else queued here (the slot is empty now) the demotion
  // would come straight back: next_task() would pop `t` again. A pair
  // waking each other alone on a worker (a channel ping-pong) skips the
  // push and the pop.
  if (!has_local_work()) return t;
  local_.push(t, scheduler_.inject());  // back of the line
  return nullptr;
}

// Whether next_task()'s next tick is one that looks at timers, I/O and the
// inject queue first: in-place runs (a yield, the LIFO slot) leave it to
// next_task().
bool Worker::fairness_tick_next() const { return (tick_ + 1) % kGlobalQueueInterval == 0; }

TaskHeader* Worker::take_pinned() {
  if (remote_nonempty_.load(std::memory_order_acquire)) {  // pairs with push_remote's release
    std::lock_guard lock(remote_mu_);
    if (remote_head_ != nullptr) {
      if (pinned_tail_) {
        pinned_tail_->queue_next = remote_head_;
      } else {
        pinned_head_ = remote_head_;
      }
      pinned_tail_ = remote_tail_;
      remote_head_ = remote_tail_ = nullptr;
    }
    remote_nonempty_.store(false, std::memory_order_relaxed);
  }
  TaskHeader* t = pinned_head_;
  if (t == nullptr) return nullptr;
  pinned_head_ = t->queue_next;
  if (pinned_head_ == nullptr) pinned_tail_ = nullptr;
  t->queue_next = nullptr;
  return t;
}

TaskHeader* Worker::take_from_inject(std::size_t max) {
  InjectQueue& inject = scheduler_.inject();
  if (inject.is_empty()) return nullptr;
  // A fair share, no more than fits in the local ring: a batch that
  // overflowed the ring would go straight back to the inject queue.
  std::size_t want = inject.len() / scheduler_.num_workers() + 1;
  std::size_t room = RunQueue::kCapacity - local_.len() + 1;  // +1: the task we run now
  TaskHeader* batch[RunQueue::kCapacity / 2];
  want = std::min({want, max, room, std::size(batch)});
  std::size_t taken = inject.pop_batch(batch, want);
  if (taken == 0) return nullptr;
  for (std::size_t i = 1; i < taken; ++i) local_.push(batch[i], inject);
  return batch[0];
}

TaskHeader* Worker::steal_work() {
  if (!scheduler_.stealing_enabled() || !begin_search()) return nullptr;
  return steal_from_others();
}

TaskHeader* Worker::steal_from_others() {
  const uint32_t n = scheduler_.num_slots();
  const uint32_t start = static_cast<uint32_t>(rng_()) % n;  // random victim order
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t victim = (start + i) % n;
    if (victim == index_) continue;
    // With stealing off, a regular worker pops without a CAS: hands off.
    if (victim < scheduler_.num_workers() && !scheduler_.stealing_enabled()) continue;
    if (TaskHeader* t = scheduler_.worker(victim).stealer().steal_into(local_)) {
      scheduler_.emit(EventKind::kSteal, t, index_);
      return t;
    }
  }
  return take_from_inject(RunQueue::kCapacity / 2);
}

bool Worker::begin_search() {
  if (!searching_) searching_ = scheduler_.idle().transition_worker_to_searching();
  return searching_;
}

void Worker::end_search() {
  searching_ = false;
  // The last searcher found work: there may be more, so wake another worker
  // to keep looking (idle.h, step 2).
  if (scheduler_.idle().transition_worker_from_searching()) scheduler_.notify_parked();
}

// Runs `task`, then the task it woke into the LIFO slot for as long as
// next_task() would pick that one anyway: a pair waking each other (a
// channel ping-pong) goes round this loop, not round run()'s.
void Worker::run_task(TaskHeader* task) {
  do {
    run_one(task);
  } while ((task = next_from_lifo()) != nullptr);
}

// next_task()'s first choice on a tick that is not a fairness tick; nothing
// when shutdown has begun (run() sees it), nor for a spare, whose loop asks
// whether it is still wanted before each task.
TaskHeader* Worker::next_from_lifo() {
  if (lifo_ == nullptr || fairness_tick_next() || role_ == WorkerRole::kSpare || scheduler_.is_shutdown())
    return nullptr;
  ++tick_;
  return take_lifo();
}

void Worker::run_one(TaskHeader* task) {
  if (searching_) end_search();
  switch (task->transition_to_running()) {
    case core::Dequeued::kRun: break;
    case core::Dequeued::kStaleEntry: return local_.count_stale_spent();  // join_in_place.h, step 5
    case core::Dequeued::kNotRunnable: return;  // cannot happen: queued tasks are Runnable
  }
  begin_run(task);
  advance_run_seq(1);
  TaskHeader* stopped = resume(task);
  advance_run_seq(1);
  after_suspend(stopped);
}

// What every run starts with, from a queue or in place of a yield.
inline void Worker::begin_run(TaskHeader* task) {
  task->last_worker = static_cast<uint16_t>(index_);
  task->budget = core::TaskHeader::kBudget;
  // Whatever made it stop last time honoured any preempt request.
  if (task->preempt_requested.load(std::memory_order_relaxed))
    task->preempt_requested.store(false, std::memory_order_relaxed);
  scheduler_.emit(EventKind::kRun, task, index_);
}

// Odd while a task runs. Relaxed: the monitor only compares values over
// milliseconds (monitor.h).
void Worker::advance_run_seq(uint64_t by) {
  run_seq_.store(run_seq_.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

// Returns the task that handed the worker back its thread: not `task` when
// a fiber ran a child in place and either of them stopped in the other's
// code (join_in_place.h, steps 3-4).
TaskHeader* Worker::resume(TaskHeader* task) {
  ts_->task = task;
  task->suspend_reason = core::SuspendReason::kNone;
  if (task->kind() == core::TaskKind::kCoroutine) {
    task->resume_point.resume();
  } else {
    resume_fiber(static_cast<core::FiberBase*>(task));
  }
  return std::exchange(ts_->task, nullptr);
}

void Worker::resume_fiber(core::FiberBase* fiber) {
  if (!fiber->started()) {
    try {
      fiber->attach_stack(acquire_stack(*fiber));
    } catch (...) {
      *fiber->failure() = std::current_exception();  // e.g. ENOMEM: the joiner gets it
      fiber->suspend_reason = core::SuspendReason::kExit;
      return;
    }
  }
  core::switch_context(context_, fiber->context());
  // Only a stack's owner leaves it for good (a child run in place returns).
  auto* stopped = static_cast<core::FiberBase*>(ts_->task);
  if (stopped->suspend_reason == core::SuspendReason::kExit) {
    stopped->context().retire();
    release_stack(stopped->detach_stack());
  }
}

void Worker::after_suspend(TaskHeader* task) {
  switch (task->suspend_reason) {
    case core::SuspendReason::kYield:
      scheduler_.emit(EventKind::kYield, task, index_);
      task->transition_to_runnable();
      if (!reuse_stale_entry(task)) requeue(task, /*lifo=*/false);
      break;
    case core::SuspendReason::kPark:
      scheduler_.emit(EventKind::kPark, task, index_);
      // A blocked task is in no queue: the registry is how shutdown and task
      // dumps find it. Joined at the first park (most tasks never park), and
      // before the task can be seen Blocked and run elsewhere.
      if (!task->registered) {
        task->registered = true;
        scheduler_.registry().add(task, index_);
      }
      // A wake that came while it was still running: run it again.
      if (!task->transition_to_blocked() && !reuse_stale_entry(task)) requeue(task, /*lifo=*/true);
      break;
    case core::SuspendReason::kExit:
      finish(task);
      break;
    case core::SuspendReason::kPreempt:
      scheduler_.emit(EventKind::kPreempt, task, index_);
      task->transition_to_runnable();
      requeue_preempted(task);
      break;
    case core::SuspendReason::kNone:
      // A coroutine suspended on an awaitable that is not weft's: nobody will
      // resume it through the scheduler. Say so rather than lose it silently.
      core::report_unjoined_failure(
          task, std::make_exception_ptr(std::logic_error(
                    "weft: a coroutine task suspended on a non-weft awaitable; it will never be resumed")));
      task->transition_to_blocked();
      break;
  }
}

void Worker::requeue(TaskHeader* task, bool lifo) {
  if (task->pinned || scheduler_.config().force_migration) {
    scheduler_.schedule(task);
  } else {
    schedule_local(task, lifo);
  }
}

// Behind every other ready task (preempt.h, step 4): the global queue, or
// for a pinned fiber the tail of its queue here.
void Worker::requeue_preempted(TaskHeader* task) {
  scheduler_.count_preemption();
  // The kernel blocked the monitor signal while its handler ran, and the
  // handler switched here without returning: unblock it for this thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, scheduler_.config().monitor_signal);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  // Timers and I/O first: what the hog kept waiting goes ahead of it.
  fire_timers();
  poll_io();
  if (reuse_stale_entry(task)) return;
  if (core::kTsan) {
    // ThreadSanitizer calls signal handlers from its own code, which keeps
    // the thread's errno address across the call: a fiber that left the
    // handler on another thread would make it write the wrong thread's
    // errno. Under TSan a preempted fiber resumes on its own worker.
    push_remote(task);
  } else if (scheduler_.config().force_migration) {
    scheduler_.schedule(task);
  } else if (task->pinned) {
    schedule_local(task, /*lifo=*/false);  // the tail of its pinned queue here
  } else {
    scheduler_.inject().push(task);
    if (scheduler_.num_workers() > 1) scheduler_.notify_parked();
  }
}

// join_in_place.h, step 7: a task made Runnable again while a joiner's stale
// entry for it is still queued goes back to that entry, so that it is never
// in two queues (the inject queue and the pinned lists link tasks through
// their one queue_next).
bool Worker::reuse_stale_entry(TaskHeader* task) {
  if (!task->spend_stale_entry()) return false;
  local_.count_stale_spent();
  return true;
}

void Worker::finish(TaskHeader* task) {
  scheduler_.emit(EventKind::kExit, task, index_);
  if (task->registered) removals_.remove(task);
  scheduler_.finish_task(task, this);
}

void Worker::drain_for_shutdown(std::vector<TaskHeader*>& out) {
  if (lifo_) out.push_back(std::exchange(lifo_, nullptr));
  while (TaskHeader* t = local_.pop()) out.push_back(t);
  while (TaskHeader* t = take_pinned()) out.push_back(t);
  for (const core::Stack& s : stack_cache_) scheduler_.stacks().release(s);
  stack_cache_.clear();
}

// Twice the size the fiber is promised, so that it can run a child in place
// (join_in_place.h, step 1); the kernel commits only the pages touched.
core::Stack Worker::acquire_stack(const core::FiberBase& fiber) {
  const std::size_t size = kStackMappedPerPromised * fiber.requested_stack_size;
  if (size == scheduler_.stacks().default_size() && !stack_cache_.empty()) {
    core::Stack s = stack_cache_.back();
    stack_cache_.pop_back();
    return s;
  }
  return scheduler_.stacks().acquire(size);
}

void Worker::release_stack(core::Stack stack) {
  constexpr std::size_t kMaxCached = 16;
  if (stack.size == scheduler_.stacks().default_size() && stack_cache_.size() < kMaxCached) {
    core::StackPool::prepare_for_reuse(stack);
    stack_cache_.push_back(stack);
    return;
  }
  scheduler_.stacks().release(stack);
}

void Worker::hand_off_from_signal() {
  if (in_queue_op_) return;
  if (!scheduler_.stealing_enabled()) {
    // Nobody steals from this ring (its pops skip the CAS), so it is ours to
    // empty: the interrupted task is not in a queue operation.
    move_local_to_inject(/*stealers_possible=*/false);
    return;
  }
  if (lifo_ == nullptr || local_.len() >= RunQueue::kCapacity) return;  // full: no overflow here
  TaskHeader* t = std::exchange(lifo_, nullptr);
  local_.push(t, scheduler_.inject());
}

void Worker::schedule_local(TaskHeader* task, bool lifo) {
  QueueOpGuard guard(in_queue_op_);
  if (task->pinned && task->home_worker == index_) {
    task->queue_next = nullptr;
    if (pinned_tail_) {
      pinned_tail_->queue_next = task;
    } else {
      pinned_head_ = task;
    }
    pinned_tail_ = task;
    return;  // nobody else can run it: no need to wake anyone
  }
  if (lifo) {
    TaskHeader* prev = lifo_;
    lifo_ = task;
    // Nobody can steal the LIFO slot, so a worker woken for it alone would
    // find nothing: the running task is about to park and this worker runs
    // it next (Tokio notifies only when a displaced task reaches the ring).
    // If the running task keeps the worker instead, the monitor moves the
    // slot where others can take it and wakes one (monitor.h, step 4).
    if (prev == nullptr) return;
    task = prev;
  }
  const bool ring_was_empty = local_.push(task, scheduler_.inject()) == 0;
  if (should_notify_after_push(ring_was_empty)) scheduler_.notify_parked();
}

// Idle protocol step 4, amortized (idle.h): a push onto a ring that already
// held tasks skips the check, at most kNotifyEvery - 1 times in a row. The
// check's seq_cst fence drains the store buffer the new task's frame has
// just filled, and a worker spawning in a loop paid it on every spawn.
bool Worker::should_notify_after_push(bool ring_was_empty) {
  if (scheduler_.num_workers() == 1) return false;
  if (!ring_was_empty && ++pushes_unchecked_ < kNotifyEvery) return false;
  pushes_unchecked_ = 0;
  return true;
}

void Worker::push_remote(TaskHeader* task) {
  task->queue_next = nullptr;
  {
    std::lock_guard lock(remote_mu_);
    if (remote_tail_) {
      remote_tail_->queue_next = task;
    } else {
      remote_head_ = task;
    }
    remote_tail_ = task;
    remote_nonempty_.store(true, std::memory_order_release);  // pairs with take_pinned's acquire
  }
}

// yield.h. The same steps as after_suspend(kYield), requeue(), next_task()
// and run_task() with nothing else ready, without leaving the task.
bool Worker::yield_in_place(TaskHeader* task) {
  if (!may_yield_in_place(task)) return false;
  ++tick_;
  scheduler_.emit(EventKind::kYield, task, index_);
  begin_run(task);
  advance_run_seq(2);  // odd to odd: the monitor sees a new run
  return true;
}

bool Worker::may_yield_in_place(const TaskHeader* task) {
  if (fairness_tick_next()) return false;  // timers and I/O are due
  if (has_local_work() || !scheduler_.inject().is_empty()) return false;
  if (task->pinned || scheduler_.config().force_migration) return false;
  if (role_ == WorkerRole::kSpare && !wanted()) return false;  // it gives its tasks away
  return !scheduler_.is_shutdown();
}

bool Worker::may_run_in_place(const core::FiberBase& joiner, const core::FiberBase& child) const {
  // The frames between here and the child's own code, with room to spare.
  constexpr std::ptrdiff_t kSlack = 16 * 1024;
  if (child.executor != &scheduler_ || joiner.pinned || child.pinned) return false;
  if (std::uncaught_exceptions() != 0) return false;
  const auto* sp = static_cast<const char*>(__builtin_frame_address(0));
  const auto* lo = static_cast<const char*>(joiner.stack().lo);
  return sp - lo >= std::ptrdiff_t(child.requested_stack_size) + kSlack;
}

bool Worker::take_from_lifo_slot(const TaskHeader* task) {
  if (lifo_ != task) return false;
  QueueOpGuard guard(in_queue_op_);  // the hand-off handler also moves the slot
  if (lifo_ != task) return false;
  lifo_ = nullptr;
  return true;
}

// A count a little old only moves the moment the bound bites.
bool Worker::may_leave_stale_entry() {
  uint64_t balance = 0;
  for (uint32_t i = 0; i < scheduler_.num_slots(); ++i) balance += scheduler_.worker(i).stealer().stale_balance();
  return balance - scheduler_.stale_entries_reused() < kMaxStaleEntries;
}

// Steps 3-4. Once the child's code has run, the joiner may be on another
// worker: nothing here touches `this` after that.
void Worker::run_in_place(core::FiberBase& joiner, core::FiberBase& child) {
  Scheduler& scheduler = scheduler_;
  begin_run(&child);
  joiner.wait_reason = core::WaitReason::kJoin;
  ts_->task = &child;
  child.run_in_place_on(joiner);
  core::ThreadState& ts = core::this_thread();
  auto* here = static_cast<Worker*>(ts.worker);
  if (here != nullptr) {
    here->finish(&child);
  } else {
    scheduler.finish_task(&child, nullptr);  // shutdown cancelled it: as cancel_fiber finishes a fiber
  }
  ts.task = &joiner;
  joiner.wait_reason = core::WaitReason::kNone;
  if (here) joiner.last_worker = static_cast<uint16_t>(here->index_);
}

bool Worker::has_local_work() {
  return lifo_ != nullptr || !local_.empty() || pinned_head_ != nullptr ||
         remote_nonempty_.load(std::memory_order_acquire);
}

bool Worker::work_anywhere() {
  if (has_local_work() || !scheduler_.inject().is_empty() || driver_->notified()) return true;
  if (!scheduler_.stealing_enabled()) return false;
  for (uint32_t i = 0; i < scheduler_.num_slots(); ++i)
    if (i != index_ && !scheduler_.worker(i).stealer().is_empty()) return true;
  return false;
}

bool Worker::fire_timers() {
  if (timers_.empty()) return false;
  return timers_.fire_expired(TimerQueue::now_ns()) > 0;
}

bool Worker::poll_io() { return driver_->poll() > 0; }

bool Worker::spin_for_work() {
  const auto spin = scheduler_.config().spin_before_park;
  if (spin.count() <= 0 || !scheduler_.try_start_spinning()) return false;
  const auto until = std::chrono::steady_clock::now() + spin;
  bool found = false;
  do {
    if (work_anywhere() || scheduler_.is_shutdown()) {
      found = true;
      break;
    }
    for (int i = 0; i < 32; ++i) __builtin_ia32_pause();
  } while (std::chrono::steady_clock::now() < until);
  scheduler_.stop_spinning();
  return found;
}

void Worker::park() {
  if (has_local_work()) return;
  Idle& idle = scheduler_.idle();
  const bool was_last_searcher = idle.transition_worker_to_parked(index_, searching_);
  searching_ = false;
  // Work may have arrived between our last look and the registration, pushed
  // by someone who saw us awake and so woke nobody. The last searcher
  // re-checks for everyone (idle.h, step 3); with stealing off nobody
  // searches, so each worker re-checks for itself.
  if (was_last_searcher || !scheduler_.stealing_enabled()) scheduler_.notify_if_work_pending();
  scheduler_.emit(EventKind::kWorkerPark, nullptr, index_);
  scheduler_.monitor_gate().worker_parking();  // lets the monitor sleep too (monitor.h, step 6)
  while (!scheduler_.is_shutdown()) {
    if (has_local_work()) {
      // False: a notifier already took us off the sleeper list and counted us
      // as a searcher; act as one.
      searching_ = !idle.unpark_worker_by_id(index_);
      break;
    }
    driver_->park(timers_.next_deadline());
    fire_timers();  // woken sleepers land in our own queue: seen at the loop's top
    if (!idle.is_parked(index_)) {
      searching_ = true;  // woken by notify_parked (idle.h, step 5)
      break;
    }
  }
  scheduler_.monitor_gate().worker_unparked();  // before running anything the monitor must watch
  scheduler_.emit(EventKind::kWorkerUnpark, nullptr, index_);
}

// ---- spares (monitor.h, step 7) ----

// A spare's loop: the regular one, but it steals without joining Idle's
// searchers and, finding nothing, naps in its driver for a moment instead of
// registering as parked (nobody notifies a spare: it is wanted only while
// some worker is stuck, so it polls). Unwanted, it rests.
void Worker::run_spare() {
  enter_thread();
  scheduler_.monitor_gate().worker_unparked();  // the monitor watches what it runs
  const auto nap = std::chrono::nanoseconds(scheduler_.spare_nap()).count();
  while (!scheduler_.is_shutdown()) {
    if (!wanted()) {
      rest_as_spare();
    } else if (TaskHeader* t = next_task()) {
      run_task(t);
    } else if (fire_timers() || poll_io()) {
      continue;
    } else if (TaskHeader* stolen = steal_from_others()) {
      run_task(stolen);
    } else {
      driver_->park(std::min(timers_.next_deadline(), TimerQueue::now_ns() + nap));
    }
  }
  leave_thread();
}

// Until wanted again: what it queued or woke goes to the inject queue for
// the regular workers (an idle one exists, or it would still be wanted); it
// keeps firing its timers and completing its I/O, whose tasks go the same
// way. Under TSan a preempted fiber stays on its thread (push_remote), so
// that queue it still runs.
void Worker::rest_as_spare() {
  scheduler_.monitor_gate().worker_parking();
  scheduler_.emit(EventKind::kWorkerPark, nullptr, index_);
  while (!scheduler_.is_shutdown() && !wanted()) {
    give_away_local_work();
    if (TaskHeader* t = take_pinned()) {
      scheduler_.monitor_gate().worker_unparked();
      run_task(t);
      scheduler_.monitor_gate().worker_parking();
      continue;
    }
    driver_->park(timers_.next_deadline());
    fire_timers();
  }
  scheduler_.monitor_gate().worker_unparked();
  scheduler_.emit(EventKind::kWorkerUnpark, nullptr, index_);
}

void Worker::give_away_local_work() {
  if (move_local_to_inject(/*stealers_possible=*/true) > 0) scheduler_.notify_parked();
}

// One batch, one inject-queue push: safe in the kHandOff handler, which must
// not wake anyone (the monitor does that at its next sample).
std::size_t Worker::move_local_to_inject(bool stealers_possible) {
  TaskHeader* first = std::exchange(lifo_, nullptr);
  TaskHeader* last = first;
  std::size_t n = first != nullptr ? 1 : 0;
  while (TaskHeader* t = local_.pop(stealers_possible)) {
    if (last != nullptr) {  // push_batch ends the list at `last`
      last->queue_next = t;
    } else {
      first = t;
    }
    last = t;
    ++n;
  }
  if (first != nullptr) scheduler_.inject().push_batch(first, last, n);
  return n;
}

}  // namespace weft::sched
