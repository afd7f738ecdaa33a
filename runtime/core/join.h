// The join slot: how a finished task hands its result to the one JoinHandle.
//
// Protocol (one atomic word per task, TaskHeader::join_slot()):
//   1. The joiner CASes the slot kEmpty -> &waiter, where `waiter` holds a
//      Waker for its current wait. If the slot is kDone there is no wait.
//   2. The joiner parks until its Waker fires; wakes are exactly-once, so when
//      it resumes the slot is kDone.
//   3. The finishing task (its worker) has stored the result, then exchanges
//      the slot to kDone with acq_rel: the release pairs with the joiner's
//      acquire load of kDone (the result is visible); the acquire pairs with
//      the joiner's CAS (the Waker is visible).
//   4. The old value decides: a waiter -> move its Waker out, then wake it
//      (never touch the waiter afterwards: it may be gone); kDetached -> report
//      an escaped exception; kEmpty -> nothing, the joiner will see kDone.
//   5. Detaching exchanges the slot to kDetached; if it was already kDone with
//      an exception, the detacher reports it.
//   6. The scheduler and the JoinHandle share one reference to the task: the
//      later of the two to let go drops it, and step 3's exchange or step 5's
//      says which one that is. After its exchange the finishing worker must
//      not touch the task unless the handle had detached (the joiner may free
//      it at once); a handle that joined, or detached after kDone, drops it.
//      One atomic decrement per task fewer than a reference each.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/core/task_header.h"
#include "runtime/core/waker.h"

namespace weft::core {

struct JoinWaiter {
  Waker waker;
  // Set by complete_join once it is done with this waiter (step 4), so a
  // joiner that stopped waiting knows when its frame may go away.
  std::atomic<bool> released{false};
};

namespace join_slot {
inline constexpr uintptr_t kEmpty = 0;
inline constexpr uintptr_t kDone = 1;
inline constexpr uintptr_t kDetached = 2;
}  // namespace join_slot

inline bool join_is_done(TaskHeader* t) {
  return t->join_slot().load(std::memory_order_acquire) == join_slot::kDone;
}

// Step 1. False if the task is already done (no need to wait).
inline bool register_joiner(TaskHeader* t, JoinWaiter* w) {
  uintptr_t expected = join_slot::kEmpty;
  return t->join_slot().compare_exchange_strong(expected, reinterpret_cast<uintptr_t>(w), std::memory_order_acq_rel,
                                                std::memory_order_acquire);
}

// Undoes step 1 for a joiner that gives up (its frame is being destroyed).
// False if the task finished meanwhile and the waker was taken.
inline bool unregister_joiner(TaskHeader* t, JoinWaiter* w) {
  uintptr_t expected = reinterpret_cast<uintptr_t>(w);
  return t->join_slot().compare_exchange_strong(expected, join_slot::kEmpty, std::memory_order_acq_rel);
}

// For a joiner that stops waiting (deadline, cancel, frame destroyed): true
// if it took the waiter back; false if the task finished and its worker
// took the Waker (this then waits the few instructions until it let go).
inline bool take_back_joiner(TaskHeader* t, JoinWaiter* w) {
  if (unregister_joiner(t, w)) return true;
  // acquire: pairs with complete_join's release store.
  while (!w->released.load(std::memory_order_acquire)) __builtin_ia32_pause();
  return false;
}

// Steps 3-4, by the worker that ran the task to completion. True: the
// handle is gone and the caller drops the shared reference (step 6).
[[nodiscard]] bool complete_join(TaskHeader* t);
// Step 5, by the JoinHandle that will not join. True: the task had finished
// and the caller drops the shared reference (step 6).
[[nodiscard]] bool detach_join(TaskHeader* t);
// Prints `weft: task <id> "<name>" failed and nobody will join it: <what>`
// (then terminates if the task's runtime says so). Cancelled tasks are quiet.
void report_unjoined_failure(TaskHeader* t, const std::exception_ptr& error);

}  // namespace weft::core
