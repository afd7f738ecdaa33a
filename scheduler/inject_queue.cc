#include "scheduler/inject_queue.h"

#include <algorithm>

namespace weft::sched {

using core::TaskHeader;

namespace {
constexpr std::size_t kMaxSpares = 4;
}  // namespace

InjectQueue::~InjectQueue() {
  for (Lane* lane : {&overflow_, &singles_})
    while (lane->head != nullptr) delete std::exchange(lane->head, lane->head->next);
  while (spares_ != nullptr) delete std::exchange(spares_, spares_->next);
}

void InjectQueue::push_single(TaskHeader* const* tasks, std::size_t n) {
  std::lock_guard lock(mu_);
  append(singles_, tasks, n, /*may_allocate=*/true);
  len_.fetch_add(n, std::memory_order_release);  // pairs with is_empty()'s acquire
}

void InjectQueue::push_array(TaskHeader* const* tasks, std::size_t n) {
  std::lock_guard lock(mu_);
  append(overflow_, tasks, n, /*may_allocate=*/true);
  len_.fetch_add(n, std::memory_order_release);  // pairs with is_empty()'s acquire
}

std::size_t InjectQueue::push_handoff(TaskHeader* const* tasks, std::size_t n) {
  std::lock_guard lock(mu_);
  std::size_t pushed = append(singles_, tasks, n, /*may_allocate=*/false);
  len_.fetch_add(pushed, std::memory_order_release);  // pairs with is_empty()'s acquire
  return pushed;
}

void InjectQueue::reserve_for_handoff() {
  std::lock_guard lock(mu_);
  while (num_spares_ < kHandoffSpares) {
    Segment* s = new Segment;
    s->next = std::exchange(spares_, s);
    ++num_spares_;
  }
}

std::size_t InjectQueue::pop_batch(TaskHeader** out, std::size_t max) {
  if (is_empty() || max == 0) return 0;
  std::lock_guard lock(mu_);
  singles_first_ = !singles_first_;
  Lane& first = singles_first_ ? singles_ : overflow_;
  Lane& second = singles_first_ ? overflow_ : singles_;
  std::size_t n = take(first, out, max);
  n += take(second, out + n, max - n);
  len_.fetch_sub(n, std::memory_order_relaxed);
  return n;
}

std::size_t InjectQueue::append(Lane& lane, TaskHeader* const* tasks, std::size_t n, bool may_allocate) {
  std::size_t done = 0;
  while (done < n) {
    if (lane.tail == nullptr || lane.tail->end == kSegmentCapacity) {
      Segment* s = new_segment(may_allocate);
      if (s == nullptr) break;  // no room without allocating
      (lane.tail ? lane.tail->next : lane.head) = s;
      lane.tail = s;
    }
    std::size_t k = std::min<std::size_t>(n - done, kSegmentCapacity - lane.tail->end);
    std::copy_n(tasks + done, k, lane.tail->tasks + lane.tail->end);
    lane.tail->end += static_cast<uint32_t>(k);
    done += k;
  }
  return done;
}

std::size_t InjectQueue::take(Lane& lane, TaskHeader** out, std::size_t max) {
  std::size_t n = 0;
  while (n < max && lane.head != nullptr) {
    Segment* s = lane.head;
    std::size_t k = std::min<std::size_t>(max - n, s->end - s->begin);
    std::copy_n(s->tasks + s->begin, k, out + n);
    s->begin += static_cast<uint32_t>(k);
    n += k;
    if (s->begin == s->end) retire_head(lane);
  }
  return n;
}

InjectQueue::Segment* InjectQueue::new_segment(bool may_allocate) {
  Segment* s = spares_;
  if (s != nullptr) {
    spares_ = s->next;
    --num_spares_;
  } else if (may_allocate) {
    s = new Segment;
  } else {
    return nullptr;
  }
  s->next = nullptr;
  s->begin = s->end = 0;
  return s;
}

void InjectQueue::retire_head(Lane& lane) {
  Segment* s = std::exchange(lane.head, lane.head->next);
  if (lane.head == nullptr) lane.tail = nullptr;
  if (num_spares_ < kMaxSpares) {
    s->next = std::exchange(spares_, s);
    ++num_spares_;
  } else {
    delete s;
  }
}

}  // namespace weft::sched
