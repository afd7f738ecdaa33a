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
  // The last reference needs no locked instruction: nobody takes a new one,
  // so a count of one means the other owner has let go. acquire: pairs with
  // its release decrement, so its writes come before the free. Usually the
  // Timer of a sleep that fired: the queue let go when it fired.
  if (e->refs.load(std::memory_order_acquire) == 1) {
    delete e;
    return;
  }
  // acq_rel: the last owner sees the other's writes before freeing.
  if (e->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete e;
}

bool TimerQueue::Timer::cancel_armed() {
  Entry* e = std::exchange(e_, nullptr);
  // A state that left kPending never changes again: a timer seen fired (the
  // usual end of a sleep) needs no CAS. acquire: pairs with the queue's CAS.
  const bool fired =
      e->state.load(std::memory_order_acquire) == Entry::kFired || !e->transition_to(Entry::kCancelled);
  if (!fired) e->owner->cancelled_.fetch_add(1, std::memory_order_relaxed);
  release(e);
  return fired;
}

TimerQueue::Timer TimerQueue::add(int64_t deadline_ns, core::Waker waker) {
  auto* e = new Entry{std::move(waker), this};
  if (run_count() == 0 || run_.back().deadline <= deadline_ns) {
    core::grow_for_push(run_);
    run_.push_back(Slot{deadline_ns, e});
  } else {
    push(Slot{deadline_ns, e});
  }
  int64_t dead = cancelled_.load(std::memory_order_relaxed);
  if (dead > 64 && dead * 2 > int64_t(count() + run_count())) compact();
  return Timer(e);
}

TimerQueue::Slot* TimerQueue::front(bool& in_run) {
  Slot* top = count() > 0 ? &at(0) : nullptr;
  Slot* first = run_count() > 0 ? &run_[run_head_] : nullptr;
  in_run = first != nullptr && (top == nullptr || first->deadline < top->deadline);
  return in_run ? first : top;
}

TimerQueue::Slot TimerQueue::pop_front(bool in_run) {
  if (!in_run) return pop();
  Slot s = run_[run_head_++];
  constexpr std::size_t kDropFiredAt = 4096;  // slots: a memmove only now and then
  if (run_head_ == run_.size()) {
    run_.clear();  // keeps its buffer for the next run
    run_head_ = 0;
  } else if (run_head_ >= kDropFiredAt && run_head_ * 2 >= run_.size()) {
    run_.erase(run_.begin(), run_.begin() + static_cast<std::ptrdiff_t>(run_head_));
    run_head_ = 0;
  }
  return s;
}

int64_t TimerQueue::next_deadline() {
  bool in_run;
  while (Slot* f = front(in_run)) {
    if (f->entry->state.load(std::memory_order_acquire) == Entry::kPending) return f->deadline;
    Entry* e = pop_front(in_run).entry;
    cancelled_.fetch_sub(1, std::memory_order_relaxed);  // it was cancelled (nothing else leaves kPending here)
    release(e);
  }
  return INT64_MAX;
}

std::size_t TimerQueue::fire_expired(int64_t now) {
  std::size_t fired = 0;
  bool in_run;
  while (Slot* f = front(in_run)) {
    if (f->deadline > now) break;
    Entry* e = pop_front(in_run).entry;
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
  for (std::size_t k = 0; k < count() + run_count(); ++k) {
    Entry* e = k < count() ? at(k).entry : run_[run_head_ + k - count()].entry;
    if (e->transition_to(Entry::kFired)) {
      e->waker = core::Waker();  // drop the task reference now
    } else {
      cancelled_.fetch_sub(1, std::memory_order_relaxed);
    }
    release(e);
  }
  heap_.clear();
  run_.clear();
  run_head_ = 0;
}

void TimerQueue::push(Slot s) {
  if (heap_.empty()) heap_.resize(kPad);
  core::grow_for_push(heap_);
  heap_.push_back(s);
  sift_up(count() - 1, s);
}

TimerQueue::Slot TimerQueue::pop() {
  Slot top = at(0);
  Slot last = heap_.back();
  heap_.pop_back();
  if (count() > 0) sift_down(0, last);
  return top;
}

// Moves the hole at k up to where s belongs. Deadlines mostly arrive in
// increasing order (every sleep_for(d) with the same d), so this usually
// stops at the first parent.
void TimerQueue::sift_up(std::size_t k, Slot s) {
  while (k > 0) {
    std::size_t parent = (k - 1) / kArity;
    if (at(parent).deadline <= s.deadline) break;
    at(k) = at(parent);
    k = parent;
  }
  at(k) = s;
}

// Moves the hole at k down to where s belongs: at each level the earliest
// of up to four children, all in one cache line, moves up.
void TimerQueue::sift_down(std::size_t k, Slot s) {
  const std::size_t n = count();
  for (;;) {
    std::size_t first = kArity * k + 1;
    if (first >= n) break;
    std::size_t end = std::min(first + kArity, n);
    std::size_t best = first;
    for (std::size_t c = first + 1; c < end; ++c) {
      if (at(c).deadline < at(best).deadline) best = c;
    }
    if (at(best).deadline >= s.deadline) break;
    at(k) = at(best);
    k = best;
  }
  at(k) = s;
}

// Compaction, for a slot of the heap or the run: drops its entry if it was
// cancelled (true), else the slot stays (false).
bool TimerQueue::discard_if_cancelled(Slot s) {
  if (s.entry->state.load(std::memory_order_acquire) != Entry::kCancelled) return false;
  cancelled_.fetch_sub(1, std::memory_order_relaxed);
  release(s.entry);
  return true;
}

void TimerQueue::compact() {
  std::size_t kept = 0;
  for (std::size_t k = 0; k < count(); ++k) {
    if (!discard_if_cancelled(at(k))) at(kept++) = at(k);
  }
  heap_.resize(kPad + kept);
  // Floyd's heapify: sift down every parent, from the last one, (kept-2)/4.
  for (std::size_t k = kept > 1 ? (kept - 2) / kArity + 1 : 0; k-- > 0;) sift_down(k, at(k));
  compact_run();
}

// The run without its cancelled slots, in the same order.
void TimerQueue::compact_run() {
  std::size_t kept = 0;
  for (std::size_t k = run_head_; k < run_.size(); ++k) {
    if (!discard_if_cancelled(run_[k])) run_[kept++] = run_[k];
  }
  run_.resize(kept);
  run_head_ = 0;
}

}  // namespace weft::sched
