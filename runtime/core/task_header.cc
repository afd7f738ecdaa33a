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

template <class Step>
bool TaskHeader::update_state(Step step) {
  if (executor == nullptr) return update_state_shared(step);
  detail::ThreadBias& bias = executor->task_state_bias();
  if (bias.try_enter(detail::this_thread_id())) {
    // Nobody else writes the word while the bias holds (detail/
    // thread_bias.h, step 3), so a load and a store make the update.
    // Orders as the CAS's.
    uint64_t cur = state_.load(std::memory_order_acquire), next;
    bool write = step(cur, next);
    if (write) state_.store(next, std::memory_order_release);
    bias.leave();
    return write;
  }
  bias.revoke();  // one load once revoked (always, with more than one worker)
  return update_state_shared(step);
}

template <class Step>
bool TaskHeader::update_state_shared(Step step) {
  // acq_rel: each update both publishes what its thread wrote for the task
  // and sees what the previous writer published (the pairings are named at
  // each transition below).
  uint64_t cur = state_.load(std::memory_order_acquire), next;
  for (;;) {
    if (!step(cur, next)) return false;
    if (state_.compare_exchange_weak(cur, next, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
  }
}

// A fresh fiber (its joiner may claim it) or a stale entry.
Dequeued TaskHeader::transition_to_running_slow(uint64_t cur) {
  // acquire (here and in the inline part): also pairs with the joiner's
  // claim, so a stale entry's reference is seen taken.
  static_assert(uint64_t(TaskState::kRunnable) == 0 && uint64_t(TaskState::kRunning) == 1);
  for (;;) {
    if ((cur & kStaleEntry) && spend_stale_entry()) return Dequeued::kStaleEntry;  // a joiner ran it in place
    bool stale = false;
    Dequeued result = Dequeued::kNotRunnable;
    update_state([&](uint64_t c, uint64_t& next) {
      // A joiner's claim (STALE) may land between our load and the update:
      // then this entry is spent after all.
      stale = (c & kStaleEntry) != 0;
      if (stale || (c & kStateMask) != uint64_t(TaskState::kRunnable)) return false;
      // A fresh fiber's joiner may claim it at the same moment: the update
      // decides. Not fresh: a stale entry spent by someone else meanwhile.
      next = (c & ~kFresh) | uint64_t(TaskState::kRunning);
      result = Dequeued::kRun;
      return true;
    });
    if (!stale) return result;
    cur = state_.load(std::memory_order_acquire);
  }
}

bool TaskHeader::spend_stale_entry_slow() {
  if (!update_state([](uint64_t cur, uint64_t& next) {
        next = cur & ~kStaleEntry;
        return (cur & kStaleEntry) != 0;
      }))
    return false;
  unref();  // the entry's, taken by the joiner's claim
  return true;
}

bool TaskHeader::transition_to_running_in_place() {
  const uint64_t fresh = uint64_t(TaskState::kRunnable) | kFresh;
  // release publishes the reference the stale entry holds to whichever
  // worker spends it (transition_to_running()'s acquire); acquire pairs with
  // the spawn's publication of the task.
  return update_state([&](uint64_t cur, uint64_t& next) {
    next = (cur & ~kFresh) | uint64_t(TaskState::kRunning) | kStaleEntry;
    return (cur & (kStateMask | kFresh)) == fresh;
  });
}

bool TaskHeader::transition_to_blocked() {
  // release publishes the task's registration (its Waker) before a waker
  // can see Blocked; acquire pairs with a waker's release of NOTIFIED.
  bool blocked = false;
  update_state([&](uint64_t cur, uint64_t& next) {
    blocked = !(cur & kNotified);
    next = blocked ? (cur & ~kStateMask) | uint64_t(TaskState::kBlocked)
                   : (cur & ~(kStateMask | kNotified)) | uint64_t(TaskState::kRunnable);
    return true;
  });
  return blocked;
}

void TaskHeader::transition_to_runnable() {
  // Running -> Runnable clears the state bits (Runnable is 0) and NOTIFIED;
  // concurrent wakers only ever set NOTIFIED or bump the token. release:
  // pairs with transition_to_running()'s acquire on the next worker.
  update_state([](uint64_t cur, uint64_t& next) {
    next = cur & ~(kStateMask | kNotified);
    return true;
  });
}

void TaskHeader::transition_to_running_for_cancel() {
  update_state([](uint64_t cur, uint64_t& next) {
    next = (cur & ~(kStateMask | kNotified)) | uint64_t(TaskState::kRunning);
    return true;
  });
}

bool TaskHeader::transition_on_wake(uint32_t token) {
  bool was_blocked = false;
  // release: pairs with transition_to_running()/transition_to_blocked()'s
  // acquire, publishing whatever the waker wrote for the task (a result, a
  // channel value) before the task runs again.
  bool woke = update_state([&](uint64_t cur, uint64_t& next) {
    if (uint32_t(cur >> kTokenShift) != token) return false;  // stale: that wait is over
    uint64_t bumped = (cur & ((uint64_t(1) << kTokenShift) - 1)) | (uint64_t(token + 1) << kTokenShift);
    auto st = static_cast<TaskState>(cur & kStateMask);
    was_blocked = st == TaskState::kBlocked;
    if (was_blocked) {
      next = (bumped & ~kStateMask) | uint64_t(TaskState::kRunnable);
    } else if (st == TaskState::kRunning) {
      next = bumped | kNotified;  // worker sees it in transition_to_blocked()
    } else {
      return false;  // Runnable already, or Done
    }
    return true;
  });
  return woke && was_blocked;
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
  update_state([&](uint64_t cur, uint64_t& next) {
    next = (cur & ((uint64_t(1) << kTokenShift) - 1)) | (uint64_t(token + 1) << kTokenShift);
    return uint32_t(cur >> kTokenShift) == token;  // else a wake got there first
  });
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
