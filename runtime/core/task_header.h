// One task header for both kinds of task: a stackless coroutine (the header
// lives in its top-level frame's promise) and a stackful fiber (the header
// begins its FiberTask object).
//
// States, taught beside the Linux kernel's own (include/linux/sched.h):
//   Runnable  in a run queue, waiting for a worker   (TASK_RUNNING, queued)
//   Running   on a worker right now                  (TASK_RUNNING, current)
//   Blocked   waiting for an event; only a wake      (TASK_INTERRUPTIBLE)
//             makes it runnable again
//   Done      finished; the result is kept until     (EXIT_ZOMBIE)
//             the JoinHandle takes it or detaches
//
// Park / wake protocol (the one wake path):
//   1. A running task that is about to wait reads its wait token and gives a
//      Waker carrying (task, token) to whoever will end the wait.
//   2. It returns control to its worker with SuspendReason::kPark.
//   3. The worker calls transition_to_blocked(). If a wake already arrived
//      (step 4 saw Running), the NOTIFIED bit is set and the transition fails:
//      the worker requeues the task instead of blocking it. No lost wake-up.
//   4. A waker calls wake(token) from any thread. It succeeds only if the
//      token still matches, and bumps it, so each wait is ended exactly once:
//      a late timeout or a second notify for the same wait does nothing.
//      Blocked -> Runnable returns true and the waker hands the task to its
//      Executor::schedule(); Running -> Running|NOTIFIED returns false.
//
// One thread, no locked instructions: each read-modify-write of a state
// (wake, block, yield, spend a token) is a CAS, because a waker on another
// thread may race with it, except on the thread that holds its executor's
// task_state_bias() (detail/thread_bias.h). A one-worker scheduler grants it
// to its worker thread, whose updates are then a load and a store inside a
// bias section; the first update by any other thread revokes it for good
// (one membarrier), and every worker that is not the holder revokes it
// before it runs a task (its plain stores, below, must not race with the
// holder's load-then-store either).
//
// A fiber that has never run is Runnable|FRESH, and its joiner may run it in
// place of waiting (scheduler/join_in_place.h): it claims the task with
// transition_to_running_in_place(), which leaves its queue entry behind as
// STALE. Whichever worker next dequeues the task spends that entry instead
// of running it (transition_to_running() says kStaleEntry); if the task is
// made Runnable again first, that entry is its entry again (spend_stale_entry()
// by whoever would have queued it).
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include "runtime/core/detail/thread_bias.h"

namespace weft::core {

class TaskHeader;

// Something a task owns until it finishes (a stop-token registration made at
// spawn): deleted by the worker that finishes the task.
class TaskAttachment {
 public:
  virtual ~TaskAttachment() = default;
};

// Thrown inside a task cancelled by the runtime's shutdown (kCancel), and
// handed to whoever joins it. Catch it only to clean up, then rethrow.
class TaskCancelled : public std::exception {
 public:
  const char* what() const noexcept override { return "weft: task cancelled"; }
};

enum class TaskKind : uint8_t { kCoroutine, kFiber };
enum class TaskState : uint8_t { kRunnable, kRunning, kBlocked, kDone };

// What a worker that dequeued a task may do with it.
enum class Dequeued : uint8_t {
  kRun,         // it is Running now: run it
  kStaleEntry,  // a joiner ran it in place; this entry is spent (its reference dropped)
  kNotRunnable, // cannot happen for a queued task (tests only)
};

// Why a running task handed control back to its worker. kPreempt: the
// monitor took the CPU from a fiber that ran past its time slice
// (scheduler/preempt.h); it goes behind every other ready task.
enum class SuspendReason : uint8_t { kNone, kYield, kPark, kExit, kPreempt };

// What a blocked task waits for (for task dumps and the debugger).
enum class WaitReason : uint8_t { kNone, kJoin, kSleep, kIo, kMutex, kChannel, kCondition, kOther };

const char* to_string(TaskState state);
const char* to_string(TaskKind kind);
const char* to_string(WaitReason reason);

// What runs tasks. Implemented by the scheduler; the core calls only this.
class Executor {
 public:
  // `task` just became Runnable: put it where a worker will find it.
  virtual void schedule(TaskHeader* task) = 0;
  // A woken task's stale queue entry became its entry again instead
  // (scheduler/join_in_place.h, step 7): for the executor's count of them.
  virtual void count_stale_entry_reused() {}

  // Who may update this executor's task states with plain loads and stores
  // (the protocol above, "One thread, no locked instructions"). Every
  // thread that writes a task's state the plain way (a worker running it)
  // must hold this bias or have revoked it first.
  detail::ThreadBias& task_state_bias() { return task_state_bias_; }

 protected:
  ~Executor() = default;

 private:
  detail::ThreadBias task_state_bias_;
};

// What a task kind tells the header: how to free the task, and where its
// result slot keeps an exception. One static table per kind and result type
// (8 bytes in every task instead of two pointers).
struct TaskOps {
  void (*destroy)(TaskHeader*);
  std::exception_ptr* (*failure)(TaskHeader*);
};

// What few tasks need, allocated on first use so that a task without it
// (most of them) does not carry it in every frame: its name, what it owns
// until it finishes, and the timestamps a tracer fills in.
struct TaskExtras {
  std::string name;
  TaskAttachment* attachment = nullptr;  // owned; deleted when the task finishes
  uint64_t spawned_at_ns = 0;
  uint64_t last_run_at_ns = 0;
};

class TaskHeader {
 public:
  explicit TaskHeader(TaskKind kind) noexcept : kind_(kind) {}
  TaskHeader(const TaskHeader&) = delete;
  TaskHeader& operator=(const TaskHeader&) = delete;
  ~TaskHeader() {
    if (extras_ != nullptr) destroy_extras();
  }

  // ---- identity ----
  uint64_t id() const { return id_; }
  TaskKind kind() const { return kind_; }
  std::string_view name() const { return extras_ ? std::string_view(extras_->name) : std::string_view(); }
  void set_identity(uint64_t id, std::string_view name) {
    id_ = id;
    if (!name.empty()) extras().name = name;
  }
  // The task's extras, allocated on first use. Only before the task is
  // spawned, or by the task itself: nothing synchronises the allocation.
  TaskExtras& extras() {
    if (extras_ == nullptr) extras_ = new TaskExtras;
    return *extras_;
  }
  const TaskExtras* extras_if_any() const { return extras_; }
  // Owned until the task finishes (a stop-token registration made at spawn).
  void attach(TaskAttachment* a) { extras().attachment = a; }
  TaskAttachment* take_attachment() { return extras_ ? std::exchange(extras_->attachment, nullptr) : nullptr; }

  // ---- state transitions (see the protocol above) ----
  TaskState state() const { return static_cast<TaskState>(state_.load(std::memory_order_acquire) & kStateMask); }
  // A fiber starts FRESH: until it first runs, its joiner may claim it.
  void transition_to_runnable_from_spawn() {
    state_.store(uint64_t(TaskState::kRunnable) | (kind_ == TaskKind::kFiber ? kFresh : 0), std::memory_order_relaxed);
  }
  // Runnable -> Running, by the worker that dequeued it. Inline for the usual
  // case, a task that is neither fresh nor left stale by a joiner.
  Dequeued transition_to_running() {
    // acquire: pairs with the release that made the task Runnable (a wake or
    // a requeue), so the worker sees what the waker wrote.
    uint64_t cur = state_.load(std::memory_order_acquire);
    if ((cur & (kStateMask | kFresh | kStaleEntry)) != uint64_t(TaskState::kRunnable)) [[unlikely]]
      return transition_to_running_slow(cur);
    // Only the worker that dequeued the task writes a Runnable task's word
    // (a waker's transition_on_wake returns without writing, and a joiner
    // claims only FRESH tasks), so a load and a store suffice: no locked
    // instruction.
    state_.store(cur | uint64_t(TaskState::kRunning), std::memory_order_relaxed);
    return Dequeued::kRun;
  }
  // Runnable|FRESH -> Running|STALE, by the task's joiner, which then runs it
  // in place (scheduler/join_in_place.h). False: it has started already.
  bool transition_to_running_in_place();
  // Clears STALE and drops the reference the stale entry held: true if there
  // was one. The caller then discards that entry (shutdown, a ring
  // overflow) or, for a task it has just made Runnable, keeps it as the
  // task's entry instead of queueing the task again. The task may be gone
  // on return only if the caller holds no reference of its own.
  bool spend_stale_entry() {
    // Most tasks never have a stale entry: a load says so without an update.
    return (state_.load(std::memory_order_acquire) & kStaleEntry) && spend_stale_entry_slow();
  }
  bool transition_to_blocked();            // Running -> Blocked; false: woken already, now Runnable
  void transition_to_runnable();           // Running -> Runnable (yield)
  // Running -> Done. A store, not a CAS: only the worker running the task
  // makes this transition, and a waker racing with it can only set NOTIFIED
  // or bump the token of a Running task, both meaningless once it is Done
  // (every wake of a Done task does nothing, whatever its token). A waker
  // whose CAS loses to this store reloads, sees Done and gives up. Saves a
  // locked instruction per task.
  void transition_to_done() {
    // release: pairs with state()'s acquire in dumps; the result itself is
    // published through the join slot.
    uint64_t cur = state_.load(std::memory_order_relaxed);
    state_.store((cur & ~(kStateMask | kNotified)) | uint64_t(TaskState::kDone), std::memory_order_release);
  }
  void transition_to_running_for_cancel();  // any -> Running: shutdown(kCancel) only
  uint32_t wait_token() const { return uint32_t(state_.load(std::memory_order_acquire) >> kTokenShift); }
  // Ends the wait `token` from any thread; schedules the task if it was Blocked.
  void wake(uint32_t token);
  // Cancels the task from any thread: sets cancel_requested, then ends its
  // current wait. Every weft wait checks the flag before it parks (with
  // seq_cst, pairing with the seq_cst store and token load here), so the
  // cancel cannot fall between a check and a park.
  void request_cancel();
  // The running task ends its own wait `token` without a wake (it timed out
  // or gave up before parking), so a Waker still out for it does nothing.
  void spend_token(uint32_t token);

  // ---- references: one shared by the scheduler and the JoinHandle (join.h, step 6), one per owning Waker ----
  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref() {
    // The only reference left needs no locked instruction: nobody can take a
    // new one without holding one already (an owning Waker is cloned from
    // another, and a borrowed Waker becomes an owning one only while its
    // task waits, which a task on its last reference, done and joined, never
    // does). acquire: pairs with the other owners' release decrements, so
    // their writes to the task happen before its destruction. Typically the
    // joiner's unref of a finished task: one atomic operation fewer per
    // spawn + join.
    if (refs_.load(std::memory_order_acquire) == 1) return ops_->destroy(this);
    unref_shared();
  }
  void init_refs(uint32_t n) { refs_.store(n, std::memory_order_relaxed); }

  // ---- join slot (see join.h for the protocol) ----
  std::atomic<uintptr_t>& join_slot() { return join_slot_; }
  // The result slot's exception (set by the task, or by shutdown's cancel).
  std::exception_ptr* failure() { return ops_->failure(this); }

  // Where the task kind keeps its result, as an offset from the header: a
  // JoinHandle is then one pointer (half the bytes in a vector of a million
  // handles, and it moves without a 16-byte reload of two 8-byte stores).
  template <class Slot>
  Slot* result_slot() {
    return reinterpret_cast<Slot*>(reinterpret_cast<char*>(this) + result_offset_);
  }

  // ---- fields owned by the scheduler and the task kinds ----
  // Laid out so that the small fields fill whole 8-byte words (96 bytes in
  // all, task_header.cc checks): a million live tasks cost their frames'
  // bytes in fresh pages (README, "Memory on this VM").
  TaskHeader* queue_next = nullptr;       // intrusive link: one queue at a time
  Executor* executor = nullptr;
  std::coroutine_handle<> resume_point;   // coroutines: where the task resumes
  SuspendReason suspend_reason = SuspendReason::kNone;
  WaitReason wait_reason = WaitReason::kNone;
  bool pinned = false;                    // never migrates off home_worker
  bool registered = false;  // in the scheduler's registry (from its first park)
  // What an exception nobody will join does (Config::on_detached_failure).
  // Kept here, not asked of the executor: a JoinHandle may outlive its runtime.
  bool terminate_on_unjoined_failure = false;
  // Coroutines' cooperative budget: weft operations that completed without
  // suspending, left before the next one yields anyway (Tokio's budget).
  // Reset by the worker each time the task is run.
  uint8_t budget = kBudget;
  static constexpr uint8_t kBudget = 128;
  uint16_t home_worker = 0;
  uint16_t last_worker = 0;
  uint16_t registry_shard = 0;
  // NoPreempt guards the task holds (and 1 for a fiber spawned with
  // SpawnOptions::preemptible = false): the monitor's signal may not take the
  // CPU from it. Per task, not per thread: a guard may be held across a park.
  uint16_t no_preempt = 0;
  std::atomic<bool> cancel_requested{false};  // shutdown(kCancel): blocking calls throw
  // Set by the monitor's signal handler when the task ran past its time slice
  // but was not at a safe point (or is a coroutine); its next weft call
  // yields. Atomic because a signal handler writes it.
  std::atomic<bool> preempt_requested{false};
  uint32_t registry_index = 0;  // the task's slot in its registry shard, while registered

 protected:
  const TaskOps* ops_ = nullptr;  // set by the task kind's constructor
  // For the task kind's constructor: `slot` lies within the task's object.
  void set_result_slot(const void* slot) {
    result_offset_ = uint16_t(reinterpret_cast<const char*>(slot) - reinterpret_cast<const char*>(this));
  }

 private:
  static constexpr uint64_t kStateMask = 0xff;
  static constexpr uint64_t kNotified = 0x100;
  static constexpr uint64_t kFresh = 0x200;       // a fiber that has never run
  static constexpr uint64_t kStaleEntry = 0x400;  // its queue entry was left behind by a run in place
  static constexpr int kTokenShift = 32;

  bool transition_on_wake(uint32_t token);
  // One read-modify-write of state_: `step(cur, next)` says whether to write
  // `next` given `cur`; returns whether it wrote. A CAS loop, or a load and
  // a store for the holder of the executor's bias (the protocol above).
  template <class Step>
  bool update_state(Step step);
  template <class Step>
  bool update_state_shared(Step step);
  Dequeued transition_to_running_slow(uint64_t cur);
  bool spend_stale_entry_slow();
  void destroy_extras();
  void unref_shared();

  std::atomic<uint64_t> state_{uint64_t(TaskState::kRunnable)};  // [token:32][flags:24][state:8]
  uint64_t id_ = 0;
  TaskExtras* extras_ = nullptr;  // owned; null until first needed
  // Last, next to a coroutine's result (PromiseBase puts it 16 bytes on): a
  // joiner reads the join slot, then the result offset, then the result,
  // and the three usually share one cache line.
  std::atomic<uintptr_t> join_slot_{0};
  TaskKind kind_;
  uint16_t result_offset_ = 0;     // set by the task kind's constructor
  std::atomic<uint32_t> refs_{1};
};

}  // namespace weft::core
