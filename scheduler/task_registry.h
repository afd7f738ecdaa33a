// The scheduler's blocked tasks (a task joins at its first park), so that
// shutdown can cancel them: a blocked task sits in no queue. Sharded by the
// worker where the task first parked, so workers do not contend.
//
// A shard is an array of task pointers with a free list of slot indices; a
// task keeps its slot's index. Adding and removing touch only the array and
// the task itself: a doubly linked list would also write both neighbours,
// which for a hundred thousand sleepers finishing in turn are cold (two cache
// misses per task, under the lock).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/core/detail/spin_lock.h"
#include "runtime/core/task_header.h"

namespace weft::sched {

class TaskRegistry {
 public:
  explicit TaskRegistry(std::size_t shards);
  void add(core::TaskHeader* task, std::size_t shard);
  void remove(core::TaskHeader* task);
  // Unlinks and returns some live task, or nullptr when none is left.
  core::TaskHeader* take_any();

 private:
  struct alignas(64) Shard {
    // A task parks on one worker and often finishes on another, so a shard
    // sees both; its critical sections are a few stores.
    core::detail::SpinLock mu;
    std::vector<core::TaskHeader*> slots;  // nullptr: free; guarded by mu
    std::vector<uint32_t> free;            // indices of the free slots; guarded by mu
    std::size_t count = 0;                 // tasks in slots; guarded by mu
    std::size_t scan_from = 0;             // take_any's cursor; guarded by mu
  };
  static void unlink(Shard& s, core::TaskHeader* task);
  std::unique_ptr<Shard[]> shards_;
  std::size_t num_shards_;
};

}  // namespace weft::sched
