#include "scheduler/run_queue.h"

#include "scheduler/inject_queue.h"

namespace weft::sched {

using core::TaskHeader;

uint32_t RunQueue::Local::push(TaskHeader* task, InjectQueue& overflow) {
  for (;;) {
    // acquire: pairs with the head CAS of pop()/steal_into(), so slots they
    // freed are ours to overwrite.
    uint32_t head = q_.head_.load(std::memory_order_acquire);
    uint32_t tail = q_.tail_.load(std::memory_order_relaxed);  // only we write it
    if (tail - head < kCapacity) {
      q_.slots_[index(tail)].store(task, std::memory_order_relaxed);
      q_.tail_.store(tail + 1, std::memory_order_release);  // pairs with steal_into's acquire
      return tail - head;
    }
    if (push_overflow(task, head, tail, overflow)) return kCapacity;
    // A stealer took some tasks meanwhile: there is room now.
  }
}

bool RunQueue::Local::push_overflow(TaskHeader* task, uint32_t head, uint32_t tail, InjectQueue& overflow) {
  constexpr uint32_t kHalf = kCapacity / 2;
  (void)tail;
  TaskHeader* batch[kHalf + 1];
  for (uint32_t i = 0; i < kHalf; ++i) batch[i] = q_.slots_[index(head + i)].load(std::memory_order_relaxed);
  // acq_rel: claims the slots against stealers (their CAS on the same word).
  if (!q_.head_.compare_exchange_strong(head, head + kHalf, std::memory_order_acq_rel, std::memory_order_relaxed))
    return false;
  batch[kHalf] = task;
  // Entries a joiner left stale (join_in_place.h, step 5) are spent here
  // rather than moved: only the worker loop drains the inject queue, and a
  // fiber running children in place may keep it from its loop for long.
  uint32_t kept = 0;
  for (TaskHeader* t : batch) {
    if (!t->spend_stale_entry()) batch[kept++] = t;
  }
  bump(q_.stale_spent_, kHalf + 1 - kept);
  if (kept > 0) overflow.push_array(batch, kept);
  return true;
}

TaskHeader* RunQueue::Local::pop(bool stealers_possible) {
  uint32_t head = q_.head_.load(std::memory_order_acquire);
  if (!stealers_possible) {
    if (head == q_.tail_.load(std::memory_order_relaxed)) return nullptr;
    TaskHeader* task = q_.slots_[index(head)].load(std::memory_order_relaxed);
    q_.head_.store(head + 1, std::memory_order_release);  // pairs with push()'s acquire of head_
    return task;
  }
  for (;;) {
    uint32_t tail = q_.tail_.load(std::memory_order_relaxed);
    if (head == tail) return nullptr;
    TaskHeader* task = q_.slots_[index(head)].load(std::memory_order_relaxed);
    // acq_rel: competes with stealers' CAS; on success the slot was ours.
    if (q_.head_.compare_exchange_weak(head, head + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      return task;
  }
}

uint32_t RunQueue::Local::len() const {
  return q_.tail_.load(std::memory_order_relaxed) - q_.head_.load(std::memory_order_acquire);
}

bool RunQueue::Steal::is_empty() const {
  return q_.tail_.load(std::memory_order_acquire) == q_.head_.load(std::memory_order_acquire);
}

TaskHeader* RunQueue::Steal::steal_into(Local& dst) {
  RunQueue& d = dst.q_;
  uint32_t dst_tail = d.tail_.load(std::memory_order_relaxed);  // dst is the caller's own queue
  uint32_t n;
  for (;;) {
    uint32_t head = q_.head_.load(std::memory_order_acquire);
    uint32_t tail = q_.tail_.load(std::memory_order_acquire);  // pairs with the owner's release in push
    n = tail - head;
    n -= n / 2;
    if (n == 0) return nullptr;
    if (n > kCapacity / 2) continue;  // torn read of head/tail: try again
    for (uint32_t i = 0; i < n; ++i) {
      TaskHeader* t = q_.slots_[index(head + i)].load(std::memory_order_relaxed);
      d.slots_[index(dst_tail + i)].store(t, std::memory_order_relaxed);
    }
    // acq_rel: claims [head, head+n) against the owner's pop and other stealers.
    if (q_.head_.compare_exchange_strong(head, head + n, std::memory_order_acq_rel, std::memory_order_relaxed)) break;
  }
  --n;
  TaskHeader* run_now = d.slots_[index(dst_tail + n)].load(std::memory_order_relaxed);
  if (n > 0) d.tail_.store(dst_tail + n, std::memory_order_release);  // pairs with other stealers' acquire
  return run_now;
}

}  // namespace weft::sched
