#include "scheduler/task_registry.h"

#include <mutex>

namespace weft::sched {

using core::TaskHeader;

TaskRegistry::TaskRegistry(std::size_t shards) : shards_(new Shard[shards]), num_shards_(shards) {}

// Step 1.
void TaskRegistry::add(TaskHeader* task, std::size_t shard) {
  shard %= num_shards_;
  task->registry_shard = static_cast<uint16_t>(shard);
  Shard& s = shards_[shard];
  std::lock_guard lock(s.mu);
  if (s.free.empty()) {
    task->registry_index = static_cast<uint32_t>(s.slots.size());
    core::grow_for_push(s.slots);
    s.slots.push_back(task);
  } else {
    task->registry_index = s.free.back();
    s.free.pop_back();
    s.slots[task->registry_index] = task;
  }
  ++s.count;
}

void TaskRegistry::unlink(Shard& s, uint32_t index) {
  s.slots[index] = nullptr;
  core::grow_for_push(s.free);
  s.free.push_back(index);
  --s.count;
}

void TaskRegistry::remove(TaskHeader* task) {
  Shard& s = shards_[task->registry_shard];
  std::lock_guard lock(s.mu);
  unlink(s, task->registry_index);
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
        unlink(s, static_cast<uint32_t>(at));
        return t;
      }
    }
  }
  return nullptr;
}

// Step 2: the task's fields are read now; it may be freed once this returns.
void TaskRegistry::Removals::remove(TaskHeader* task) {
  std::vector<uint32_t>& list = pending_[task->registry_shard];
  list.push_back(task->registry_index);
  if (list.size() == kBatch) flush_shard(task->registry_shard);
}

void TaskRegistry::Removals::flush() {
  for (std::size_t shard = 0; shard < pending_.size(); ++shard) flush_shard(shard);
}

// Step 3.
void TaskRegistry::Removals::flush_shard(std::size_t shard) {
  std::vector<uint32_t>& list = pending_[shard];
  if (list.empty()) return;
  Shard& s = registry_.shards_[shard];
  {
    std::lock_guard lock(s.mu);
    for (uint32_t index : list) unlink(s, index);
  }
  list.clear();
}

}  // namespace weft::sched
