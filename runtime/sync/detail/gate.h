// A list of waiters released all at once when a condition becomes true:
// the shared core of Event, WaitGroup, Latch and Barrier. The condition is
// the owner's (read under the lock by `ready`); open_all() grants every
// waiter queued so far.
#pragma once

#include <system_error>

#include "runtime/core/wait_options.h"
#include "runtime/sync/detail/wait.h"
#include "runtime/sync/detail/waiter.h"

namespace weft::sync::detail {

class Gate {
 public:
  Lock& lock() { return lock_; }
  void enqueue(Waiter& w) { waiters_.push_back(&w); }
  void dequeue(Waiter& w) { waiters_.remove(&w); }
  // Under lock(): moves every waiter's Waker to `wake` (woken after unlock).
  void open_all(WakeList& wake) {
    while (Waiter* w = waiters_.pop_front()) wake.add(w, Outcome::kGranted);
  }
  bool has_waiters() const { return !waiters_.empty(); }

 private:
  Lock lock_;
  WaitList waiters_;
};

// An Op over a Gate whose condition is `owner->ready()`.
template <class Owner>
struct GateOp {
  const Owner* owner;
  Gate* gate;
  static constexpr core::WaitReason kReason = core::WaitReason::kCondition;
  static constexpr bool kMayRetry = false;
  Lock& lock() { return gate->lock(); }
  Try try_now(Waiter&) { return owner->ready() ? Try::kDone : Try::kWait; }
  void enqueue(Waiter& w) { gate->enqueue(w); }
  void dequeue(Waiter& w) { gate->dequeue(w); }
};

// The waiting half of a gated primitive (CRTP): Owner provides a public
// `bool ready() const` (acquire), and calls open() once it becomes true.
template <class Owner>
class GateWaits {
  using Op = GateOp<Owner>;

 public:
  using Awaiter = OpAwaiter<Op>;

  void wait() { (void)wait(kWaitForever); }
  [[nodiscard]] std::error_code wait(const WaitOptions& options) {
    if (owner()->ready()) return {};
    Waiter w;
    Op op{owner(), &gate_};
    return block(op, w, options);
  }
  Awaiter async_wait() { return Awaiter(Op{owner(), &gate_}, kWaitForever); }
  Awaiter async_wait(const WaitOptions& options) { return Awaiter(Op{owner(), &gate_}, options); }

 protected:
  // Releases everyone waiting, if the condition (re-read under the lock, so
  // a concurrent reset or re-add is respected) holds.
  void open() {
    WakeList wake;
    gate_.lock().lock();
    if (owner()->ready()) gate_.open_all(wake);
    gate_.lock().unlock();
  }
  Gate& gate() { return gate_; }

 private:
  const Owner* owner() const { return static_cast<const Owner*>(this); }
  Gate gate_;
};

}  // namespace weft::sync::detail
