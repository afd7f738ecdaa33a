// The scheduler's blocked tasks (a task joins at its first park), so that
// shutdown can cancel them: a blocked task sits in no queue. Sharded by the
// worker where the task first parked, so workers do not contend.
//
// A shard is an array of task pointers with a free list of slot indices; a
// task keeps its slot's index. Adding and removing touch only the array and
// the task itself: a doubly linked list would also write both neighbours,
// which for a hundred thousand sleepers finishing in turn are cold (two cache
// misses per task, under the lock).
//
// Removal in batches. A task parks on one worker and often finishes on
// another, so a lock per removal would be a lock both workers take, once per
// task: with 100,000 sleepers on 2 workers it was the largest single cost of
// the contract `sleep` (README.md, "Stop 27").
//   1. add() takes the shard's lock and fills a free slot (or a new one).
//   2. A worker finishing a registered task calls its own Removals::remove(),
//      which notes the task's (shard, index) in a list per shard, without a
//      lock. The slot still names the task, which may be freed from now on.
//   3. When a shard's list is full, or its owner flushes, the worker takes
//      that shard's lock once, clears each noted slot and frees its index.
//      Only then can the slot be reused: the noting thread's flush follows
//      its note, and the lock orders the flush before the add that reuses it.
//   4. So a slot names a finished task only between steps 2 and 3, and no one
//      reads slots then: take_any() runs at shutdown, after every worker has
//      exited and its Removals was flushed (Scheduler::shutdown). A task dump
//      must likewise stop the workers at a safe point and flush them first.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/core/detail/spin_lock.h"
#include "runtime/core/huge_pages.h"
#include "runtime/core/task_header.h"

namespace weft::sched {

class TaskRegistry {
 public:
  explicit TaskRegistry(std::size_t shards);
  void add(core::TaskHeader* task, std::size_t shard);
  // At once, under the shard's lock (shutdown's path).
  void remove(core::TaskHeader* task);
  // Unlinks and returns some live task, or nullptr when none is left.
  // Only while no Removals holds unflushed notes (step 4).
  core::TaskHeader* take_any();

  // One worker's removals (steps 2 and 3). Its owner thread only, or,
  // once that thread has exited, the thread that joined it.
  class Removals {
   public:
    explicit Removals(TaskRegistry& registry) : registry_(registry), pending_(registry.num_shards_) {}
    void remove(core::TaskHeader* task);
    void flush();

   private:
    void flush_shard(std::size_t shard);
    TaskRegistry& registry_;
    std::vector<std::vector<uint32_t>> pending_;  // slot indices, per shard
  };

 private:
  // Step 3's batch: one lock per this many removals from a shard.
  static constexpr std::size_t kBatch = 64;

  struct alignas(64) Shard {
    // A task parks on one worker and often finishes on another, so a shard
    // sees both; its critical sections are a few stores.
    core::detail::SpinLock mu;
    // On huge pages once large: on this VM a fresh 4 KiB page costs
    // microseconds (README.md, "Memory on this VM").
    std::vector<core::TaskHeader*, core::HugePageAllocator<core::TaskHeader*>> slots;  // nullptr: free; guarded by mu
    std::vector<uint32_t, core::HugePageAllocator<uint32_t>> free;  // indices of the free slots; guarded by mu
    std::size_t count = 0;                 // tasks in slots; guarded by mu
    std::size_t scan_from = 0;             // take_any's cursor; guarded by mu
  };
  static void unlink(Shard& s, uint32_t index);
  std::unique_ptr<Shard[]> shards_;
  std::size_t num_shards_;
};

}  // namespace weft::sched
