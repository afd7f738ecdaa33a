// Destroying a Runtime with tasks still alive: kWait waits for them, kCancel
// cancels them, and either way every frame and stack is freed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

struct Counted {
  std::atomic<int>* live;
  explicit Counted(std::atomic<int>* l) : live(l) { ++*live; }
  ~Counted() { --*live; }
};

class Shutdown : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Shutdown, WaitPolicyWaitsForLiveTasks) {
  std::atomic<int> done{0};
  long stacks = core::StackPool::mapped_stacks();
  {
    Runtime rt{Config{.workers = GetParam()}};
    for (int i = 0; i < 50; ++i) {
      rt.spawn_fiber([&] {
        for (int k = 0; k < 100; ++k) yield_now();
        done++;
      }).detach();
      rt.spawn([](std::atomic<int>* done) -> Task<void> {
        for (int k = 0; k < 100; ++k) co_await yield_now();
        (*done)++;
      }(&done)).detach();
    }
  }
  EXPECT_EQ(done.load(), 100);
  EXPECT_EQ(core::StackPool::mapped_stacks(), stacks);
}

TEST_P(Shutdown, CancelPolicyUnwindsEverything) {
  std::atomic<int> live{0};
  std::atomic<bool> started_fiber{false};
  std::atomic<bool> started_coroutine{false};
  std::atomic<int> cancelled_seen{0};
  long stacks = core::StackPool::mapped_stacks();
  JoinHandle<int> outlives;  // a handle that outlives its runtime
  {
    Config c;
    c.workers = GetParam();
    c.shutdown = ShutdownPolicy::kCancel;
    Runtime rt{c};
    // Runs forever: cancelled while runnable (fiber: unwound).
    rt.spawn_fiber([&] {
      Counted guard(&live);
      started_fiber = true;
      try {
        for (;;) yield_now();
      } catch (const TaskCancelled&) {
        cancelled_seen++;
        throw;
      }
    }).detach();
    rt.spawn([](std::atomic<int>* live, std::atomic<bool>* started) -> Task<void> {
      Counted guard(live);
      *started = true;
      for (;;) co_await yield_now();
    }(&live, &started_coroutine)).detach();
    // Blocked forever: a fiber and a coroutine joining a task that never ends.
    auto forever = rt.spawn_fiber([&] {
      Counted guard(&live);
      for (;;) yield_now();
      return 0;
    });
    auto fiber_joiner = rt.spawn_fiber([&, h = std::move(forever)]() mutable {
      Counted guard(&live);
      return h.join();
    });
    outlives = std::move(fiber_joiner);
    // Queued but never started (the runtime is busy with the spinners).
    for (int i = 0; i < 100; ++i) rt.spawn_fiber([&] { Counted guard(&live); }).detach();
    while (!started_fiber || !started_coroutine) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(live.load(), 0) << "a task's locals were not destroyed";
  EXPECT_GE(cancelled_seen.load(), 1);
  EXPECT_THROW(outlives.join(), TaskCancelled);
  EXPECT_EQ(core::StackPool::mapped_stacks(), stacks);
}

// Coroutines blocked on weft primitives when a kCancel runtime goes away are
// resumed with TaskCancelled: their frames unwind (locals destroyed, LSan
// finds no frame left) although their Waiters still point at the task.
TEST_P(Shutdown, CancelUnwindsCoroutinesBlockedOnPrimitives) {
  std::atomic<int> live{0};
  Channel<int> ch(0);  // outlives the runtime, as primitives often do
  Mutex mu;
  mu.lock();
  {
    Config c;
    c.workers = GetParam();
    c.shutdown = ShutdownPolicy::kCancel;
    Runtime rt{c};
    for (int i = 0; i < 3; ++i) {
      rt.spawn([](std::atomic<int>* live, Channel<int>* ch) -> Task<void> {
        Counted guard(live);
        (void)co_await ch->async_recv();
      }(&live, &ch)).detach();
      rt.spawn([](std::atomic<int>* live, Mutex* mu) -> Task<void> {
        Counted guard(live);
        co_await mu->async_lock();
        mu->unlock();
      }(&live, &mu)).detach();
    }
    while (live.load() < 6) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(live.load(), 0) << "a blocked coroutine's locals were not destroyed";
  mu.unlock();
  EXPECT_EQ(ch.try_send(1), Errc::kWouldBlock) << "a cancelled receiver is still queued";
}

// A pair of coroutines that pass a token for ever runs round after round
// from its worker's LIFO slot without going back to the worker's loop
// (scheduler/worker.cc, run_task()); a kCancel shutdown still ends it.
TEST_P(Shutdown, CancelEndsAPairPassingATokenForEver) {
  std::atomic<int> live{0};
  std::atomic<int> rounds{0};
  Channel<int> ping(1), pong(1);
  {
    Config c;
    c.workers = GetParam();
    c.shutdown = ShutdownPolicy::kCancel;
    Runtime rt{c};
    auto side = [](std::atomic<int>* live, std::atomic<int>* rounds, Channel<int>* in, Channel<int>* out,
                   bool first) -> Task<void> {
      Counted guard(live);
      if (first) (void)co_await out->async_send(0);
      for (;;) {
        Result<int> v = co_await in->async_recv();
        if (!v) co_return;
        rounds->fetch_add(1, std::memory_order_relaxed);
        if (co_await out->async_send(*v + 1)) co_return;
      }
    };
    rt.spawn(side(&live, &rounds, &ping, &pong, true)).detach();
    rt.spawn(side(&live, &rounds, &pong, &ping, false)).detach();
    while (rounds.load() < 1000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(live.load(), 0) << "a coroutine of the pair was not unwound";
}

TEST_P(Shutdown, SpawnAfterShutdownThrows) {
  std::optional<Runtime::Handle> h;
  {
    Runtime rt{Config{.workers = GetParam()}};
    h = rt.handle();
  }
  EXPECT_THROW(h->spawn_fiber([] {}), std::runtime_error);
}

INSTANTIATE_TEST_SUITE_P(Workers, Shutdown, ::testing::Values(1, 2, 4, 16), ::weft::testing::WorkerCountName);

TEST(MultipleRuntimes, CoexistAndWaitOnEachOther) {
  Runtime a{Config{.workers = 2}};
  Runtime b{Config{.workers = 1}};
  auto in_b = b.spawn([]() -> Task<int> {
    for (int i = 0; i < 20; ++i) co_await yield_now();
    co_return 5;
  }());
  // A fiber of runtime A waits for a task of runtime B; a coroutine of B
  // waits for a fiber of A.
  int v = a.block_on([h = std::move(in_b)]() mutable { return h.join() + 1; });
  EXPECT_EQ(v, 6);
  auto in_a = a.spawn_fiber([] { return 10; });
  int w = b.block_on([](JoinHandle<int> h) -> Task<int> { co_return co_await h + 1; }(std::move(in_a)));
  EXPECT_EQ(w, 11);
}

}  // namespace
}  // namespace weft
