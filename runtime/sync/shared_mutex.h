// weft::SharedMutex: many readers or one writer. Writer-preferring: once a
// writer waits, new readers queue behind it, so writers do not starve. On
// unlock, a waiting writer gets the lock; otherwise every waiting reader does.
#pragma once

#include <cstdint>
#include <system_error>

#include "runtime/sync/detail/wait.h"
#include "runtime/sync/detail/waiter.h"

namespace weft {

class SharedMutex {
  struct Op {
    SharedMutex* m;
    bool shared;
    static constexpr core::WaitReason kReason = core::WaitReason::kMutex;
    static constexpr bool kMayRetry = false;
    sync::detail::Lock& lock() { return m->lock_; }
    sync::detail::Try try_now(sync::detail::Waiter&) {
      return m->try_take(shared) ? sync::detail::Try::kDone : sync::detail::Try::kWait;
    }
    void enqueue(sync::detail::Waiter& w) { (shared ? m->readers_q_ : m->writers_q_).push_back(&w); }
    void dequeue(sync::detail::Waiter& w) {
      (shared ? m->readers_q_ : m->writers_q_).remove(&w);
      m->grant_waiters();  // a writer that gave up may have held readers back
    }
  };

 public:
  using Awaiter = sync::detail::OpAwaiter<Op>;

  void lock() { (void)lock(kWaitForever); }
  [[nodiscard]] std::error_code lock(const WaitOptions& options) { return wait(false, options); }
  bool try_lock() { return try_now(false); }
  void unlock() { release(false); }

  void lock_shared() { (void)lock_shared(kWaitForever); }
  [[nodiscard]] std::error_code lock_shared(const WaitOptions& options) { return wait(true, options); }
  bool try_lock_shared() { return try_now(true); }
  void unlock_shared() { release(true); }

  Awaiter async_lock(const WaitOptions& options = kWaitForever) { return Awaiter(Op{this, false}, options); }
  Awaiter async_lock_shared(const WaitOptions& options = kWaitForever) { return Awaiter(Op{this, true}, options); }

 private:
  std::error_code wait(bool shared, const WaitOptions& options) {
    sync::detail::Waiter w;
    Op op{this, shared};
    return sync::detail::block(op, w, options);
  }
  bool try_now(bool shared) {
    lock_.lock();
    bool ok = try_take(shared);
    lock_.unlock();
    return ok;
  }
  // Under lock_.
  bool try_take(bool shared) {
    if (shared) {
      if (holders_ < 0 || !writers_q_.empty()) return false;
      ++holders_;
      return true;
    }
    if (holders_ != 0 || !writers_q_.empty()) return false;
    holders_ = -1;
    return true;
  }
  void release(bool shared) {
    lock_.lock();
    if (shared) {
      --holders_;
    } else {
      holders_ = 0;
    }
    grant_waiters();
    lock_.unlock();
  }
  // Under lock_; wakes under it (finish_under_lock).
  void grant_waiters() {
    if (holders_ == 0 && !writers_q_.empty()) {
      holders_ = -1;
      grant(writers_q_.pop_front());
      return;
    }
    if (holders_ >= 0 && writers_q_.empty()) {
      while (sync::detail::Waiter* r = readers_q_.pop_front()) {
        ++holders_;
        grant(r);
      }
    }
  }
  static void grant(sync::detail::Waiter* w) { sync::detail::finish_under_lock(w, sync::detail::Outcome::kGranted); }

  sync::detail::Lock lock_;
  sync::detail::WaitList readers_q_;
  sync::detail::WaitList writers_q_;
  int64_t holders_ = 0;  // readers holding it, or -1 for a writer; guarded by lock_
};

}  // namespace weft
