#include "scheduler/timer_queue.h"

#include <algorithm>
#include <climits>

#include "runtime/core/frame_allocator.h"
#include "scheduler/detail/park_token.h"

namespace weft::sched {

struct TimerQueue::Entry {
  core::Waker waker;
  TimerQueue* owner;
  std::atomic<uint32_t> refs{2};  // the heap's and the Timer's
  // kPending -> kFired (the heap popped it, or clear()) or kCancelled (the
  // Timer), exactly once: so exactly the entries the heap still holds and
  // will discard are counted in cancelled_.
  std::atomic<uint8_t> state{kPending};
  static constexpr uint8_t kPending = 0, kFired = 1, kCancelled = 2;
  // From the frame allocator's per-thread caches, like the frames that wait
  // on them: 100,000 sleepers allocate 100,000 entries at once.
  static void* operator new(std::size_t size) { return core::frame_allocator::allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { core::frame_allocator::deallocate(p, size); }
  bool transition_to(uint8_t next) {
    uint8_t expected = kPending;
    return state.compare_exchange_strong(expected, next, std::memory_order_acq_rel);
  }
};

int64_t TimerQueue::now_ns() { return detail::monotonic_now_ns(); }

void TimerQueue::release(Entry* e) {
  // acq_rel: the last owner sees the other's writes before freeing.
  if (e->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete e;
}

bool TimerQueue::Timer::cancel_armed() {
  Entry* e = std::exchange(e_, nullptr);
  const bool fired = !e->transition_to(Entry::kCancelled);
  if (!fired) e->owner->cancelled_.fetch_add(1, std::memory_order_relaxed);
  release(e);
  return fired;
}

TimerQueue::Timer TimerQueue::add(int64_t deadline_ns, core::Waker waker) {
  auto* e = new Entry{std::move(waker), this};
  push(Slot{deadline_ns, e});
  int64_t dead = cancelled_.load(std::memory_order_relaxed);
  if (dead > 64 && dead * 2 > int64_t(heap_.size())) compact();
  return Timer(e);
}

int64_t TimerQueue::next_deadline() {
  while (!heap_.empty()) {
    Entry* top = heap_.front().entry;
    if (top->state.load(std::memory_order_acquire) == Entry::kPending) return heap_.front().deadline;
    pop();
    cancelled_.fetch_sub(1, std::memory_order_relaxed);  // it was cancelled (nothing else leaves kPending here)
    release(top);
  }
  return INT64_MAX;
}

std::size_t TimerQueue::fire_expired(int64_t now) {
  std::size_t fired = 0;
  while (!heap_.empty() && heap_.front().deadline <= now) {
    Entry* e = pop().entry;
    if (e->transition_to(Entry::kFired)) {
      std::move(e->waker).wake();
      ++fired;
    } else {
      cancelled_.fetch_sub(1, std::memory_order_relaxed);
    }
    release(e);
  }
  return fired;
}

void TimerQueue::clear() {
  for (Slot& s : heap_) {
    if (s.entry->transition_to(Entry::kFired)) {
      s.entry->waker = core::Waker();  // drop the task reference now
    } else {
      cancelled_.fetch_sub(1, std::memory_order_relaxed);
    }
    release(s.entry);
  }
  heap_.clear();
}

namespace {
bool later(const auto& a, const auto& b) { return a.deadline > b.deadline; }
}  // namespace

void TimerQueue::push(Slot s) {
  heap_.push_back(s);
  std::push_heap(heap_.begin(), heap_.end(), [](const Slot& a, const Slot& b) { return later(a, b); });
}

TimerQueue::Slot TimerQueue::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), [](const Slot& a, const Slot& b) { return later(a, b); });
  Slot s = heap_.back();
  heap_.pop_back();
  return s;
}

void TimerQueue::compact() {
  std::size_t kept = 0;
  for (Slot& s : heap_) {
    if (s.entry->state.load(std::memory_order_acquire) == Entry::kCancelled) {
      cancelled_.fetch_sub(1, std::memory_order_relaxed);
      release(s.entry);
    } else {
      heap_[kept++] = s;
    }
  }
  heap_.resize(kept);
  std::make_heap(heap_.begin(), heap_.end(), [](const Slot& a, const Slot& b) { return later(a, b); });
}

}  // namespace weft::sched
