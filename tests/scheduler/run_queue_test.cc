// The local run queue: FIFO for its owner, overflow of half to the inject
// queue, and steal-half; under contention every task is taken exactly once.
#include "scheduler/run_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "scheduler/inject_queue.h"

namespace weft::sched {
namespace {

using core::TaskHeader;

struct Fake : TaskHeader {
  Fake() : TaskHeader(core::TaskKind::kCoroutine) {}
};

TEST(RunQueue, OwnerPopsInFifoOrder) {
  RunQueue q;
  InjectQueue inject;
  auto local = q.local();
  std::vector<Fake> tasks(10);
  for (auto& t : tasks) local.push(&t, inject);
  EXPECT_EQ(local.len(), 10u);
  for (auto& t : tasks) EXPECT_EQ(local.pop(), &t);
  EXPECT_EQ(local.pop(), nullptr);
}

TEST(RunQueue, SingleConsumerPopKeepsFifoAndWraps) {
  // With no stealers the owner pops without a CAS; order and wrap-around
  // must be the same.
  RunQueue q;
  InjectQueue inject;
  auto local = q.local();
  std::vector<Fake> tasks(3 * RunQueue::kCapacity);
  std::size_t next_in = 0, next_out = 0;
  for (int round = 0; round < 3; ++round) {
    for (uint32_t i = 0; i < RunQueue::kCapacity - 1; ++i) local.push(&tasks[next_in++ % tasks.size()], inject);
    while (TaskHeader* t = local.pop(/*stealers_possible=*/false)) EXPECT_EQ(t, &tasks[next_out++ % tasks.size()]);
  }
  EXPECT_EQ(next_in, next_out);
  EXPECT_TRUE(inject.is_empty());
}

TEST(RunQueue, OverflowMovesHalfToInject) {
  RunQueue q;
  InjectQueue inject;
  auto local = q.local();
  std::vector<Fake> tasks(RunQueue::kCapacity + 1);
  for (auto& t : tasks) local.push(&t, inject);
  EXPECT_EQ(local.len(), RunQueue::kCapacity / 2);
  EXPECT_EQ(inject.len(), RunQueue::kCapacity / 2 + 1);
  std::vector<TaskHeader*> out(1000);
  std::size_t n = inject.pop_batch(out.data(), out.size());
  ASSERT_EQ(n, RunQueue::kCapacity / 2 + 1);
  for (std::size_t i = 0; i + 1 < n; ++i) EXPECT_EQ(out[i], &tasks[i]);  // the oldest half, in order
  EXPECT_EQ(out[n - 1], &tasks[RunQueue::kCapacity]);                    // then the one that overflowed
  EXPECT_TRUE(inject.is_empty());
}

// Overflow copies pointers: the tasks' queue links are neither written nor
// read (they may be cold, or in use by nobody).
TEST(RunQueue, OverflowLeavesTaskHeadersUntouched) {
  RunQueue q;
  InjectQueue inject;
  auto local = q.local();
  std::vector<Fake> tasks(RunQueue::kCapacity + 1);
  TaskHeader* const marker = &tasks[0];
  for (auto& t : tasks) t.queue_next = marker;
  for (auto& t : tasks) local.push(&t, inject);
  for (auto& t : tasks) EXPECT_EQ(t.queue_next, marker);
}

TEST(InjectQueue, ChainsAndArraysEachStayInOrderAndNeitherStarves) {
  InjectQueue inject;
  std::vector<Fake> tasks(1200);
  std::vector<TaskHeader*> array_part;
  for (std::size_t i = 0; i < 1000; ++i) array_part.push_back(&tasks[i]);
  inject.push_array(array_part.data(), array_part.size());  // spans several segments
  for (std::size_t i = 1000; i < 1200; ++i) inject.push(&tasks[i]);
  EXPECT_EQ(inject.len(), 1200u);
  std::vector<TaskHeader*> got;
  TaskHeader* out[7];
  bool chain_seen_early = false;
  while (std::size_t n = inject.pop_batch(out, std::size(out))) {
    for (std::size_t i = 0; i < n; ++i) {
      if (got.size() < 50 && out[i] >= &tasks[1000]) chain_seen_early = true;
      got.push_back(out[i]);
    }
  }
  ASSERT_EQ(got.size(), 1200u);
  EXPECT_TRUE(chain_seen_early);  // single pushes are not stuck behind 1000 overflowed tasks
  std::size_t next_array = 0, next_chain = 1000;
  for (TaskHeader* t : got) {
    if (t < &tasks[1000]) {
      EXPECT_EQ(t, &tasks[next_array++]);
    } else {
      EXPECT_EQ(t, &tasks[next_chain++]);
    }
  }
  EXPECT_TRUE(inject.is_empty());
  inject.push_array(array_part.data(), 3);  // segments are reused after emptying
  EXPECT_EQ(inject.pop_batch(out, std::size(out)), 3u);
}

TEST(RunQueue, StealTakesHalf) {
  RunQueue victim, thief;
  InjectQueue inject;
  auto vl = victim.local();
  auto tl = thief.local();
  std::vector<Fake> tasks(10);
  for (auto& t : tasks) vl.push(&t, inject);
  TaskHeader* got = victim.steal().steal_into(tl);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(tl.len() + 1, 5u);
  EXPECT_EQ(vl.len(), 5u);
  EXPECT_TRUE(thief.steal().is_empty() == (tl.len() == 0));
}

TEST(RunQueue, ConcurrentPopAndStealTakeEachTaskOnce) {
  constexpr int kTasks = 200'000;
  RunQueue owner_q;
  InjectQueue inject;
  std::vector<Fake> tasks(kTasks);
  std::vector<std::atomic<int>> seen(kTasks);
  auto index_of = [&](TaskHeader* t) { return static_cast<Fake*>(t) - tasks.data(); };
  std::atomic<bool> done{false};
  std::vector<std::thread> thieves;
  for (int k = 0; k < 3; ++k) {
    thieves.emplace_back([&] {
      RunQueue mine;
      auto ml = mine.local();
      while (!done.load(std::memory_order_acquire) || !owner_q.steal().is_empty()) {
        if (TaskHeader* t = owner_q.steal().steal_into(ml)) {
          seen[index_of(t)]++;
          while (TaskHeader* u = ml.pop()) seen[index_of(u)]++;
        }
      }
    });
  }
  auto local = owner_q.local();
  for (int i = 0; i < kTasks; ++i) {
    local.push(&tasks[i], inject);
    if (i % 3 == 0)
      if (TaskHeader* t = local.pop()) seen[index_of(t)]++;
  }
  while (TaskHeader* t = local.pop()) seen[index_of(t)]++;
  done.store(true, std::memory_order_release);
  for (auto& t : thieves) t.join();
  std::vector<TaskHeader*> rest(kTasks);
  std::size_t n = inject.pop_batch(rest.data(), rest.size());
  for (std::size_t i = 0; i < n; ++i) seen[index_of(rest[i])]++;
  for (int i = 0; i < kTasks; ++i) ASSERT_EQ(seen[i].load(), 1) << "task " << i;
}

}  // namespace
}  // namespace weft::sched
