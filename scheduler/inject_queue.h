// The global inject queue: tasks spawned or woken from outside any worker,
// overflow from full local queues, handed-off and preempted tasks.
// Mutex-protected (it is touched once per batch, not once per task), plus an
// atomic length so that "is it empty?" costs no lock.
//
// Entries are task pointers copied into fixed-size segments; no task header
// is written or read on the way in or out. That matters twice:
//   - A tree of tasks spawned breadth-first (skynet) overflows hundreds of
//     thousands of tasks whose headers are long out of cache: linking them
//     through a header field, then walking the links under the lock to split
//     a batch, cost a cache miss per task, twice.
//   - A fiber may have two entries at once (core/fiber.h, "who starts a
//     fiber": its joiner ran it while its spawn's entry was still queued).
//     A list linked through the header holds a task once; an array does not
//     care.
// Two lanes, because entries arrive differently: overflow batches from local
// rings (push_array), and single tasks and hand-offs (push, push_handoff).
// pop_batch alternates which lane it starts with, so a single task woken
// from outside is not stuck behind a thousand overflowed ones; each lane is
// FIFO.
//
// A signal handler (Worker::hand_off_from_signal) must not allocate: its
// push_handoff takes only what fits in the lane's room and the spare
// segments, which reserve_for_handoff() (the monitor, before it signals)
// tops up.
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

  void push(core::TaskHeader* task) { push_single(&task, 1); }
  // Appends tasks[0..n) to the singles lane. May allocate a segment.
  void push_single(core::TaskHeader* const* tasks, std::size_t n);
  // Appends tasks[0..n) to the overflow lane. May allocate a segment.
  void push_array(core::TaskHeader* const* tasks, std::size_t n);
  // Appends as many of tasks[0..n) to the singles lane as fit without
  // allocating; returns how many (a prefix). Async-signal-safe apart from
  // the mutex, which the interrupted code is known not to hold.
  std::size_t push_handoff(core::TaskHeader* const* tasks, std::size_t n);
  // Keeps enough spare segments for one push_handoff of a full ring.
  void reserve_for_handoff();
  // Moves up to `max` tasks into out[0..); returns how many.
  std::size_t pop_batch(core::TaskHeader** out, std::size_t max);

  // acquire: pairs with the release in the pushes; a non-zero length means a
  // later pop_batch (under the lock) will see the tasks.
  bool is_empty() const { return len_.load(std::memory_order_acquire) == 0; }
  std::size_t len() const { return len_.load(std::memory_order_acquire); }

 private:
  static constexpr uint32_t kSegmentCapacity = 256;
  static constexpr std::size_t kHandoffSpares = 2;  // a full ring plus the LIFO slot: 257 entries
  struct Segment {
    Segment* next = nullptr;
    uint32_t begin = 0;  // first task not yet popped
    uint32_t end = 0;    // one past the last task pushed
    core::TaskHeader* tasks[kSegmentCapacity];
  };
  struct Lane {
    Segment* head = nullptr;
    Segment* tail = nullptr;
  };

  // All with mu_ held.
  std::size_t append(Lane& lane, core::TaskHeader* const* tasks, std::size_t n, bool may_allocate);
  std::size_t take(Lane& lane, core::TaskHeader** out, std::size_t max);
  Segment* new_segment(bool may_allocate);
  void retire_head(Lane& lane);

  std::mutex mu_;
  Lane overflow_;  // guarded by mu_
  Lane singles_;   // guarded by mu_
  Segment* spares_ = nullptr;  // emptied segments kept for reuse, linked by next
  std::size_t num_spares_ = 0;
  bool singles_first_ = false;  // which lane pop_batch starts with next
  std::atomic<std::size_t> len_{0};
};

}  // namespace weft::sched
