// weft::CondVar: waits on a weft::Mutex, from a fiber, a thread or (with
// co_await) a coroutine. Like std::condition_variable_any, wait() unlocks the
// mutex while it waits and locks it again before returning, whatever ended
// the wait. Spurious returns do not happen, but use the predicate forms.
//
//   std::unique_lock lk(m);  cv.wait(m, [&] { return ready; });
//   co_await cv.async_wait(m);          // m locked before and after
#pragma once

#include <system_error>

#include "runtime/core/coroutine.h"
#include "runtime/sync/detail/wait.h"
#include "runtime/sync/detail/waiter.h"
#include "runtime/sync/mutex.h"

namespace weft {

class CondVar {
  struct Op {
    CondVar* cv;
    Mutex* m;
    bool released = false;  // enqueue() unlocked `m`: relock it after
    static constexpr core::WaitReason kReason = core::WaitReason::kCondition;
    static constexpr bool kMayRetry = false;
    sync::detail::Lock& lock() { return cv->lock_; }
    sync::detail::Try try_now(sync::detail::Waiter&) { return sync::detail::Try::kWait; }
    // Queued before the mutex is released, so a notify issued by whoever
    // takes the mutex next cannot be missed.
    void enqueue(sync::detail::Waiter& w) {
      cv->waiters_.push_back(&w);
      if (!released) m->unlock();
      released = true;
    }
    void dequeue(sync::detail::Waiter& w) { cv->waiters_.remove(&w); }
  };

 public:
  // `m` must be locked by the caller. Returns {} when notified, kTimedOut or
  // kCancelled otherwise; `m` is locked again in every case.
  void wait(Mutex& m) { (void)wait(m, kWaitForever); }
  [[nodiscard]] std::error_code wait(Mutex& m, const WaitOptions& options);
  template <class Pred>
  bool wait(Mutex& m, Pred pred, const WaitOptions& options = kWaitForever) {
    while (!pred()) {
      if (wait(m, options)) return pred();
    }
    return true;
  }

  // Coroutines: co_await cv.async_wait(m) (a Task, so it can relock `m`).
  core::Task<std::error_code> async_wait(Mutex& m);
  core::Task<std::error_code> async_wait(Mutex& m, WaitOptions options);

  void notify_one();
  void notify_all();

 private:
  sync::detail::Lock lock_;
  sync::detail::WaitList waiters_;
};

}  // namespace weft
