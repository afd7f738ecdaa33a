// weft::Barrier: `parties` tasks or threads meet; each arrive_and_wait()
// returns once all have arrived, then the barrier resets for the next phase.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <system_error>

#include "runtime/sync/detail/wait.h"
#include "runtime/sync/detail/waiter.h"

namespace weft {

class Barrier {
  struct Op {
    Barrier* b;
    static constexpr core::WaitReason kReason = core::WaitReason::kCondition;
    static constexpr bool kMayRetry = false;
    bool arrived = false;
    sync::detail::Lock& lock() { return b->lock_; }
    // Under the lock: the first call arrives; the last arrival opens the phase.
    sync::detail::Try try_now(sync::detail::Waiter&) {
      if (arrived) return sync::detail::Try::kWait;
      arrived = true;
      if (++b->arrived_ < b->parties_) return sync::detail::Try::kWait;
      b->arrived_ = 0;
      // Woken under the lock (safe: a woken party first takes this lock), so
      // no later phase can mix its waiters into this hand-off.
      while (sync::detail::Waiter* w = b->waiters_.pop_front())
        sync::detail::finish_under_lock(w, sync::detail::Outcome::kGranted);
      return sync::detail::Try::kDone;
    }
    void enqueue(sync::detail::Waiter& w) { b->waiters_.push_back(&w); }
    // A party that gives up (deadline, stop) no longer counts as arrived.
    void dequeue(sync::detail::Waiter& w) {
      b->waiters_.remove(&w);
      --b->arrived_;
    }
  };

 public:
  using Awaiter = sync::detail::OpAwaiter<Op>;
  explicit Barrier(int64_t parties) : parties_(parties) {
    if (parties <= 0) throw std::invalid_argument("weft::Barrier: parties must be positive");
  }
  Barrier(const Barrier&) = delete;

  void arrive_and_wait() { (void)arrive_and_wait(kWaitForever); }
  [[nodiscard]] std::error_code arrive_and_wait(const WaitOptions& options) {
    sync::detail::Waiter w;
    Op op{this};
    return sync::detail::block(op, w, options);
  }
  Awaiter async_arrive_and_wait() { return Awaiter(Op{this}, kWaitForever); }
  Awaiter async_arrive_and_wait(const WaitOptions& options) { return Awaiter(Op{this}, options); }

 private:
  sync::detail::Lock lock_;
  sync::detail::WaitList waiters_;
  int64_t parties_;
  int64_t arrived_ = 0;  // guarded by lock_
};

}  // namespace weft
