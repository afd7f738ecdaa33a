// The scheduler's blocked tasks (a task joins at its first park), so that
// shutdown can cancel them: a blocked task sits in no queue. Sharded by the
// worker where the task first parked, so workers do not contend.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

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
    std::mutex mu;
    core::TaskHeader* head = nullptr;  // guarded by mu
    std::size_t count = 0;             // guarded by mu
  };
  void unlink(Shard& s, core::TaskHeader* task);
  std::unique_ptr<Shard[]> shards_;
  std::size_t num_shards_;
};

}  // namespace weft::sched
