// Every live task of a scheduler, for shutdown (cancel what is left) and for
// task dumps. Sharded by the worker that spawned the task, so spawns on
// different workers do not contend.
#pragma once

#include <cstdint>
#include <functional>
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
  std::size_t count() const;
  void for_each(const std::function<void(const core::TaskHeader&)>& fn) const;

 private:
  struct alignas(64) Shard {
    mutable std::mutex mu;
    core::TaskHeader* head = nullptr;  // guarded by mu
    std::size_t count = 0;             // guarded by mu
  };
  void unlink(Shard& s, core::TaskHeader* task);
  std::unique_ptr<Shard[]> shards_;
  std::size_t num_shards_;
};

}  // namespace weft::sched
