#include "scheduler/inject_queue.h"

#include <algorithm>

namespace weft::sched {

using core::TaskHeader;

InjectQueue::~InjectQueue() {
  while (seg_head_ != nullptr) delete std::exchange(seg_head_, seg_head_->next);
  delete spare_;
}

void InjectQueue::push_batch(TaskHeader* first, TaskHeader* last, std::size_t n) {
  last->queue_next = nullptr;
  std::lock_guard lock(mu_);
  if (tail_) {
    tail_->queue_next = first;
  } else {
    head_ = first;
  }
  tail_ = last;
  len_.fetch_add(n, std::memory_order_release);  // pairs with is_empty()'s acquire
}

void InjectQueue::push_array(TaskHeader* const* tasks, std::size_t n) {
  std::lock_guard lock(mu_);
  for (std::size_t done = 0; done < n;) {
    if (seg_tail_ == nullptr || seg_tail_->end == kSegmentCapacity) {
      Segment* s = new_segment();
      (seg_tail_ ? seg_tail_->next : seg_head_) = s;
      seg_tail_ = s;
    }
    std::size_t k = std::min<std::size_t>(n - done, kSegmentCapacity - seg_tail_->end);
    std::copy_n(tasks + done, k, seg_tail_->tasks + seg_tail_->end);
    seg_tail_->end += static_cast<uint32_t>(k);
    done += k;
  }
  len_.fetch_add(n, std::memory_order_release);  // pairs with is_empty()'s acquire
}

std::size_t InjectQueue::pop_batch(TaskHeader** out, std::size_t max) {
  if (is_empty() || max == 0) return 0;
  std::lock_guard lock(mu_);
  chain_first_ = !chain_first_;
  std::size_t n = chain_first_ ? pop_chain(out, max) : pop_segments(out, max);
  n += chain_first_ ? pop_segments(out + n, max - n) : pop_chain(out + n, max - n);
  len_.fetch_sub(n, std::memory_order_relaxed);
  return n;
}

std::size_t InjectQueue::pop_chain(TaskHeader** out, std::size_t max) {
  std::size_t n = 0;
  while (n < max && head_ != nullptr) {
    out[n++] = head_;
    head_ = std::exchange(head_->queue_next, nullptr);
  }
  if (head_ == nullptr) tail_ = nullptr;
  return n;
}

std::size_t InjectQueue::pop_segments(TaskHeader** out, std::size_t max) {
  std::size_t n = 0;
  while (n < max && seg_head_ != nullptr) {
    Segment* s = seg_head_;
    std::size_t k = std::min<std::size_t>(max - n, s->end - s->begin);
    std::copy_n(s->tasks + s->begin, k, out + n);
    s->begin += static_cast<uint32_t>(k);
    n += k;
    if (s->begin == s->end) retire_head_segment();
  }
  return n;
}

InjectQueue::Segment* InjectQueue::new_segment() {
  Segment* s = std::exchange(spare_, nullptr);
  if (s == nullptr) s = new Segment;
  s->next = nullptr;
  s->begin = s->end = 0;
  return s;
}

void InjectQueue::retire_head_segment() {
  Segment* s = std::exchange(seg_head_, seg_head_->next);
  if (seg_head_ == nullptr) seg_tail_ = nullptr;
  if (spare_ == nullptr) {
    spare_ = s;
  } else {
    delete s;
  }
}

}  // namespace weft::sched
