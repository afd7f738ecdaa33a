// A fiber joining a fiber child nobody has started runs it in place, on its
// own stack (scheduler/join_in_place.h), and everything a join promises
// still holds: the child's identity, result, exception, parks and
// cancellation.
//
// "In place" is read from frame addresses: a child run in place has its
// frames just below its joiner's, on the same stack; a child on a stack of
// its own is at least one stack mapping (twice Config::stack_size) away.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "runtime/core/stack.h"
#include "tests/support/runtime_fixture.h"
#include "weft/weft.h"

namespace weft {
namespace {

using namespace std::chrono_literals;

// The distance from the joiner's frame down to the child's below which the
// child ran on the joiner's stack (the frames in between take a few KiB).
constexpr std::intptr_t kInPlaceReach = 64 * 1024;

std::intptr_t frame() { return reinterpret_cast<std::intptr_t>(__builtin_frame_address(0)); }

bool ran_in_place(std::intptr_t joiner_frame, std::intptr_t child_frame) {
  const std::intptr_t below = joiner_frame - child_frame;
  return below > 0 && below < kInPlaceReach;
}

// Hand-off and preemption off: nothing but the joiner can take a child from
// its worker's LIFO slot between the spawn and the join, so whether a child
// runs in place depends only on the rules of join_in_place.h, step 1.
class JoinInPlace : public testing::RuntimeTest {
 protected:
  Config make_config() const override {
    Config c = RuntimeTest::make_config();
    c.handoff_after = std::chrono::microseconds(0);
    c.time_slice = std::chrono::microseconds(0);
    return c;
  }
};

struct Seen {
  std::intptr_t frame = 0;
  uint64_t id = 0;
  std::string name;
};

TEST_P(JoinInPlace, UnstartedChildRunsOnItsJoinersStackAsItself) {
  auto [joiner, child, child_id] = rt().block_on([] {
    Seen seen;
    auto h = spawn_fiber(
        [&seen] {
          seen = Seen{frame(), this_task::id(), std::string(this_task::name())};
          return 7;
        },
        SpawnOptions{.name = "child"});
    const uint64_t id = h.id();
    const std::intptr_t here = frame();
    EXPECT_EQ(h.join(), 7);
    return std::tuple{here, seen, id};
  });
  EXPECT_TRUE(ran_in_place(joiner, child.frame)) << "joiner " << joiner << " child " << child.frame;
  EXPECT_EQ(child.id, child_id);
  EXPECT_EQ(child.name, "child");
}

TEST_P(JoinInPlace, ExceptionReachesTheJoiner) {
  rt().block_on([] {
    auto h = spawn_fiber([]() -> int { throw std::runtime_error("in place"); });
    try {
      h.join();
      ADD_FAILURE() << "expected the child's exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "in place");
    }
    // The joiner goes on as usual, and its next child too.
    EXPECT_EQ(spawn_fiber([] { return 3; }).join(), 3);
  });
}

// A child that parks in place takes its joiner's stack with it; whoever wakes
// it resumes both, wherever the scheduler puts them.
TEST_P(JoinInPlace, ChildThatParksInPlaceResumesAndFinishes) {
  rt().block_on([] {
    Channel<int> ch(0);
    auto sender = spawn([](Channel<int>* ch) -> Task<void> {
      co_await sleep_for(2ms);
      EXPECT_FALSE(co_await ch->async_send(41));
    }(&ch));
    const std::intptr_t here = frame();
    std::intptr_t child_frame = 0;
    auto h = spawn_fiber([&] {
      child_frame = frame();
      sleep_for(1ms);
      return *ch.recv() + 1;
    });
    EXPECT_EQ(h.join(), 42);
    EXPECT_TRUE(ran_in_place(here, child_frame));
    sender.join();
  });
}

// skynet's shape with fibers: on one worker the whole tree runs on the root's
// stack; on several, only the children other workers started first need one.
uint64_t tree(uint64_t num, uint64_t size) {
  if (size == 1) return num;
  std::vector<JoinHandle<uint64_t>> kids;
  kids.reserve(10);
  for (uint64_t i = 0; i < 10; ++i) kids.push_back(spawn_fiber([=] { return tree(num + i * (size / 10), size / 10); }));
  uint64_t sum = 0;
  for (auto& k : kids) sum += k.join();
  return sum;
}

TEST_P(JoinInPlace, TreeOfFibersRunsOnFewStacks) {
  const long before = core::StackPool::mapped_stacks();
  EXPECT_EQ(rt().block_on([] { return tree(0, 10'000); }), 49'995'000u);
  // Finished stacks stay mapped in the runtime's cache until it ends, so
  // this counts every stack the tree ever took. Breadth-first, 1,111
  // parents would hold one each at once.
  const long stacks = core::StackPool::mapped_stacks() - before;
  if (workers() == 1) {
    EXPECT_LE(stacks, 2) << "the root's (and block_on's) only";
  } else {
    EXPECT_LT(stacks, 1111 / 2);
  }
}

TEST_P(JoinInPlace, PinnedChildGetsItsOwnStack) {
  rt().block_on([] {
    std::intptr_t child_frame = 0;
    const std::intptr_t here = frame();
    spawn_fiber([&] { child_frame = frame(); }, SpawnOptions{.name = "pinned", .pinned = true}).join();
    EXPECT_FALSE(ran_in_place(here, child_frame));
  });
}

// Step 1: a child is promised its stack size; it runs in place only when the
// joiner's stack has that much left.
TEST_P(JoinInPlace, ChildPromisedMoreStackThanIsLeftGetsItsOwn) {
  rt().block_on([] {
    std::intptr_t small = 0, large = 0;
    const std::intptr_t here = frame();
    spawn_fiber([&] { small = frame(); }, SpawnOptions{.name = "small", .stack_size = 64 * 1024}).join();
    spawn_fiber([&] { large = frame(); }, SpawnOptions{.name = "large", .stack_size = 1024 * 1024}).join();
    EXPECT_TRUE(ran_in_place(here, small));
    EXPECT_FALSE(ran_in_place(here, large));
  });
}

// A child already started elsewhere is waited for as before.
TEST_P(JoinInPlace, StartedChildIsWaitedFor) {
  rt().block_on([] {
    std::atomic<bool> started{false}, release{false};
    auto h = spawn_fiber([&] {
      started = true;
      while (!release) yield_now();
      return 5;
    });
    while (!started) yield_now();  // the child runs (and yields) first
    std::thread([&] {
      std::this_thread::sleep_for(2ms);
      release = true;
    }).detach();
    EXPECT_EQ(h.join(), 5);
  });
}

// A stop token cancels a child blocked in place; the joiner gets the
// cancellation and its own stack back.
TEST_P(JoinInPlace, CancelledWhileBlockedInPlace) {
  std::stop_source stop;
  std::atomic<bool> waiting{false};
  std::thread canceller([&] {
    while (!waiting) std::this_thread::sleep_for(100us);
    stop.request_stop();
  });
  rt().block_on([&] {
    const std::stop_token token = stop.get_token();
    std::intptr_t child_frame = 0;
    const std::intptr_t here = frame();
    auto h = spawn_fiber(
        [&] {
          child_frame = frame();
          waiting = true;
          sleep_for(1h);
          return 1;
        },
        SpawnOptions{.name = "sleeper", .stop = &token});
    EXPECT_THROW(h.join(), TaskCancelled);
    EXPECT_TRUE(ran_in_place(here, child_frame));
  });
  canceller.join();
}

// Shutdown with kCancel finds a child blocked in place (in the registry), its
// stale queue entry, and its joiner behind it: all unwind, no stack leaks
// (the fixture's teardown counts them).
TEST_P(JoinInPlace, ShutdownCancelsAChildBlockedInPlaceAndItsJoiner) {
  rt_.reset();
  Config c = make_config();
  c.shutdown = ShutdownPolicy::kCancel;
  rt_.emplace(c);
  std::atomic<bool> waiting{false};
  std::atomic<int> unwound{0};
  struct Count {
    std::atomic<int>* n;
    ~Count() { ++*n; }
  };
  auto joiner = rt().spawn_fiber([&] {
    Count c{&unwound};
    auto h = spawn_fiber([&] {
      Count c{&unwound};
      waiting = true;
      Event never;
      never.wait();
    });
    h.join();
  });
  while (!waiting) std::this_thread::sleep_for(100us);
  rt_.reset();
  EXPECT_EQ(unwound.load(), 2);
  EXPECT_THROW(joiner.join(), TaskCancelled);
}

WEFT_INSTANTIATE_OVER_WORKERS(JoinInPlace);

}  // namespace
}  // namespace weft
