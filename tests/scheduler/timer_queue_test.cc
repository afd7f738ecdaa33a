// The per-worker timer heap: due entries fire in deadline order, a cancelled
// entry never fires, and Timer::cancel() says whether its timer had fired
// (which is how a waiter knows it timed out without reading the clock).
#include "scheduler/timer_queue.h"

#include <gtest/gtest.h>

#include <climits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

namespace weft::sched {
namespace {

// Records the tasks its timers make runnable.
struct RecordingExecutor final : core::Executor {
  std::vector<core::TaskHeader*> scheduled;
  void schedule(core::TaskHeader* task) override { scheduled.push_back(task); }
};

// A task blocked in a wait, as a timer finds it.
struct BlockedTask : core::TaskHeader {
  explicit BlockedTask(core::Executor* e) : TaskHeader(core::TaskKind::kCoroutine) {
    executor = e;
    init_refs(1000);  // never destroyed through unref here
    transition_to_running();
    transition_to_blocked();
  }
};

// Fires a queue step by step and checks what each step woke: nothing
// before its deadline, and deadlines never decreasing.
struct InOrderFiring {
  TimerQueue& q;
  RecordingExecutor& ex;
  const std::map<const core::TaskHeader*, int64_t>& deadline_of;
  std::size_t checked = 0;
  int64_t last_fired = -1;
  void fire(int64_t now) {
    q.fire_expired(now);
    for (; checked < ex.scheduled.size(); ++checked) {
      const int64_t d = deadline_of.at(ex.scheduled[checked]);
      EXPECT_LE(d, now);
      EXPECT_LE(last_fired, d);
      last_fired = d;
    }
  }
};

TEST(TimerQueue, FiresDueEntriesInDeadlineOrder) {
  RecordingExecutor ex;
  BlockedTask a(&ex), b(&ex), c(&ex);
  TimerQueue q;
  TimerQueue::Timer ta = q.add(30, core::Waker::for_task(&a));
  TimerQueue::Timer tb = q.add(10, core::Waker::for_task(&b));
  TimerQueue::Timer tc = q.add(20, core::Waker::for_task(&c));
  EXPECT_EQ(q.next_deadline(), 10);
  EXPECT_EQ(q.fire_expired(15), 1u);
  EXPECT_EQ(q.next_deadline(), 20);
  EXPECT_EQ(q.fire_expired(100), 2u);
  EXPECT_EQ(ex.scheduled, (std::vector<core::TaskHeader*>{&b, &c, &a}));
  EXPECT_EQ(q.next_deadline(), INT64_MAX);
}

TEST(TimerQueue, CancelSaysWhetherTheTimerHadFired) {
  RecordingExecutor ex;
  BlockedTask early(&ex), late(&ex);
  TimerQueue q;
  TimerQueue::Timer t_early = q.add(10, core::Waker::for_task(&early));
  TimerQueue::Timer t_late = q.add(50, core::Waker::for_task(&late));
  EXPECT_EQ(q.fire_expired(20), 1u);
  EXPECT_TRUE(t_early.cancel());   // it fired: its deadline has passed
  EXPECT_FALSE(t_late.cancel());   // cancelled before its deadline
  EXPECT_FALSE(t_late.cancel());   // a second cancel is a no-op
  EXPECT_EQ(q.fire_expired(100), 0u);  // the cancelled one never fires
  EXPECT_EQ(ex.scheduled, (std::vector<core::TaskHeader*>{&early}));
  EXPECT_EQ(late.state(), core::TaskState::kBlocked);
  EXPECT_EQ(q.next_deadline(), INT64_MAX);
}

TEST(TimerQueue, ManyCancelledEntriesAreDroppedWithoutFiring) {
  RecordingExecutor ex;
  BlockedTask t(&ex);
  TimerQueue q;
  std::vector<TimerQueue::Timer> timers;
  for (int i = 0; i < 1000; ++i) timers.push_back(q.add(1000 + i, core::Waker::for_task(&t)));
  for (auto& timer : timers) EXPECT_FALSE(timer.cancel());
  EXPECT_EQ(q.next_deadline(), INT64_MAX);
  EXPECT_EQ(q.fire_expired(INT64_MAX), 0u);
  EXPECT_TRUE(ex.scheduled.empty());
}


// Many entries, random deadlines with repeats, most cancelled (enough to
// make the heap compact itself), fired in several steps: every live entry
// fires exactly once, none early, in deadline order.
TEST(TimerQueue, RandomDeadlinesFireInOrderAcrossCompactions) {
  constexpr int kEntries = 5000;
  constexpr int64_t kLatest = 2000;
  RecordingExecutor ex;
  std::vector<std::unique_ptr<BlockedTask>> tasks;
  std::map<const core::TaskHeader*, int64_t> deadline_of;
  std::vector<TimerQueue::Timer> timers;
  std::mt19937 rng(7);
  TimerQueue q;
  for (int i = 0; i < kEntries; ++i) {
    tasks.push_back(std::make_unique<BlockedTask>(&ex));
    deadline_of[tasks.back().get()] = int64_t(rng() % kLatest);
    timers.push_back(q.add(deadline_of[tasks.back().get()], core::Waker::for_task(tasks.back().get())));
    // None has fired yet. Two in three of the new ones, and some older ones
    // anywhere in the heap: past half cancelled, the heap compacts.
    if (i % 3 != 0) {
      EXPECT_FALSE(timers.back().cancel());
    }
    if (i % 5 == 0) {
      EXPECT_FALSE(timers[rng() % timers.size()].cancel());
    }
  }
  std::set<const core::TaskHeader*> live;
  for (int i = 0; i < kEntries; ++i)
    if (timers[i]) live.insert(tasks[i].get());
  ASSERT_LT(live.size(), std::size_t(kEntries / 3));
  InOrderFiring firing{q, ex, deadline_of};
  for (int64_t now = 0; now <= kLatest + 100; now += 97) {
    firing.fire(now);
    if (q.next_deadline() != INT64_MAX) {
      EXPECT_GT(q.next_deadline(), now);
    }
  }
  EXPECT_EQ(std::set<const core::TaskHeader*>(ex.scheduled.begin(), ex.scheduled.end()), live);
  EXPECT_EQ(ex.scheduled.size(), live.size());
  EXPECT_TRUE(q.empty());
}

// Sleepers that all sleep the same length add deadlines in order: those go
// to the run, not the heap. A run that keeps growing while its front fires
// (it never empties, so its fired front is dropped in bulk), with earlier
// deadlines going to the heap in between and some of each cancelled: every
// live entry fires once, in deadline order, never early.
TEST(TimerQueue, InOrderRunAndHeapFireTogetherInDeadlineOrder) {
  constexpr int kEntries = 20000;
  RecordingExecutor ex;
  std::vector<std::unique_ptr<BlockedTask>> tasks;
  std::map<const core::TaskHeader*, int64_t> deadline_of;
  std::vector<TimerQueue::Timer> timers;
  std::set<const core::TaskHeader*> live;
  TimerQueue q;
  InOrderFiring firing{q, ex, deadline_of};
  for (int i = 0; i < kEntries; ++i) {
    const int64_t now = i;
    // Mostly now + 1000 (in order); every seventh now + 10 (earlier than
    // the run's back: the heap).
    const int64_t d = now + (i % 7 == 0 ? 10 : 1000);
    tasks.push_back(std::make_unique<BlockedTask>(&ex));
    deadline_of[tasks.back().get()] = d;
    timers.push_back(q.add(d, core::Waker::for_task(tasks.back().get())));
    if (i % 11 == 0) {
      EXPECT_FALSE(timers.back().cancel());
    } else {
      live.insert(tasks.back().get());
    }
    firing.fire(now);
  }
  firing.fire(INT64_MAX);
  EXPECT_EQ(std::set<const core::TaskHeader*>(ex.scheduled.begin(), ex.scheduled.end()), live);
  EXPECT_EQ(ex.scheduled.size(), live.size());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_deadline(), INT64_MAX);
}

// Cancelled entries in the run count toward compaction like the heap's:
// cancelling most of a long in-order run drops them without firing, and the
// rest still fire in order.
TEST(TimerQueue, CancelledRunEntriesAreCompactedAway) {
  RecordingExecutor ex;
  BlockedTask kept(&ex), dropped(&ex);
  TimerQueue q;
  std::vector<TimerQueue::Timer> timers;
  for (int i = 0; i < 1000; ++i) {
    timers.push_back(q.add(100 + i, core::Waker::for_task(i % 100 == 0 ? &kept : &dropped)));
    if (i % 100 != 0) {
      EXPECT_FALSE(timers.back().cancel());
    }
  }
  EXPECT_EQ(q.next_deadline(), 100);
  EXPECT_EQ(q.fire_expired(INT64_MAX), 10u);
  for (core::TaskHeader* t : ex.scheduled) EXPECT_EQ(t, &kept);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace weft::sched
