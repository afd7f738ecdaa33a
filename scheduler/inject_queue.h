// The global inject queue: tasks spawned or woken from outside any worker,
// overflow from full local queues, and preempted tasks. Mutex-protected (it
// is touched once per batch, not once per task), plus an atomic length so
// that "is it empty?" costs no lock.
//
// Two kinds of entry, because they arrive differently:
//   - Overflow batches (push_array) are arrays of task pointers copied from a
//     local ring into segments. No task header is written or read on the way
//     in or out: a tree of tasks spawned breadth-first (skynet) overflows
//     hundreds of thousands of tasks whose headers are long out of cache, and
//     linking them through queue_next, then walking the links under the lock
//     to split a batch, cost a cache miss per task, twice.
//   - Single tasks and chains (push, push_batch) link through queue_next and
//     never allocate, so a signal handler can hand its tasks over
//     (Worker::hand_off_from_signal).
// pop_batch alternates which kind it starts with, so neither starves the
// other; within each kind the order is FIFO.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "runtime/core/task_header.h"

namespace weft::sched {

class InjectQueue {
 public:
  InjectQueue() = default;
  InjectQueue(const InjectQueue&) = delete;
  InjectQueue& operator=(const InjectQueue&) = delete;
  ~InjectQueue();

  void push(core::TaskHeader* task) { push_batch(task, task, 1); }
  // Appends the chain first..last (linked through queue_next). Never allocates.
  void push_batch(core::TaskHeader* first, core::TaskHeader* last, std::size_t n);
  // Appends tasks[0..n) without touching the tasks. May allocate a segment.
  void push_array(core::TaskHeader* const* tasks, std::size_t n);
  // Moves up to `max` tasks into out[0..); returns how many.
  std::size_t pop_batch(core::TaskHeader** out, std::size_t max);

  // acquire: pairs with the release in the pushes; a non-zero length means a
  // later pop_batch (under the lock) will see the tasks.
  bool is_empty() const { return len_.load(std::memory_order_acquire) == 0; }
  std::size_t len() const { return len_.load(std::memory_order_acquire); }

 private:
  static constexpr uint32_t kSegmentCapacity = 256;
  struct Segment {
    Segment* next = nullptr;
    uint32_t begin = 0;  // first task not yet popped
    uint32_t end = 0;    // one past the last task pushed
    core::TaskHeader* tasks[kSegmentCapacity];
  };

  std::size_t pop_chain(core::TaskHeader** out, std::size_t max);     // mu_ held
  std::size_t pop_segments(core::TaskHeader** out, std::size_t max);  // mu_ held
  Segment* new_segment();                                             // mu_ held
  void retire_head_segment();                                         // mu_ held

  std::mutex mu_;
  core::TaskHeader* head_ = nullptr;  // the chain; guarded by mu_
  core::TaskHeader* tail_ = nullptr;
  Segment* seg_head_ = nullptr;  // the segments; guarded by mu_
  Segment* seg_tail_ = nullptr;
  Segment* spare_ = nullptr;  // one emptied segment kept for the next overflow
  bool chain_first_ = false;  // which kind pop_batch starts with next
  std::atomic<std::size_t> len_{0};
};

}  // namespace weft::sched
