#include "runtime/sync/mutex.h"

#include "scheduler/timer_queue.h"

namespace weft {

using sync::detail::Outcome;
using sync::detail::Waiter;

bool Mutex::try_lock_or_flag_waiters() {
  // Protocol step 2, under lock_.
  uint32_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (!(s & kLocked)) {
      if (state_.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire, std::memory_order_relaxed))
        return true;
    } else if (s & kWaiters) {
      return false;
    } else if (state_.compare_exchange_weak(s, s | kWaiters, std::memory_order_relaxed)) {
      return false;
    }
  }
}

std::error_code Mutex::lock_slow(const WaitOptions& options) {
  // A short spin first: critical sections are usually shorter than a park.
  for (int i = 0; i < 64; ++i) {
    if ((state_.load(std::memory_order_relaxed) & kLocked) == 0 && try_lock()) return {};
    __builtin_ia32_pause();
  }
  Waiter w;
  w.since_ns = sched::TimerQueue::now_ns();  // for starvation mode; only the Mutex reads the clock
  LockOp op{this};
  return sync::detail::block(op, w, options);
}

void Mutex::LockOp::dequeue(Waiter& w) {
  m->waiters_.remove(&w);
  if (m->waiters_.empty()) m->state_.fetch_and(~kWaiters, std::memory_order_relaxed);
}

void Mutex::unlock_slow() {
  sync::detail::WakeList wake;
  lock_.lock();
  Waiter* w = waiters_.pop_front();
  uint32_t waiters_left = waiters_.empty() ? 0 : kWaiters;
  if (w == nullptr) {
    state_.store(0, std::memory_order_release);
  } else if (!w->can_retry || sched::TimerQueue::now_ns() - w->since_ns > kStarvationNs) {
    // Hand-off: LOCKED stays set; the waiter owns the lock when it wakes.
    // release: pairs with the waiter's acquire of lock_ when it resumes.
    state_.store(kLocked | waiters_left, std::memory_order_release);
    wake.add(w, Outcome::kGranted);
  } else {
    state_.store(waiters_left, std::memory_order_release);  // pairs with try_lock's acquire
    wake.add(w, Outcome::kPending);
  }
  lock_.unlock();
}

}  // namespace weft
