// What every weft primitive is built from: an intrusive Waiter (it lives in
// the waiting fiber's stack, the coroutine's frame or the blocked thread's
// stack: no allocation per wait), a FIFO WaitList, and the short spin lock
// that guards a primitive's lists (core/detail/biased_spin_lock.h: one
// thread taking it over and over comes to take it without a locked
// instruction).
//
// Hand-off rule, for every primitive: the side that ends a wait does so under
// the primitive's lock: it unlinks the Waiter and moves any value, then
// either
//   a. wakes the Waker still under the lock and only then publishes the
//      outcome (finish_under_lock): the Waker may be borrowed (waker.h),
//      because a waiter that is woken early finds the outcome still pending
//      and takes the lock, which is held until the outcome is published; or
//   b. moves the Waker out as an owning one, publishes the outcome, and wakes
//      it after unlocking (WakeList).
// The outcome is the last thing it writes to the Waiter: a waiter that reads
// it set (without the lock) may return at once and its frame be gone.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/core/detail/biased_spin_lock.h"
#include "runtime/core/thread_state.h"
#include "runtime/core/waker.h"

namespace weft::sync::detail {

using Lock = core::detail::BiasedSpinLock;

enum class Outcome : uint8_t {
  kPending,  // still waiting (or woken to compete again: Mutex's normal mode)
  kGranted,  // got what it waited for
  kClosed,   // the channel closed under it
};

struct Waiter {
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  core::Waker waker;  // borrowed while queued (hand-off rule above)
  // Written under the primitive's lock; read without it by the woken waiter.
  // release (publish) / acquire (read): pair, so a value handed over with
  // the outcome is visible to the waiter that reads kGranted.
  std::atomic<Outcome> outcome{Outcome::kPending};
  Outcome read_outcome() const { return outcome.load(std::memory_order_acquire); }
  void publish(Outcome o) { outcome.store(o, std::memory_order_release); }
  bool linked = false;
  bool can_retry = false;  // blocking waiters may be woken to compete again
  bool retrying = false;   // woken once already: requeue at the front
  uint8_t kind = 0;        // per primitive (SharedMutex: reader or writer)
  void* slot = nullptr;    // channels: the value to send, or where to receive
  int64_t since_ns = 0;    // Mutex only: when it first began waiting (starvation mode)
  // select: the shared winner word and this case's index in it.
  std::atomic<int>* select_winner = nullptr;
  int select_index = 0;

  // A select waiter is finished by at most one case: claim it first.
  bool claim() {
    if (select_winner == nullptr) return true;
    int none = -1;
    return select_winner->compare_exchange_strong(none, select_index, std::memory_order_acq_rel);
  }
};

class WaitList {
 public:
  bool empty() const { return head_ == nullptr; }
  Waiter* front() const { return head_; }
  void push_back(Waiter* w) {
    w->prev = tail_;
    w->next = nullptr;
    (tail_ ? tail_->next : head_) = w;
    tail_ = w;
    w->linked = true;
  }
  void push_front(Waiter* w) {
    w->next = head_;
    w->prev = nullptr;
    (head_ ? head_->prev : tail_) = w;
    head_ = w;
    w->linked = true;
  }
  void remove(Waiter* w) {
    (w->prev ? w->prev->next : head_) = w->next;
    (w->next ? w->next->prev : tail_) = w->prev;
    w->prev = w->next = nullptr;
    w->linked = false;
  }
  Waiter* pop_front() {
    Waiter* w = head_;
    if (w) remove(w);
    return w;
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

// Hand-off rule, form a: ends a wait while still holding the primitive's
// lock, which keeps a hand-off in one critical section. For single
// hand-offs; broadcasts use WakeList.
inline void finish_under_lock(Waiter* w, Outcome outcome) {
  std::move(w->waker).wake();
  w->publish(outcome);
}

// Wakes a Waker after the lock is released (hand-off rule above).
class WakeList {
 public:
  WakeList() = default;
  WakeList(const WakeList&) = delete;
  ~WakeList() { wake_all(); }
  // Hand-off rule, form b (form a past the inline slots: a broadcast to
  // many, rare, still correct).
  void add(Waiter* w, Outcome outcome) {
    if (n_ < kInline) {
      inline_[n_++] = std::move(w->waker).to_owned();
      w->publish(outcome);
    } else {
      finish_under_lock(w, outcome);
    }
  }
  void wake_all() {
    for (uint32_t i = 0; i < n_; ++i) std::move(inline_[i]).wake();
    n_ = 0;
  }

 private:
  static constexpr uint32_t kInline = 4;
  core::Waker inline_[kInline];
  uint32_t n_ = 0;
};

}  // namespace weft::sync::detail
