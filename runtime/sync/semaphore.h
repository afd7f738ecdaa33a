// weft::Semaphore: a counting semaphore with FIFO hand-off: release() gives
// permits straight to the longest waiters, so none starves.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <system_error>

#include "runtime/sync/detail/wait.h"
#include "runtime/sync/detail/waiter.h"

namespace weft {

class Semaphore {
  struct Op {
    Semaphore* s;
    static constexpr core::WaitReason kReason = core::WaitReason::kCondition;
    static constexpr bool kMayRetry = false;
    sync::detail::Lock& lock() { return s->lock_; }
    sync::detail::Try try_now(sync::detail::Waiter&) {
      return s->try_take_locked() ? sync::detail::Try::kDone : sync::detail::Try::kWait;
    }
    void enqueue(sync::detail::Waiter& w) { s->waiters_.push_back(&w); }
    void dequeue(sync::detail::Waiter& w) { s->waiters_.remove(&w); }
  };

 public:
  using Awaiter = sync::detail::OpAwaiter<Op>;
  explicit Semaphore(int64_t permits) : permits_(permits) {
    if (permits < 0) throw std::invalid_argument("weft::Semaphore: negative permits");
  }
  Semaphore(const Semaphore&) = delete;

  bool try_acquire() {
    lock_.lock();
    bool ok = try_take_locked();
    lock_.unlock();
    return ok;
  }
  void acquire() { (void)acquire(kWaitForever); }
  [[nodiscard]] std::error_code acquire(const WaitOptions& options) {
    sync::detail::Waiter w;
    Op op{this};
    return sync::detail::block(op, w, options);
  }
  Awaiter async_acquire() { return Awaiter(Op{this}, kWaitForever); }
  Awaiter async_acquire(const WaitOptions& options) { return Awaiter(Op{this}, options); }

  void release(int64_t n = 1) {
    if (n < 0) throw std::invalid_argument("weft::Semaphore: negative release");
    sync::detail::WakeList wake;
    lock_.lock();
    permits_ += n;
    while (permits_ > 0 && !waiters_.empty()) {
      --permits_;
      wake.add(waiters_.pop_front(), sync::detail::Outcome::kGranted);
    }
    lock_.unlock();
  }
  int64_t available() {
    lock_.lock();
    int64_t n = permits_;
    lock_.unlock();
    return n;
  }

 private:
  // Under lock_. FIFO: a newcomer does not overtake queued waiters.
  bool try_take_locked() {
    if (permits_ <= 0 || !waiters_.empty()) return false;
    --permits_;
    return true;
  }

  sync::detail::Lock lock_;
  sync::detail::WaitList waiters_;
  int64_t permits_;  // guarded by lock_
};

}  // namespace weft
