#include "scheduler/scheduler.h"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/core/detail/futex.h"
#include "runtime/core/fiber.h"
#include "runtime/core/frame_allocator.h"
#include "runtime/core/join.h"
#include "runtime/core/stack_overflow.h"
#include "runtime/core/thread_state.h"
#include "scheduler/join_in_place.h"
#include "scheduler/worker.h"

namespace weft::sched {

using core::TaskHeader;

std::size_t default_worker_count() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  return 1;
}

namespace {
Config resolve(Config c) {
  if (c.workers == 0) c.workers = default_worker_count();
  if (c.workers > 4096) c.workers = 4096;
  // Spares take over stuck workers' queues by stealing, and the monitor's
  // hand-off is what notices a stuck worker.
  if (c.mode != SchedulingMode::kWorkStealing || c.handoff_after.count() <= 0) c.max_spare_workers = 0;
  if (c.max_spare_workers > 64) c.max_spare_workers = 64;
  return c;
}
}  // namespace

Scheduler::Scheduler(const Config& config, const DriverFactory& drivers)
    : config_(resolve(config)),
      drivers_(drivers),
      num_regular_(static_cast<uint32_t>(config_.workers)),
      monitor_gate_(static_cast<uint32_t>(config_.workers)),
      idle_(static_cast<uint32_t>(config_.workers)),
      stacks_(kStackMappedPerPromised * config_.stack_size, config_.stack_cache),  // Worker::acquire_stack
      registry_(config_.workers + config_.max_spare_workers + 1),
      live_(new LiveShard[config_.workers + config_.max_spare_workers + 1]) {
  core::install_stack_overflow_handler();
  max_spinners_ = static_cast<uint32_t>(std::max<std::size_t>(1, default_worker_count() / 2));
  const uint32_t slots = num_regular_ + static_cast<uint32_t>(config_.max_spare_workers);
  workers_.reserve(slots);
  for (uint32_t i = 0; i < slots; ++i) {
    if (i >= num_regular_) {  // a spare: its driver when it first starts
      workers_.push_back(std::make_unique<Worker>(*this, i, WorkerRole::kSpare, nullptr));
      continue;
    }
    workers_.push_back(std::make_unique<Worker>(*this, i, WorkerRole::kRegular, make_driver(i)));
  }
  for (uint32_t i = 0; i < num_regular_; ++i) workers_[i]->start();
  if (config_.stall_threshold.count() > 0 || config_.time_slice.count() > 0 || config_.handoff_after.count() > 0)
    monitor_ = std::make_unique<Monitor>(*this, monitor_gate_);
}

Scheduler::~Scheduler() { shutdown(); }

Worker* Scheduler::current_worker() {
  core::ThreadState& ts = core::this_thread();
  return ts.executor == this ? static_cast<Worker*>(ts.worker) : nullptr;
}

std::unique_ptr<Driver> Scheduler::make_driver(uint32_t worker) {
  std::unique_ptr<Driver> driver = drivers_ ? drivers_(worker) : nullptr;
  if (!driver) driver = std::make_unique<FutexDriver>();
  return driver;
}

void Scheduler::set_active_spares(uint32_t n) {
  n = std::min(n, max_spares());
  // Start or wake in order, so the active ones are always the first n.
  for (; active_spares_ < n; ++active_spares_) {
    Worker& spare = *workers_[num_regular_ + active_spares_];
    if (spare.started()) {
      spare.set_wanted(true);
    } else if (!start_spare(spare)) {
      return;
    }
  }
  for (; active_spares_ > n; --active_spares_) workers_[num_regular_ + active_spares_ - 1]->set_wanted(false);
}

bool Scheduler::start_spare(Worker& spare) {
  // Counted before the thread starts, whose start orders it before anything
  // the spare does: whoever sees a task the spare ran sees the count too.
  spares_started_.fetch_add(1, std::memory_order_relaxed);
  // Failing to start one (no memory, no threads left) leaves the runtime as
  // it would be without spares: said once, not fatal.
  try {
    spare.start(make_driver(spare.index()));
  } catch (const std::exception& e) {
    spares_started_.fetch_sub(1, std::memory_order_relaxed);
    static std::once_flag once;
    std::call_once(once, [&] { std::fprintf(stderr, "weft: cannot start a spare worker: %s\n", e.what()); });
    return false;
  }
  return true;
}

std::chrono::nanoseconds Scheduler::spare_nap() const {
  using namespace std::chrono;
  return std::clamp<nanoseconds>(config_.handoff_after, microseconds(100), milliseconds(1));
}

bool Scheduler::work_queued() {
  if (!inject_.is_empty()) return true;
  for (auto& w : workers_) {
    if (!w->stealer().is_empty()) return true;
  }
  return false;
}

void Scheduler::unpark_all() {
  for (auto& w : workers_) {
    if (w->started()) w->unpark();
  }
}

uint32_t Scheduler::home_for_spawn() {
  return next_home_.fetch_add(1, std::memory_order_relaxed) % num_workers();
}

// Inline: on every spawn (and add_live on every finish).
inline uint64_t Scheduler::take_id(Worker* here) {
  if (here == nullptr) return next_id_.fetch_add(1, std::memory_order_relaxed);
  if (here->next_id_in_block == here->id_block_end) {
    here->next_id_in_block = next_id_.fetch_add(kIdBlock, std::memory_order_relaxed);
    here->id_block_end = here->next_id_in_block + kIdBlock;
  }
  return here->next_id_in_block++;
}

inline void Scheduler::add_live(Worker* here, int64_t delta) {
  if (here == nullptr) {
    // Outside threads and the shutdown thread share the last shard.
    live_[num_slots()].n.fetch_add(delta, std::memory_order_release);
    return;
  }
  // A worker's shard is written only by that worker: a plain load and store,
  // no locked instruction. release: pairs with live_tasks()'s acquire loads.
  std::atomic<int64_t>& n = live_[here->index()].n;
  n.store(n.load(std::memory_order_relaxed) + delta, std::memory_order_release);
}

void Scheduler::spawn(TaskHeader* task, const SpawnOptions& options) {
  const bool placed = options.worker != SpawnOptions::kAnyWorker;
  if (placed && options.worker >= num_workers())
    throw std::invalid_argument(fmt::format("weft: SpawnOptions::worker {} but the runtime has {} workers",
                                            options.worker, num_workers()));
  Worker* here = current_worker();
  task->executor = this;
  task->set_identity(take_id(here), options.name);
  task->init_refs(1);  // shared by the scheduler and the JoinHandle (core/join.h, step 6)
  task->pinned = placed || options.pinned || config_.mode == SchedulingMode::kThreadPerCore;
  task->no_preempt = options.preemptible ? 0 : 1;
  task->terminate_on_unjoined_failure = config_.on_detached_failure == OnDetachedFailure::kTerminate;
  // A spare may stop at any time: a task spawned there belongs to a regular
  // worker (which matters when it is pinned).
  const bool here_regular = here != nullptr && here->role() == WorkerRole::kRegular;
  task->home_worker = static_cast<uint16_t>(placed ? options.worker : here_regular ? here->index() : home_for_spawn());
  task->last_worker = task->home_worker;
  if (task->kind() == core::TaskKind::kFiber) {
    auto* fiber = static_cast<core::FiberBase*>(task);
    if (fiber->requested_stack_size == 0) fiber->requested_stack_size = config_.stack_size;
  }
  add_live(here, +1);
  task->transition_to_runnable_from_spawn();
  emit(EventKind::kSpawn, task, here ? here->index() : UINT32_MAX);
  schedule_from(here, task);
}

void Scheduler::schedule(TaskHeader* task) {
  Worker* here = current_worker();
  // The usual wake first: from a worker, for a task free to run there. The
  // same outcome as schedule_from()'s third branch, taken before its
  // outside-wake bookkeeping: pingpong 1 measured 56.0 -> 52.7 ns with it.
  if (here != nullptr && !task->pinned && !config_.force_migration) return here->schedule_local(task, /*lifo=*/true);
  schedule_from(here, task);
}

inline void Scheduler::schedule_from(Worker* here, TaskHeader* task) {
  // A wake from outside the workers (a plain thread, a blocking-pool thread,
  // another runtime) may still be unparking a worker after the task it
  // pushed has run and been joined: shutdown waits for it (step 3).
  // acq_rel / release: pair with wait_for_outside_wakes()'s acquire.
  if (here == nullptr) outside_wakes_.fetch_add(1, std::memory_order_acq_rel);
  struct Done {
    std::atomic<uint32_t>* n;
    ~Done() {
      if (n) n->fetch_sub(1, std::memory_order_release);
    }
  } done{here == nullptr ? &outside_wakes_ : nullptr};
  if (config_.force_migration && num_workers() > 1) {
    push_to_worker((task->last_worker + 1u) % num_workers(), task);
  } else if (task->pinned && !(here && here->index() == task->home_worker)) {
    push_to_worker(task->home_worker, task);
  } else if (here != nullptr) {
    here->schedule_local(task, /*lifo=*/true);
  } else {
    inject_.push(task);
    notify_parked();
  }
}

void Scheduler::push_to_worker(uint32_t worker, TaskHeader* task) {
  Worker& w = *workers_[worker];
  w.push_remote(task);
  // Only the parker's token, not Idle's sleeper list: the worker takes itself
  // off that list when it sees its remote queue (idle.h, step 5).
  w.unpark();
}

bool Scheduler::try_start_spinning() {
  uint32_t n = spinners_.load(std::memory_order_relaxed);
  while (n < max_spinners_) {
    if (spinners_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void Scheduler::notify_parked() {
  if (auto w = idle_.worker_to_notify()) workers_[*w]->unpark();
}

void Scheduler::notify_if_work_pending() {
  if (work_queued()) notify_parked();
}

std::size_t Scheduler::live_tasks() const {
  int64_t sum = 0;
  for (uint32_t i = 0; i <= num_slots(); ++i) sum += live_[i].n.load(std::memory_order_acquire);
  return sum > 0 ? static_cast<std::size_t>(sum) : 0;
}

void Scheduler::finish_task(TaskHeader* task, Worker* here) {
  delete task->take_attachment();
  task->transition_to_done();
  // The task may be freed by its joiner once this returns, unless it says
  // the handle is gone and the shared reference is ours.
  if (core::complete_join(task)) task->unref();
  add_live(here, -1);
  if (waiting_for_tasks_.load(std::memory_order_seq_cst) && live_tasks() == 0) {
    drained_.fetch_add(1, std::memory_order_release);
    core::detail::futex_wake(&drained_, INT_MAX);
  }
}

void Scheduler::wait_for_outside_wakes() {
  while (outside_wakes_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void Scheduler::wait_for_tasks() {
  // seq_cst: either a finishing task sees the flag and adds the shards up, or
  // we see its decrement in our own sum. The timeout covers a sum read while
  // another shard was mid-update.
  waiting_for_tasks_.store(true, std::memory_order_seq_cst);
  for (;;) {
    uint32_t seen = drained_.load(std::memory_order_acquire);
    if (live_tasks() == 0) return;
    timespec tick{0, 10 * 1000 * 1000};
    core::detail::futex_wait(&drained_, seen, &tick);
  }
}

void Scheduler::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (current() == this) {
    std::fputs("weft: a Runtime was destroyed by one of its own tasks\n", stderr);
    std::abort();
  }
  if (config_.shutdown == ShutdownPolicy::kWait) wait_for_tasks();
  monitor_.reset();  // before the workers exit: it signals their threads
  shutdown_.store(true, std::memory_order_release);  // pairs with is_shutdown()'s acquire
  unpark_all();
  for (auto& w : workers_) w->join();
  for (auto& w : workers_) w->flush_removals();  // the registry is read next
  wait_for_outside_wakes();
  for (auto& w : workers_) {
    if (w->started()) w->driver().shutdown();
  }
  cancel_remaining();
  // Pending timers hold references to their tasks: drop them last, once
  // every task has been cancelled (a cancelled fiber cancels its own timer).
  for (auto& w : workers_) w->drop_timers();
  core::frame_allocator::release_reserve();  // what idle workers mapped ahead
}

void Scheduler::cancel_remaining() {
  core::ThreadState saved = core::this_thread();
  // Queued tasks are found in the queues, blocked ones in the registry.
  // Cancelling may wake or spawn more (into the inject queue): repeat.
  for (;;) {
    std::vector<TaskHeader*> left;
    for (auto& w : workers_) w->drain_for_shutdown(left);
    TaskHeader* batch[64];
    while (std::size_t n = inject_.pop_batch(batch, std::size(batch))) left.insert(left.end(), batch, batch + n);
    // First, entries that joiners left behind (join_in_place.h, step 5): the
    // task itself may be blocked and in the registry, found there.
    std::erase_if(left, [](TaskHeader* t) { return t->spend_stale_entry(); });
    for (TaskHeader* t : left) {
      if (t->registered) registry_.remove(t);
    }
    if (left.empty()) {
      if (TaskHeader* t = registry_.take_any()) left.push_back(t);
    }
    if (left.empty()) break;
    for (TaskHeader* t : left) cancel_task(t);
  }
  core::this_thread() = saved;
}

void Scheduler::cancel_task(TaskHeader* task) {
  // A task that has parked (it is, or was, in the registry) has started.
  const bool has_parked = task->registered;
  task->registered = false;
  auto* fiber = task->kind() == core::TaskKind::kFiber ? static_cast<core::FiberBase*>(task) : nullptr;
  task->cancel_requested.store(true, std::memory_order_relaxed);
  if (fiber != nullptr && fiber->started()) {
    cancel_fiber(task);
  } else if (fiber == nullptr && has_parked && cancel_coroutine(task)) {
    return;
  } else {
    *task->failure() = std::make_exception_ptr(core::TaskCancelled());
    task->transition_to_running_for_cancel();
    finish_task(task, nullptr);
  }
}

bool Scheduler::cancel_coroutine(TaskHeader* task) {
  // Resumed where it parked, with cancel_requested set: its awaiter takes
  // its Waiter off the primitive and throws TaskCancelled, and the frame
  // unwinds. Merely dropping our reference would not free it: a parked
  // coroutine's Waiter holds a reference to its own task.
  for (int attempt = 0; attempt < 8; ++attempt) {
    task->transition_to_running_for_cancel();
    core::this_thread() = core::ThreadState{task, nullptr, this, nullptr};
    task->suspend_reason = core::SuspendReason::kNone;
    task->resume_point.resume();
    core::this_thread().task = nullptr;
    if (task->suspend_reason == core::SuspendReason::kExit) {
      finish_task(task, nullptr);
      return true;
    }
  }
  return false;  // it keeps waiting: finish it the old way (its frame may leak)
}

void Scheduler::cancel_fiber(TaskHeader* task) {
  core::MachineContext here;
  // A fiber that catches TaskCancelled and blocks again is resumed again, a
  // few times; after that it is left as it is. The task that stops may not
  // be the one resumed: a child run in place that returns gives its stack
  // back to its joiner (join_in_place.h), which is cancelled in turn.
  for (int attempt = 0; attempt < 8; ++attempt) {
    task->cancel_requested.store(true, std::memory_order_relaxed);
    task->transition_to_running_for_cancel();
    core::ThreadState& ts = core::this_thread();
    ts = core::ThreadState{task, &here, this, nullptr};
    core::switch_context(here, static_cast<core::FiberBase*>(task)->context());
    task = std::exchange(core::this_thread().task, nullptr);
    if (task->suspend_reason == core::SuspendReason::kExit) {
      auto* fiber = static_cast<core::FiberBase*>(task);
      fiber->context().retire();
      stacks_.release(fiber->detach_stack());
      finish_task(task, nullptr);
      return;
    }
  }
  std::string line = fmt::format("weft: fiber {} \"{}\" ignored cancellation at shutdown; its stack is leaked\n",
                                 task->id(), task->name());
  std::fputs(line.c_str(), stderr);
}

}  // namespace weft::sched
