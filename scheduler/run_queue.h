// A worker's local run queue: a bounded single-producer, multi-consumer ring
// of 256 slots, as in Go (runq) and Tokio (queue::Local).
//
// Why bounded and not a growable Chase-Lev deque: a fixed ring needs no
// allocation, no memory reclamation of old arrays, and its overflow policy
// (move half to the global inject queue) doubles as load balancing. A worker
// that has more than 256 runnable tasks has plenty to do; the rest are better
// off where any idle worker can take them.
//
// Who may call what is in the names: RunQueue::Local for the owning worker
// thread only, RunQueue::Steal from any thread.
//
// Memory orders:
//   - tail_ is written only by the owner; its release store (push) pairs with
//     the acquire load in Steal::steal_into(), so a stealer sees the slot
//     contents the owner wrote before publishing them.
//   - head_ is advanced by CAS by the owner (pop, overflow) and by stealers.
//     The CAS is what claims slots: a slot read before a successful CAS from
//     h to h+n was not overwritten, because the owner never writes more than
//     256 slots ahead of the head it last saw.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "runtime/core/task_header.h"

namespace weft::sched {

class InjectQueue;

class RunQueue {
 public:
  static constexpr uint32_t kCapacity = 256;

  class Steal;
  class Local {
   public:
    explicit Local(RunQueue& q) : q_(q) {}
    // Appends; when full, moves half of the queue plus `task` to `overflow`.
    // Returns how many tasks the ring held just before (as the owner saw it).
    uint32_t push(core::TaskHeader* task, InjectQueue& overflow);
    // `stealers_possible` false (one worker, or thread-per-core): nobody else
    // ever moves head_, so the pop needs no compare-and-swap.
    core::TaskHeader* pop(bool stealers_possible = true);
    uint32_t len() const;
    bool empty() const { return len() == 0; }
    // The owner's ledger of stale entries (join_in_place.h, step 6): those
    // its joiners left behind, and those it spent, anyone's (when it
    // dequeued one, reused one, or at an overflow, which spends them
    // instead of moving them).
    void count_stale_made() { bump(q_.stale_made_, 1); }
    void count_stale_spent() { bump(q_.stale_spent_, 1); }

   private:
    friend class Steal;
    bool push_overflow(core::TaskHeader* task, uint32_t head, uint32_t tail, InjectQueue& overflow);
    static void bump(std::atomic<uint64_t>& n, uint64_t by) {
      n.store(n.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
    }
    RunQueue& q_;
  };

  class Steal {
   public:
    explicit Steal(RunQueue& q) : q_(q) {}
    // Moves half of this queue into `dst` (which must be the caller's own,
    // empty queue) and returns one of the stolen tasks to run now.
    core::TaskHeader* steal_into(Local& dst);
    bool is_empty() const;
    // Made minus spent on this ledger (wrapping: only the sum over all
    // ledgers is a count). Relaxed: a bound on memory, not a synchronisation.
    uint64_t stale_balance() const {
      return q_.stale_made_.load(std::memory_order_relaxed) - q_.stale_spent_.load(std::memory_order_relaxed);
    }

   private:
    RunQueue& q_;
  };

  Local local() { return Local(*this); }
  Steal steal() { return Steal(*this); }

 private:
  static uint32_t index(uint32_t pos) { return pos & (kCapacity - 1); }

  alignas(64) std::atomic<uint32_t> head_{0};
  alignas(64) std::atomic<uint32_t> tail_{0};
  alignas(64) std::array<std::atomic<core::TaskHeader*>, kCapacity> slots_{};
  std::atomic<uint64_t> stale_made_{0};   // written by the owner only
  std::atomic<uint64_t> stale_spent_{0};  // written by the owner only
};

}  // namespace weft::sched
