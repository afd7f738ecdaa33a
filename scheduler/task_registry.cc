#include "scheduler/task_registry.h"

namespace weft::sched {

using core::TaskHeader;

TaskRegistry::TaskRegistry(std::size_t shards) : shards_(new Shard[shards]), num_shards_(shards) {}

void TaskRegistry::add(TaskHeader* task, std::size_t shard) {
  shard %= num_shards_;
  task->registry_shard = static_cast<uint16_t>(shard);
  Shard& s = shards_[shard];
  std::lock_guard lock(s.mu);
  task->registry_prev = nullptr;
  task->registry_next = s.head;
  if (s.head) s.head->registry_prev = task;
  s.head = task;
  ++s.count;
}

void TaskRegistry::unlink(Shard& s, TaskHeader* task) {
  if (task->registry_prev) {
    task->registry_prev->registry_next = task->registry_next;
  } else {
    s.head = task->registry_next;
  }
  if (task->registry_next) task->registry_next->registry_prev = task->registry_prev;
  task->registry_prev = task->registry_next = nullptr;
  --s.count;
}

void TaskRegistry::remove(TaskHeader* task) {
  Shard& s = shards_[task->registry_shard];
  std::lock_guard lock(s.mu);
  unlink(s, task);
}

TaskHeader* TaskRegistry::take_any() {
  for (std::size_t i = 0; i < num_shards_; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mu);
    if (TaskHeader* t = s.head) {
      unlink(s, t);
      return t;
    }
  }
  return nullptr;
}

}  // namespace weft::sched
