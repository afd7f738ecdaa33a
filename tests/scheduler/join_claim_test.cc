// A task joining a fiber that has not started runs it next on its own worker
// (runtime/core/fiber.h, "who starts a fiber"): the fiber's spawn entry goes
// stale and is skipped later. Over 1, 2, 4 and 16 workers, with the
// fixture's leak check.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "runtime/core/stack.h"
#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

using testing::RuntimeTest;

class JoinClaim : public RuntimeTest {};

std::atomic<long> peak_stacks{0};

uint64_t fiber_tree(uint64_t num, uint64_t size) {
  if (size == 1) {
    long now = core::StackPool::mapped_stacks();
    long seen = peak_stacks.load();
    while (now > seen && !peak_stacks.compare_exchange_weak(seen, now)) {
    }
    return num;
  }
  JoinHandle<uint64_t> kids[10];
  for (uint64_t i = 0; i < 10; ++i) {
    uint64_t sub = num + i * (size / 10);
    kids[i] = spawn_fiber([sub, size] { return fiber_tree(sub, size / 10); });
  }
  uint64_t sum = 0;
  for (auto& k : kids) sum += k.join();
  return sum;
}

TEST_P(JoinClaim, FiberTreeSumsRight) {
  EXPECT_EQ(rt().block_on([] { return fiber_tree(0, 10'000); }), 49'995'000u);
}

// On one worker nobody else takes the children, so the tree runs mostly
// depth first. Breadth first, the 1,000 parents of leaves would all hold a
// stack at once; claimed children keep the blocked parents to a few paths
// (a parent woken through the LIFO slot still goes to the back of the ring
// every fourth time, so the others queued get their turn).
TEST(JoinClaimOneWorker, FiberTreeKeepsFewerStacksThanALevel) {
  long before = core::StackPool::mapped_stacks();
  peak_stacks = before;
  {
    Runtime rt{Config{.workers = 1}};
    EXPECT_EQ(rt.block_on([] { return fiber_tree(0, 10'000); }), 49'995'000u);
  }
  EXPECT_LT(peak_stacks.load() - before, 500);
  EXPECT_EQ(core::StackPool::mapped_stacks(), before);
}

// The claimed child parks and is woken while its stale entry still waits
// behind other queued tasks: one of its two entries runs it, once.
TEST_P(JoinClaim, ClaimedFiberWokenBeforeItsStaleEntryRuns) {
  std::atomic<int> fillers{0};
  std::atomic<int> runs{0};
  Event go;
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    go.set();
  });
  int v = rt().block_on([&] {
    std::vector<JoinHandle<void>> queued;
    for (int i = 0; i < 300; ++i)  // more than a ring: some overflow
      queued.push_back(spawn_fiber([&] {
        for (int k = 0; k < 3; ++k) yield_now();
        fillers++;
      }));
    auto child = spawn_fiber([&] {
      runs++;
      go.wait();
      for (int k = 0; k < 3; ++k) yield_now();
      return 7;
    });
    int r = child.join();
    for (auto& h : queued) h.join();
    return r;
  });
  setter.join();
  EXPECT_EQ(v, 7);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(fillers.load(), 300);
}

// Shutdown with cancel finds a claimed fiber blocked for ever, and drops its
// stale entry without cancelling anything twice (the fixture checks leaks).
class JoinClaimCancel : public RuntimeTest {
  Config make_config() const override {
    Config c = RuntimeTest::make_config();
    c.shutdown = ShutdownPolicy::kCancel;
    return c;
  }
};

TEST_P(JoinClaimCancel, ShutdownCancelsClaimedFibers) {
  std::atomic<int> blocked{0};
  std::atomic<int> unwound{0};
  struct Unwound {
    std::atomic<int>* n;
    ~Unwound() { ++*n; }
  };
  for (int i = 0; i < 20; ++i) {
    rt().spawn_fiber([&] {
      Unwound u{&unwound};
      auto child = spawn_fiber([&] {
        Unwound cu{&unwound};
        blocked++;
        Event never;
        never.wait();
      });
      child.join();
    }).detach();
  }
  while (blocked.load() < 20) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  rt_.reset();
  EXPECT_EQ(unwound.load(), 40);
}

WEFT_INSTANTIATE_OVER_WORKERS(JoinClaim);
WEFT_INSTANTIATE_OVER_WORKERS(JoinClaimCancel);

}  // namespace
}  // namespace weft
