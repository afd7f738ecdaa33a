// The global inject queue: tasks spawned or woken from outside any worker,
// overflow from full local queues, and preempted tasks. A mutex-protected
// intrusive FIFO (it is touched once per batch, not once per task), plus an
// atomic length so that "is it empty?" costs no lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>

#include "runtime/core/task_header.h"

namespace weft::sched {

class InjectQueue {
 public:
  void push(core::TaskHeader* task) { push_batch(task, task, 1); }
  // Appends the chain first..last (linked through queue_next).
  void push_batch(core::TaskHeader* first, core::TaskHeader* last, std::size_t n);
  // Takes up to `max` tasks as a chain; returns the first (nullptr if empty).
  core::TaskHeader* pop_batch(std::size_t max, std::size_t* taken);

  // acquire: pairs with the release in push_batch; a non-zero length means a
  // later pop_batch (under the lock) will see the tasks.
  bool is_empty() const { return len_.load(std::memory_order_acquire) == 0; }
  std::size_t len() const { return len_.load(std::memory_order_acquire); }

 private:
  std::mutex mu_;
  core::TaskHeader* head_ = nullptr;  // guarded by mu_
  core::TaskHeader* tail_ = nullptr;  // guarded by mu_
  std::atomic<std::size_t> len_{0};
};

}  // namespace weft::sched
