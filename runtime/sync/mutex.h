// weft::Mutex: one lock for fibers, coroutines and plain threads at once.
//
//   m.lock(); ... m.unlock();                     // fiber or thread: blocks it
//   { auto g = m.guard(); ... }                   // the same, scoped
//   co_await m.async_lock(); ... m.unlock();      // coroutine: parks the task
//   auto ec = m.lock(weft::WaitOptions::after(5ms));   // {} or kTimedOut / kCancelled
//
// Protocol (state word: LOCKED | WAITERS; lists under the spin lock):
//   1. lock(): CAS 0 -> LOCKED. unlock(): CAS LOCKED -> 0. No waiter, no lock.
//   2. Slow lock, under the spin lock: take LOCKED if free, else set WAITERS
//      (in one CAS, so an unlock cannot slip between the check and the flag)
//      and enqueue.
//   3. Slow unlock (WAITERS was set), under the spin lock: pop the front
//      waiter. Normal mode: clear LOCKED and wake it to compete with newcomers
//      (throughput: the running task often takes the lock again in cache).
//      Starvation mode, like Go's: if that waiter has waited over 1 ms, or
//      cannot compete (a coroutine), keep LOCKED and hand the lock directly to
//      it. A woken competitor that loses goes back to the queue's front.
#pragma once

#include <atomic>
#include <cstdint>
#include <system_error>

#include "runtime/core/error.h"
#include "runtime/core/wait_options.h"
#include "runtime/sync/detail/wait.h"
#include "runtime/sync/detail/waiter.h"

namespace weft {

class Mutex {
  struct LockOp;

 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  bool try_lock() {
    uint32_t expected = 0;
    // acquire: pairs with unlock()'s release (the previous critical section).
    return state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void lock() {
    if (!try_lock()) (void)lock_slow(kWaitForever);
  }
  [[nodiscard]] std::error_code lock(const WaitOptions& options) {
    return try_lock() ? no_error() : lock_slow(options);
  }
  void unlock() {
    uint32_t expected = kLocked;
    if (!state_.compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed))
      unlock_slow();
  }

  class [[nodiscard]] Guard {
   public:
    explicit Guard(Mutex& m) : m_(&m) {}
    Guard(Guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    Guard(const Guard&) = delete;
    ~Guard() {
      if (m_) m_->unlock();
    }
    void unlock() { std::exchange(m_, nullptr)->unlock(); }

   private:
    Mutex* m_;
  };
  Guard guard() {
    lock();
    return Guard(*this);
  }

  // co_await m.async_lock(): std::error_code, never set without options.
  class LockAwaiter;
  LockAwaiter async_lock();
  LockAwaiter async_lock(const WaitOptions& options);

 private:
  friend struct LockOp;
  static constexpr uint32_t kLocked = 1;
  static constexpr uint32_t kWaiters = 2;
  static constexpr int64_t kStarvationNs = 1000000;  // 1 ms, as Go

  std::error_code lock_slow(const WaitOptions& options);
  void unlock_slow();
  bool try_lock_or_flag_waiters();

  std::atomic<uint32_t> state_{0};
  sync::detail::Lock lock_;
  sync::detail::WaitList waiters_;
};

struct Mutex::LockOp {
  Mutex* m;
  static constexpr core::WaitReason kReason = core::WaitReason::kMutex;
  static constexpr bool kMayRetry = true;
  sync::detail::Lock& lock() { return m->lock_; }
  sync::detail::Try try_now(sync::detail::Waiter&) {
    return m->try_lock_or_flag_waiters() ? sync::detail::Try::kDone : sync::detail::Try::kWait;
  }
  void enqueue(sync::detail::Waiter& w) {
    if (w.retrying) {
      m->waiters_.push_front(&w);
    } else {
      m->waiters_.push_back(&w);
    }
  }
  void dequeue(sync::detail::Waiter& w);
};

class Mutex::LockAwaiter : public sync::detail::OpAwaiter<LockOp> {
 public:
  using OpAwaiter::OpAwaiter;
  bool await_ready() { return op_.m->try_lock(); }
};

inline Mutex::LockAwaiter Mutex::async_lock() { return LockAwaiter(LockOp{this}, kWaitForever); }
inline Mutex::LockAwaiter Mutex::async_lock(const WaitOptions& options) { return LockAwaiter(LockOp{this}, options); }

}  // namespace weft
