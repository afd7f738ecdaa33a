// Lifecycles of both task kinds: spawn, run, yield, join from each context,
// detach, ids and names.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <string>
#include <system_error>
#include <thread>

#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

using testing::RuntimeTest;

Task<int> answer() { co_return 42; }

Task<int> add(int a, int b) {
  int x = co_await answer();
  co_return x + a + b;
}

class Lifecycle : public RuntimeTest {};

TEST_P(Lifecycle, BlockOnCoroutineReturnsItsValue) { EXPECT_EQ(rt().block_on(add(1, 2)), 45); }

TEST_P(Lifecycle, BlockOnFiberReturnsItsValue) {
  EXPECT_EQ(rt().block_on([] { return std::string("fiber"); }), "fiber");
}

TEST_P(Lifecycle, BlockOnVoidTasks) {
  std::atomic<int> ran{0};
  rt().block_on([&]() -> Task<void> {
    ran++;
    co_return;
  }());
  rt().block_on([&] { ran++; });
  EXPECT_EQ(ran.load(), 2);
}

TEST_P(Lifecycle, ThreadJoinsBothKinds) {
  auto c = rt().spawn(answer());
  auto f = rt().spawn_fiber([] { return 7; });
  EXPECT_EQ(c.join(), 42);
  EXPECT_EQ(f.join(), 7);
  EXPECT_FALSE(c.valid());
}

TEST_P(Lifecycle, CoroutineSpawnsAndAwaitsChildren) {
  auto parent = []() -> Task<int> {
    auto a = spawn(answer());
    auto b = spawn_fiber([] { return 8; });
    int x = co_await a;
    int y = co_await b;
    co_return x + y;
  };
  EXPECT_EQ(rt().block_on(parent()), 50);
}

TEST_P(Lifecycle, AwaitsATemporaryHandle) {
  int v = rt().block_on([]() -> Task<int> {
    int sum = 0;
    for (int i = 0; i < 1000; ++i) sum += co_await spawn(answer());
    for (int i = 0; i < 1000; ++i) sum += co_await spawn(answer(), SpawnOptions{.name = "named child"});
    co_return sum;
  }());
  EXPECT_EQ(v, 84000);
}

TEST_P(Lifecycle, FiberSpawnsAndJoinsChildren) {
  int v = rt().block_on([] {
    auto a = spawn(answer());
    auto b = spawn_fiber([] { return 8; });
    return a.join() + b.join();
  });
  EXPECT_EQ(v, 50);
}

TEST_P(Lifecycle, YieldNowInBothKinds) {
  std::atomic<int> steps{0};
  // A coroutine lambda must not capture: the closure dies before the lazy
  // body runs. Parameters are copied into the frame instead.
  auto c = rt().spawn([](std::atomic<int>* steps) -> Task<void> {
    for (int i = 0; i < 100; ++i) {
      co_await yield_now();
      (*steps)++;
    }
  }(&steps));
  auto f = rt().spawn_fiber([&] {
    for (int i = 0; i < 100; ++i) {
      yield_now();
      steps++;
    }
  });
  c.join();
  f.join();
  EXPECT_EQ(steps.load(), 200);
}

TEST_P(Lifecycle, YieldLetsOthersRunOnOneWorker) {
  // With one worker a yielding task must let a queued one run.
  std::atomic<bool> other_ran{false};
  rt().block_on([&] {
    auto other = spawn_fiber([&] { other_ran = true; });
    while (!other_ran.load()) yield_now();
    other.join();
  });
  EXPECT_TRUE(other_ran.load());
}

// A yield with nothing else ready goes on in place (scheduler/yield.h). It
// must still let the worker fire timers, see tasks spawned from other
// threads, and honour a cancel, as a yield through the queue does.
TEST_P(Lifecycle, LoneYieldersStillLetTimersFire) {
  std::atomic<int> woke{0};
  auto sleeper = [](std::atomic<int>* woke) -> Task<void> {
    co_await sleep_for(std::chrono::milliseconds(2));
    (*woke)++;
  };
  auto fiber = rt().spawn_fiber([&] {
    auto s = spawn(sleeper(&woke));
    while (woke.load() == 0) yield_now();
    s.join();
  });
  fiber.join();
  auto coroutine = rt().spawn([](std::atomic<int>* woke, auto sleeper) -> Task<void> {
    auto s = spawn(sleeper(woke));
    while (woke->load() == 1) co_await yield_now();
    co_await s;
  }(&woke, sleeper));
  coroutine.join();
  EXPECT_EQ(woke.load(), 2);
}

TEST_P(Lifecycle, LoneYielderSeesTasksSpawnedByAThread) {
  std::atomic<bool> started{false};
  std::atomic<bool> other_ran{false};
  auto yielder = rt().spawn_fiber([&] {
    started = true;
    while (!other_ran.load()) yield_now();
  });
  while (!started.load()) std::this_thread::yield();
  rt().spawn_fiber([&] { other_ran = true; }).detach();  // through the inject queue
  yielder.join();
  EXPECT_TRUE(other_ran.load());
}

TEST_P(Lifecycle, CancelledLoneYieldersUnwind) {
  std::atomic<int> yielding{0};
  auto f = rt().spawn_fiber([&] {
    yielding++;
    for (;;) yield_now();
  });
  auto c = rt().spawn([](std::atomic<int>* yielding) -> Task<void> {
    (*yielding)++;
    for (;;) co_await sleep_for(std::chrono::hours(1));
  }(&yielding));
  while (yielding.load() < 2) std::this_thread::yield();
  f.cancel();
  c.cancel();
  EXPECT_THROW(f.join(), TaskCancelled);
  EXPECT_THROW(c.join(), TaskCancelled);
}

TEST_P(Lifecycle, IdsAreUniqueAndNamesKept) {
  auto a = rt().spawn_fiber([] { return std::string(this_task::name()); }, SpawnOptions{.name = "alpha"});
  auto b = rt().spawn([]() -> Task<std::string> { co_return std::string(this_task::name()); }(),
                      SpawnOptions{.name = "beta"});
  auto ids = rt().block_on([] { return this_task::id(); });
  EXPECT_NE(a.id(), b.id());
  EXPECT_NE(a.id(), 0u);
  EXPECT_NE(ids, 0u);
  EXPECT_EQ(a.join(), "alpha");
  EXPECT_EQ(b.join(), "beta");
  EXPECT_EQ(this_task::id(), 0u);  // the test's own thread is not a task
}

TEST_P(Lifecycle, IsFiberTellsTheKinds) {
  EXPECT_TRUE(rt().block_on([] { return this_task::is_fiber(); }));
  EXPECT_FALSE(rt().block_on([]() -> Task<bool> { co_return this_task::is_fiber(); }()));
}

TEST_P(Lifecycle, DetachedTasksStillRun) {
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) {
    rt().spawn_fiber([&] { ran++; }).detach();
    (void)rt().spawn([](std::atomic<int>* ran) -> Task<void> {
      (*ran)++;
      co_return;
    }(&ran));  // dropping the handle detaches too
  }
  rt_.reset();  // kWait: waits for all of them
  EXPECT_EQ(ran.load(), 200);
}

// Counts the copies alive: a coroutine's parameter lives in its frame until
// the frame is freed, so this says when each frame went away.
struct FrameProbe {
  static inline std::atomic<int> alive{0};
  FrameProbe() { ++alive; }
  FrameProbe(const FrameProbe&) { ++alive; }
  ~FrameProbe() { --alive; }
};

Task<int> probed(FrameProbe, std::atomic<bool>* go) {
  while (!go->load()) co_await yield_now();
  co_return 5;
}

// The scheduler and the JoinHandle share one reference (core/join.h, step
// 6): whichever lets go last frees the frame, in each order.
TEST_P(Lifecycle, FrameFreedByWhicheverOfHandleAndTaskEndsLast) {
  std::atomic<bool> go{true};
  {
    auto h = rt().spawn(probed(FrameProbe(), &go));
    EXPECT_EQ(h.join(), 5);
    EXPECT_EQ(FrameProbe::alive.load(), 0);  // joined: freed by the handle
  }
  {
    auto h = rt().spawn(probed(FrameProbe(), &go));
    while (!h.is_finished()) std::this_thread::yield();
    EXPECT_EQ(FrameProbe::alive.load(), 1);  // finished, result kept for the handle
    h.detach();
    EXPECT_EQ(FrameProbe::alive.load(), 0);  // detached after the end: freed now
  }
  go = false;
  rt().spawn(probed(FrameProbe(), &go)).detach();
  EXPECT_EQ(FrameProbe::alive.load(), 1);  // detached while running
  go = true;
  for (int i = 0; i < 10000 && FrameProbe::alive.load() != 0; ++i) std::this_thread::sleep_for(std::chrono::microseconds(100));
  EXPECT_EQ(FrameProbe::alive.load(), 0);  // freed by its worker when it finished
}

TEST_P(Lifecycle, HandleSpawnsFromAnotherThread) {
  Runtime::Handle h = rt().handle();
  int v = 0;
  std::thread t([&] { v = h.spawn(answer()).join() + h.spawn_fiber([] { return 1; }).join(); });
  t.join();
  EXPECT_EQ(v, 43);
}

TEST_P(Lifecycle, IsFinishedAfterCompletion) {
  auto h = rt().spawn(answer());
  while (!h.is_finished()) std::this_thread::yield();
  EXPECT_EQ(h.join(), 42);
}

TEST_P(Lifecycle, MisuseGivesClearErrors) {
  EXPECT_THROW(spawn(answer()), std::logic_error);  // no runtime on this thread
  EXPECT_THROW(spawn_fiber([] {}), std::logic_error);
  JoinHandle<int> empty;
  EXPECT_THROW(empty.join(), std::logic_error);
  // A coroutine must co_await, not block its worker.
  bool threw = rt().block_on([]() -> Task<bool> {
    auto h = spawn_fiber([] { return 1; });
    try {
      h.join();
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  }());
  EXPECT_TRUE(threw);
  EXPECT_THROW(rt().spawn(Task<int>()), std::invalid_argument);
}

TEST_P(Lifecycle, UnmappableStackIsATypedErrorForTheJoiner) {
  // 1 PiB cannot be mapped (more than the address space): the fiber never runs, its joiner gets ENOMEM as
  // a std::system_error, and the runtime carries on.
  auto h = rt().spawn_fiber([] { return 1; }, SpawnOptions{.name = "huge", .stack_size = std::size_t(1) << 50});
  try {
    h.join();
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOMEM) << e.what();
  }
  EXPECT_EQ(rt().block_on([] { return 2; }), 2);
}

TEST_P(Lifecycle, JoinTwiceIsAnError) {
  auto h = rt().spawn(answer());
  EXPECT_EQ(h.join(), 42);
  EXPECT_THROW(h.join(), std::logic_error);
}

WEFT_INSTANTIATE_OVER_WORKERS(Lifecycle);

}  // namespace
}  // namespace weft
