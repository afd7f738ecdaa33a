// The per-worker timer heap: due entries fire in deadline order, a cancelled
// entry never fires, and Timer::cancel() says whether its timer had fired
// (which is how a waiter knows it timed out without reading the clock).
#include "scheduler/timer_queue.h"

#include <gtest/gtest.h>

#include <climits>
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

}  // namespace
}  // namespace weft::sched
