#include "runtime/core/task_header.h"

namespace weft::core {

// Every spawned coroutine carries a header; a million live tasks pay for its
// bytes in fresh pages. Grow it only on purpose (rare fields go in TaskExtras).
static_assert(sizeof(TaskHeader) <= 96, "TaskHeader grew: move rarely used fields to TaskExtras");

const char* to_string(TaskState state) {
  switch (state) {
    case TaskState::kRunnable: return "runnable";
    case TaskState::kRunning: return "running";
    case TaskState::kBlocked: return "blocked";
    case TaskState::kDone: return "done";
  }
  return "?";
}

const char* to_string(TaskKind kind) { return kind == TaskKind::kFiber ? "fiber" : "coroutine"; }

const char* to_string(WaitReason reason) {
  switch (reason) {
    case WaitReason::kNone: return "none";
    case WaitReason::kJoin: return "join";
    case WaitReason::kSleep: return "sleep";
    case WaitReason::kIo: return "io";
    case WaitReason::kMutex: return "mutex";
    case WaitReason::kChannel: return "channel";
    case WaitReason::kCondition: return "condition";
    case WaitReason::kOther: return "other";
  }
  return "?";
}

// A fresh fiber (its joiner may claim it) or a stale entry.
Dequeued TaskHeader::transition_to_running_slow(uint64_t cur) {
  // acquire (here and in the inline part): also pairs with the joiner's
  // claim, so a stale entry's reference is seen taken.
  static_assert(uint64_t(TaskState::kRunnable) == 0 && uint64_t(TaskState::kRunning) == 1);
  for (;;) {
    if (cur & kStaleEntry) {
      // A joiner ran it in place: this entry is spent, not run.
      if (spend_stale_entry()) return Dequeued::kStaleEntry;
      cur = state_.load(std::memory_order_acquire);
      continue;
    }
    if ((cur & kStateMask) != uint64_t(TaskState::kRunnable)) return Dequeued::kNotRunnable;
    if (!(cur & kFresh)) {
      // A stale entry spent by someone else meanwhile: as in the inline part.
      state_.store(cur | uint64_t(TaskState::kRunning), std::memory_order_relaxed);
      return Dequeued::kRun;
    }
    // A fresh fiber's joiner may claim it at the same moment: a CAS decides.
    if (state_.compare_exchange_weak(cur, (cur & ~kFresh) | uint64_t(TaskState::kRunning), std::memory_order_acquire,
                                     std::memory_order_acquire))
      return Dequeued::kRun;
  }
}

bool TaskHeader::spend_stale_entry() {
  uint64_t cur = state_.load(std::memory_order_acquire);
  while (cur & kStaleEntry) {
    if (state_.compare_exchange_weak(cur, cur & ~kStaleEntry, std::memory_order_acq_rel, std::memory_order_acquire)) {
      unref();  // the entry's, taken by the joiner's claim
      return true;
    }
  }
  return false;
}

bool TaskHeader::transition_to_running_in_place() {
  uint64_t cur = state_.load(std::memory_order_relaxed);
  const uint64_t fresh = uint64_t(TaskState::kRunnable) | kFresh;
  for (;;) {
    if ((cur & (kStateMask | kFresh)) != fresh) return false;
    // acq_rel: acquire pairs with the spawn's publication of the task;
    // release publishes the reference the stale entry holds to whichever
    // worker spends it (transition_to_running()'s acquire).
    if (state_.compare_exchange_weak(cur, (cur & ~kFresh) | uint64_t(TaskState::kRunning) | kStaleEntry,
                                     std::memory_order_acq_rel, std::memory_order_relaxed))
      return true;
  }
}

bool TaskHeader::transition_to_blocked() {
  // acq_rel: release publishes the task's registration (its Waker) before a
  // waker can see Blocked; acquire pairs with a waker's release of NOTIFIED.
  uint64_t cur = state_.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t next;
    bool blocked = !(cur & kNotified);
    if (blocked) {
      next = (cur & ~kStateMask) | uint64_t(TaskState::kBlocked);
    } else {
      next = (cur & ~(kStateMask | kNotified)) | uint64_t(TaskState::kRunnable);
    }
    if (state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel, std::memory_order_relaxed)) return blocked;
  }
}

void TaskHeader::transition_to_runnable() {
  // Running -> Runnable clears the state bits (Runnable is 0) and NOTIFIED in
  // one AND; concurrent wakers only ever set NOTIFIED or bump the token.
  // release: pairs with transition_to_running()'s acquire on the next worker.
  state_.fetch_and(~(kStateMask | kNotified), std::memory_order_release);
}

void TaskHeader::transition_to_running_for_cancel() {
  uint64_t cur = state_.load(std::memory_order_relaxed);
  while (!state_.compare_exchange_weak(cur, (cur & ~(kStateMask | kNotified)) | uint64_t(TaskState::kRunning),
                                       std::memory_order_acq_rel, std::memory_order_relaxed)) {
  }
}

bool TaskHeader::transition_on_wake(uint32_t token) {
  uint64_t cur = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (uint32_t(cur >> kTokenShift) != token) return false;  // stale: that wait is over
    uint64_t bumped = (cur & ((uint64_t(1) << kTokenShift) - 1)) | (uint64_t(token + 1) << kTokenShift);
    auto st = static_cast<TaskState>(cur & kStateMask);
    uint64_t next;
    if (st == TaskState::kBlocked) {
      next = (bumped & ~kStateMask) | uint64_t(TaskState::kRunnable);
    } else if (st == TaskState::kRunning) {
      next = bumped | kNotified;  // worker sees it in transition_to_blocked()
    } else {
      return false;  // Runnable already, or Done
    }
    // release: pairs with transition_to_running()/transition_to_blocked()'s
    // acquire, publishing whatever the waker wrote for the task (a result, a
    // channel value) before the task runs again.
    if (state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel, std::memory_order_relaxed))
      return st == TaskState::kBlocked;
  }
}

void TaskHeader::wake(uint32_t token) {
  if (!transition_on_wake(token)) return;
  // A task with a stale entry still queued is queued already: that entry is
  // its entry again (scheduler/join_in_place.h, step 7).
  Executor* ex = executor;  // read first: spending drops a reference (though the JoinHandle holds one)
  if (spend_stale_entry()) return ex->count_stale_entry_reused();
  ex->schedule(this);
}

void TaskHeader::request_cancel() {
  cancel_requested.store(true, std::memory_order_seq_cst);
  wake(uint32_t(state_.load(std::memory_order_seq_cst) >> kTokenShift));
}

void TaskHeader::spend_token(uint32_t token) {
  uint64_t cur = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (uint32_t(cur >> kTokenShift) != token) return;  // a wake got there first
    uint64_t next = (cur & ((uint64_t(1) << kTokenShift) - 1)) | (uint64_t(token + 1) << kTokenShift);
    if (state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel, std::memory_order_relaxed)) return;
  }
}

void TaskHeader::destroy_extras() {
  delete extras_->attachment;  // a task destroyed before it finished
  delete extras_;
}

void TaskHeader::unref_shared() {
  // acq_rel: the last owner must see every other owner's writes before it
  // destroys the task.
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) ops_->destroy(this);
}

}  // namespace weft::core
