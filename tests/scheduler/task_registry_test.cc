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

// Removals (task_registry.h, steps 2-3): a noted slot is neither reused nor
// reported until its batch is flushed, and flushing frees it.
TEST(TaskRegistry, RemovalsFreeSlotsWhenFlushed) {
  TaskRegistry r(2);
  TaskRegistry::Removals removals(r);
  std::vector<Fake> tasks(6);
  for (int i = 0; i < 4; ++i) r.add(&tasks[i], i % 2);
  const uint32_t noted = tasks[1].registry_index;
  removals.remove(&tasks[1]);
  r.add(&tasks[4], 1);  // the noted slot is not free yet
  EXPECT_NE(tasks[4].registry_index, noted);
  removals.flush();
  r.add(&tasks[5], 1);  // now it is
  EXPECT_EQ(tasks[5].registry_index, noted);
  EXPECT_EQ(take_all(r), (std::set<TaskHeader*>{&tasks[0], &tasks[2], &tasks[3], &tasks[4], &tasks[5]}));
}

// A full batch flushes itself: a worker that never idles still frees slots.
TEST(TaskRegistry, RemovalsFlushEachFullBatch) {
  TaskRegistry r(1);
  TaskRegistry::Removals removals(r);
  std::vector<Fake> tasks(1000);
  for (auto& t : tasks) r.add(&t, 0);
  for (auto& t : tasks) removals.remove(&t);
  // At most one batch (64) is still noted; the rest were freed and are
  // reused before any new slot is made.
  std::vector<Fake> more(900);
  for (auto& t : more) r.add(&t, 0);
  for (auto& t : more) EXPECT_LT(t.registry_index, tasks.size());
  removals.flush();
  EXPECT_EQ(take_all(r).size(), more.size());
}

// Two workers, each with its own Removals, finishing tasks that parked on
// the same shard while a third thread adds to it (TSan checks the lock).
TEST(TaskRegistry, RemovalsFromTwoThreadsIntoOneShard) {
  TaskRegistry r(2);
  std::vector<Fake> a(20000), b(20000), c(5000);
  for (auto& t : a) r.add(&t, 0);
  for (auto& t : b) r.add(&t, 0);
  auto finish = [&r](std::vector<Fake>& tasks) {
    TaskRegistry::Removals removals(r);
    for (auto& t : tasks) removals.remove(&t);
    removals.flush();
  };
  std::thread ta(finish, std::ref(a)), tb(finish, std::ref(b));
  std::thread tc([&] {
    for (auto& t : c) r.add(&t, 0);
  });
  ta.join();
  tb.join();
  tc.join();
  std::set<TaskHeader*> left = take_all(r);
  EXPECT_EQ(left.size(), c.size());
  for (auto& t : c) EXPECT_EQ(left.count(&t), 1u);
}

}  // namespace
}  // namespace weft::sched
