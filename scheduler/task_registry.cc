#include "scheduler/task_registry.h"

#include <mutex>

namespace weft::sched {

using core::TaskHeader;

TaskRegistry::TaskRegistry(std::size_t shards) : shards_(new Shard[shards]), num_shards_(shards) {}

void TaskRegistry::add(TaskHeader* task, std::size_t shard) {
  shard %= num_shards_;
  task->registry_shard = static_cast<uint16_t>(shard);
  Shard& s = shards_[shard];
  std::lock_guard lock(s.mu);
  if (s.free.empty()) {
    task->registry_index = static_cast<uint32_t>(s.slots.size());
    s.slots.push_back(task);
  } else {
    task->registry_index = s.free.back();
    s.free.pop_back();
    s.slots[task->registry_index] = task;
  }
  ++s.count;
}

void TaskRegistry::unlink(Shard& s, TaskHeader* task) {
  s.slots[task->registry_index] = nullptr;
  s.free.push_back(task->registry_index);
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
    if (s.count == 0) continue;
    // From the cursor, wrapping once: slots below it may have been reused.
    for (std::size_t k = 0; k < s.slots.size(); ++k) {
      std::size_t at = (s.scan_from + k) % s.slots.size();
      if (TaskHeader* t = s.slots[at]) {
        s.scan_from = at;
        unlink(s, t);
        return t;
      }
    }
  }
  return nullptr;
}

}  // namespace weft::sched
