// The registry of blocked tasks: slots are reused, removal touches only the
// removed task, and shutdown's take_any finds every task exactly once.
#include "scheduler/task_registry.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <thread>
#include <vector>

namespace weft::sched {
namespace {

using core::TaskHeader;

struct Fake : TaskHeader {
  Fake() : TaskHeader(core::TaskKind::kCoroutine) {}
};

std::set<TaskHeader*> take_all(TaskRegistry& r) {
  std::set<TaskHeader*> out;
  while (TaskHeader* t = r.take_any()) EXPECT_TRUE(out.insert(t).second) << "taken twice";
  return out;
}

TEST(TaskRegistry, TakeAnyReturnsEachRemainingTaskOnce) {
  TaskRegistry r(2);
  std::vector<Fake> tasks(100);
  for (std::size_t i = 0; i < tasks.size(); ++i) r.add(&tasks[i], i);
  for (std::size_t i = 0; i < tasks.size(); i += 3) r.remove(&tasks[i]);
  std::set<TaskHeader*> left = take_all(r);
  EXPECT_EQ(left.size(), 66u);
  for (std::size_t i = 0; i < tasks.size(); ++i) EXPECT_EQ(left.count(&tasks[i]), i % 3 == 0 ? 0u : 1u) << i;
  EXPECT_EQ(r.take_any(), nullptr);
}

// Tasks park on one worker and finish on another: two threads adding to
// and removing from one shard at once (its spin lock; TSan checks it).
TEST(TaskRegistry, OneShardServesTwoThreadsAtOnce) {
  TaskRegistry r(1);
  std::vector<Fake> a(5000), b(5000);
  auto churn = [&r](std::vector<Fake>& tasks) {
    for (int round = 0; round < 4; ++round) {
      for (auto& t : tasks) r.add(&t, 0);
      for (auto& t : tasks) r.remove(&t);
    }
    for (auto& t : tasks) r.add(&t, 0);
  };
  std::thread ta(churn, std::ref(a)), tb(churn, std::ref(b));
  ta.join();
  tb.join();
  std::set<TaskHeader*> left = take_all(r);
  EXPECT_EQ(left.size(), a.size() + b.size());
}

TEST(TaskRegistry, RemovalWritesNoOtherTask) {
  TaskRegistry r(1);
  std::vector<Fake> tasks(3);
  for (auto& t : tasks) r.add(&t, 0);
  const uint32_t before0 = tasks[0].registry_index, before2 = tasks[2].registry_index;
  r.remove(&tasks[1]);
  EXPECT_EQ(tasks[0].registry_index, before0);
  EXPECT_EQ(tasks[2].registry_index, before2);
  EXPECT_EQ(take_all(r), (std::set<TaskHeader*>{&tasks[0], &tasks[2]}));
}

TEST(TaskRegistry, FreedSlotsAreReusedAndTakeAnyStillSeesThem) {
  TaskRegistry r(1);
  std::vector<Fake> tasks(10);
  for (int i = 0; i < 8; ++i) r.add(&tasks[i], 0);
  for (int i = 0; i < 8; ++i) r.remove(&tasks[i]);
  r.add(&tasks[8], 0);
  EXPECT_LT(tasks[8].registry_index, 8u);  // a freed slot, not a new one
  EXPECT_EQ(r.take_any(), &tasks[8]);
  r.add(&tasks[9], 0);  // below take_any's cursor: the scan wraps to find it
  r.add(&tasks[0], 0);
  EXPECT_EQ(take_all(r), (std::set<TaskHeader*>{&tasks[9], &tasks[0]}));
}

}  // namespace
}  // namespace weft::sched
