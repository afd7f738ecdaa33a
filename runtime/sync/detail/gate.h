// A list of waiters released all at once when a condition becomes true:
// the shared core of Event, WaitGroup, Latch and Barrier. The condition is
// the owner's (read under the lock by `ready`); open_all() grants every
// waiter queued so far.
#pragma once

#include "runtime/sync/detail/wait.h"
#include "runtime/sync/detail/waiter.h"

namespace weft::sync::detail {

class Gate {
 public:
  SpinLock& lock() { return lock_; }
  void enqueue(Waiter& w) { waiters_.push_back(&w); }
  void dequeue(Waiter& w) { waiters_.remove(&w); }
  // Under lock(): moves every waiter's Waker to `wake` (woken after unlock).
  void open_all(WakeList& wake) {
    while (Waiter* w = waiters_.pop_front()) wake.add(w, Outcome::kGranted);
  }
  bool has_waiters() const { return !waiters_.empty(); }

 private:
  SpinLock lock_;
  WaitList waiters_;
};

// An Op over a Gate whose condition is `Ready{}(owner)`.
template <class Owner, bool (*Ready)(Owner&), core::WaitReason Reason>
struct GateOp {
  Owner* owner;
  Gate* gate;
  static constexpr core::WaitReason kReason = Reason;
  static constexpr bool kMayRetry = false;
  SpinLock& lock() { return gate->lock(); }
  Try try_now(Waiter&) { return Ready(*owner) ? Try::kDone : Try::kWait; }
  void enqueue(Waiter& w) { gate->enqueue(w); }
  void dequeue(Waiter& w) { gate->dequeue(w); }
};

}  // namespace weft::sync::detail
