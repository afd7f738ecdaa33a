#include "scheduler/idle.h"

#include <algorithm>

#include "runtime/core/detail/sanitizers.h"

namespace weft::sched {

Idle::Idle(uint32_t num_workers) : state_(num_workers << kShift), num_workers_(num_workers) {
  sleepers_.reserve(num_workers);
}

bool Idle::transition_worker_to_searching() {
  uint32_t s = state_.load(std::memory_order_seq_cst);
  if (2 * (s & kMask) >= num_workers_) return false;
  // seq_cst: part of the total order with notify_should_wakeup (step 4).
  state_.fetch_add(1, std::memory_order_seq_cst);
  return true;
}

bool Idle::transition_worker_from_searching() {
  uint32_t prev = state_.fetch_sub(1, std::memory_order_seq_cst);
  return (prev & kMask) == 1;
}

bool Idle::transition_worker_to_parked(uint32_t worker, bool is_searching) {
  std::lock_guard lock(mu_);
  uint32_t dec = (1u << kShift) + (is_searching ? 1u : 0u);
  uint32_t prev = state_.fetch_sub(dec, std::memory_order_seq_cst);
  // Pairs with the fence in notify_should_wakeup: our re-check of the queues
  // (step 3) comes after the registration in the single total order.
  // ThreadSanitizer does not model fences; there notify_should_wakeup reads
  // the state with a read-modify-write instead, which the fetch_sub above
  // already orders against (see there).
#if !WEFT_TSAN
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  sleepers_.push_back(worker);
  return is_searching && (prev & kMask) == 1;
}

bool Idle::unpark_worker_by_id(uint32_t worker) {
  std::lock_guard lock(mu_);
  auto it = std::find(sleepers_.begin(), sleepers_.end(), worker);
  if (it == sleepers_.end()) return false;
  sleepers_.erase(it);
  state_.fetch_add(1u << kShift, std::memory_order_seq_cst);
  return true;
}

bool Idle::is_parked(uint32_t worker) {
  std::lock_guard lock(mu_);
  return std::find(sleepers_.begin(), sleepers_.end(), worker) != sleepers_.end();
}

bool Idle::notify_should_wakeup() const {
  // The fence orders the caller's queue push before this read (step 4); it
  // pairs with the fence in transition_worker_to_parked. A fence and a plain
  // load, not a read-modify-write: the line stays shared between workers
  // instead of bouncing on every push.
#if WEFT_TSAN
  // The same ordering in the form ThreadSanitizer understands: two seq_cst
  // read-modify-writes of state_ are ordered, and the later one reads from
  // the earlier (a release sequence), so either the parker's re-check sees
  // our push or we see its registration. One locked instruction per push,
  // which only the TSan build pays.
  uint32_t s = state_.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
  uint32_t s = state_.load(std::memory_order_relaxed);
#endif
  return (s & kMask) == 0 && (s >> kShift) < num_workers_;
}

std::optional<uint32_t> Idle::worker_to_notify() {
  if (!notify_should_wakeup()) return std::nullopt;
  std::lock_guard lock(mu_);
  if (!notify_should_wakeup() || sleepers_.empty()) return std::nullopt;
  state_.fetch_add((1u << kShift) + 1, std::memory_order_seq_cst);  // one more unparked, searching
  uint32_t w = sleepers_.back();
  sleepers_.pop_back();
  return w;
}

}  // namespace weft::sched
