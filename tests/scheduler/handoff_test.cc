// Hand-off (Config::handoff_after): a worker stuck in a system call that was
// not offloaded does not keep its queued tasks from running. The monitor has
// the stuck worker's thread move its LIFO slot into its stealable ring, then
// wakes an idle worker to take them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "runtime/core/detail/sanitizers.h"
#include "tests/support/eventually.h"
#include "tests/support/runtime_fixture.h"
#include "weft/weft.h"

namespace weft {
namespace {

using namespace std::chrono_literals;

constexpr int kChildren = 10;

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() { EXPECT_EQ(::pipe(fd), 0); }
  ~Pipe() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
};

// A fiber on worker 0 spawns children (they queue on worker 0, the last in
// its LIFO slot) and then blocks its worker in read(). Returns how many
// children ran within `wait` while it was blocked. Blockers are not
// preemptible: on a loaded machine (TSan, CI) a blocker's spawn loop could
// outlast its time slice, and its worker would run the children itself
// before the read, which is not what these tests are about.
int children_run_while_blocked(Runtime& rt, std::chrono::milliseconds wait) {
  Pipe p;
  auto ran_ptr = std::make_shared<std::atomic<int>>(0);  // children may outlive this frame
  std::atomic<int>& ran = *ran_ptr;
  std::atomic<bool> blocked{false};
  auto blocker = rt.spawn_fiber(
      [&] {
        for (int i = 0; i < kChildren; ++i) spawn_fiber([ran_ptr] { ran_ptr->fetch_add(1); }).detach();
        blocked = true;
        char c;
        return ::read(p.fd[0], &c, 1);  // a blocking call weft does not know about
      },
      SpawnOptions{.name = "blocker", .preemptible = false, .worker = 0});
  while (!blocked.load()) std::this_thread::yield();
  testing::eventually([&] { return ran.load() >= kChildren; }, wait);
  const int seen = ran.load();
  EXPECT_EQ(::write(p.fd[1], "x", 1), 1);
  EXPECT_EQ(blocker.join(), 1);
  return seen;
}

// On every worker a fiber spawns kChildren fibers running `child` (they
// queue on that worker, the last in its LIFO slot) and then blocks its
// worker in read() on its own pipe. The constructor returns once every
// blocker is about to read; release() ends the reads.
class EveryWorkerBlocked {
 public:
  EveryWorkerBlocked(Runtime& rt, std::function<void()> child) : pipes_(rt.workers()) {
    std::atomic<int> blocked{0};
    for (std::size_t w = 0; w < pipes_.size(); ++w) {
      blockers_.push_back(rt.spawn_fiber(
          [&blocked, child, fd = pipes_[w].fd[0]] {
            for (int i = 0; i < kChildren; ++i) spawn_fiber(child).detach();
            blocked.fetch_add(1);
            char c;
            return ::read(fd, &c, 1);
          },
          SpawnOptions{.name = "blocker", .preemptible = false, .worker = static_cast<uint32_t>(w)}));
    }
    while (blocked.load() < static_cast<int>(pipes_.size())) std::this_thread::sleep_for(1ms);
  }

  void release() {
    for (auto& p : pipes_) EXPECT_EQ(::write(p.fd[1], "x", 1), 1);
    for (auto& b : blockers_) EXPECT_EQ(b.join(), 1);
  }

 private:
  std::vector<Pipe> pipes_;
  std::vector<JoinHandle<ssize_t>> blockers_;
};

class HandOff : public testing::RuntimeTest {};

TEST_P(HandOff, BlockedWorkersQueuedTasksRunElsewhere) {
  // One worker: a spare worker takes them. ThreadSanitizer defers a signal
  // that arrives outside its interceptors, and the monitor's kHandOff
  // signals to a thread blocked in read() reach the handler late or not at
  // all, so this cannot be observed there.
  if (core::kTsan) GTEST_SKIP() << "ThreadSanitizer defers the monitor's signals";
  EXPECT_EQ(children_run_while_blocked(rt(), 5s), kChildren);
}

TEST_P(HandOff, WithHandOffOffTheLifoTaskWaits) {
  if (workers() == 1) GTEST_SKIP() << "nothing to compare on one worker";
  rt_.reset();
  Config c = make_config();
  c.handoff_after = 0us;
  rt_.emplace(c);
  // The others steal the ring; the task in the LIFO slot stays put.
  EXPECT_EQ(children_run_while_blocked(rt(), 300ms), kChildren - 1);
}

// Every worker blocked in read() at once: nobody is idle, so spare workers
// take the queued tasks; once the calls return the spares rest again.
TEST_P(HandOff, EveryWorkerBlockedSpareWorkersRunTheirTasks) {
  if (core::kTsan && workers() == 1)
    GTEST_SKIP() << "a lone worker's queue reaches the spares only through the kHandOff signal, which "
                    "ThreadSanitizer defers";
  const int n = static_cast<int>(workers());
  auto ran = std::make_shared<std::atomic<int>>(0);  // children may outlive the test body
  EveryWorkerBlocked blocked(rt(), [ran] { ran->fetch_add(1); });
  // Each blocker's last child sits in its worker's LIFO slot until the
  // kHandOff signal moves it, which ThreadSanitizer may never deliver.
  const int want = core::kTsan ? n * (kChildren - 1) : n * kChildren;
  EXPECT_TRUE(testing::eventually([&] { return ran->load() >= want; }, 10s)) << ran->load() << " of " << want << " ran";
  EXPECT_GE(rt().spare_workers_started(), 1u);
  blocked.release();
  // The runtime carries on normally afterwards, spares or not.
  EXPECT_EQ(rt().block_on([] { return spawn([]() -> Task<int> { co_return 7; }()).join(); }), 7);
}

// Tasks a spare ran may sleep on its timers; when the blocked calls return
// the spare rests, yet it still fires those timers and hands the woken tasks
// to the regular workers.
TEST_P(HandOff, TimersOfARestingSpareStillFire) {
  if (core::kTsan) GTEST_SKIP() << "needs the kHandOff signal for the LIFO child (see above)";
  const int n = static_cast<int>(workers());
  auto asleep = std::make_shared<std::atomic<int>>(0);
  auto woke = std::make_shared<std::atomic<int>>(0);
  EveryWorkerBlocked blocked(rt(), [asleep, woke] {
    asleep->fetch_add(1);
    sleep_for(200ms);
    woke->fetch_add(1);
  });
  testing::eventually([&] { return asleep->load() >= n * kChildren; }, 10s);
  ASSERT_EQ(asleep->load(), n * kChildren);
  EXPECT_EQ(woke->load(), 0);
  blocked.release();  // the spares are no longer wanted
  testing::eventually([&] { return woke->load() >= n * kChildren; }, 10s);
  EXPECT_EQ(woke->load(), n * kChildren);
}

TEST_P(HandOff, NoSpareForAWorkerThatComputes) {
  // A long computation is not a blocked worker (its thread is running):
  // preemption, not a spare, is the answer to it.
  Config c = make_config();
  c.time_slice = 0us;
  rt_.reset();
  rt_.emplace(c);
  std::atomic<bool> stop{false};
  auto spinner = rt().spawn_fiber([&] {
    for (int i = 0; i < kChildren; ++i) spawn_fiber([] {}).detach();
    while (!stop.load(std::memory_order_relaxed)) {
    }
  }, SpawnOptions{.name = "spinner", .worker = 0});
  std::this_thread::sleep_for(100ms);
  stop = true;
  spinner.join();
  EXPECT_EQ(rt().spare_workers_started(), 0u);
}

TEST(HandOffSpares, OffWhenMaxSpareWorkersIsZero) {
  Config c;
  c.workers = 1;
  c.max_spare_workers = 0;
  Runtime rt{c};
  EXPECT_EQ(children_run_while_blocked(rt, 200ms), 0);  // all queued on the one blocked worker
  EXPECT_EQ(rt.spare_workers_started(), 0u);
}

WEFT_INSTANTIATE_OVER_WORKERS(HandOff);

}  // namespace
}  // namespace weft
