// The M:N scheduler over 1, 2, 4 and 16 workers: stealing, pinning,
// thread-per-core, forced migration, fairness, cross-worker wakes, idleness.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "runtime/core/detail/thread_bias.h"
#include "runtime/core/task_header.h"
#include "runtime/core/thread_state.h"
#include "runtime/core/waker.h"
#include "tests/support/baton.h"
#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

using testing::RuntimeTest;

// Which OS thread the caller runs on now. Not std::this_thread::get_id():
// glibc declares pthread_self() __attribute__((const)), so the compiler may
// reuse one call's result across a co_await, which is exactly the
// thread-local-cached-across-a-switch bug forced migration hunts for.
pid_t here() { return static_cast<pid_t>(syscall(SYS_gettid)); }

class Scheduling : public RuntimeTest {};

TEST_P(Scheduling, BusyWorkIsSpreadByStealing) {
  // One task spawns many CPU-bound fibers; idle workers must steal them.
  std::mutex mu;
  std::set<pid_t> threads;
  rt().block_on([&] {
    std::vector<JoinHandle<void>> hs;
    for (int i = 0; i < 64; ++i) {
      hs.push_back(spawn_fiber([&] {
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
        while (std::chrono::steady_clock::now() < until) {
        }
        std::lock_guard lock(mu);
        threads.insert(here());
      }));
    }
    for (auto& h : hs) h.join();
  });
  if (workers() == 1) {
    EXPECT_EQ(threads.size(), 1u);
  } else {
    EXPECT_GE(threads.size(), 2u) << "no work was stolen";
  }
}

// A task that spawns a burst without yielding, then spins without yielding:
// only other workers can run the burst, so some sleeping worker must be woken
// although most of the pushes skip the wake-up check (idle.h, step 4).
TEST_P(Scheduling, SpawnBurstWakesASleeperWhileTheSpawnerSpins) {
  if (workers() == 1) GTEST_SKIP() << "needs another worker";
  for (int round = 0; round < 20; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let the others park
    std::atomic<int> ran_elsewhere{0};
    bool woke = rt().block_on([&] {
      const pid_t spawner = here();
      std::vector<JoinHandle<void>> hs;
      for (int i = 0; i < 40; ++i) {
        hs.push_back(spawn_fiber([&, spawner] {
          if (here() != spawner) ran_elsewhere.fetch_add(1);
        }));
      }
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (ran_elsewhere.load() == 0 && std::chrono::steady_clock::now() < give_up) {
      }
      const bool seen = ran_elsewhere.load() > 0;
      for (auto& h : hs) h.join();
      return seen;
    });
    ASSERT_TRUE(woke) << "round " << round << ": no other worker ran any of the burst";
  }
}

TEST_P(Scheduling, PinnedFiberNeverMigrates) {
  bool stayed = rt().block_on([] {
    auto h = spawn_fiber(
        [] {
          auto home = here();
          for (int i = 0; i < 2000; ++i) {
            yield_now();
            if (here() != home) return false;
          }
          return true;
        },
        SpawnOptions{.name = "pinned", .pinned = true});
    // Keep the other workers hungry, so they would steal if they could.
    std::vector<JoinHandle<void>> noise;
    for (int i = 0; i < 32; ++i) noise.push_back(spawn_fiber([] {
      for (int k = 0; k < 200; ++k) yield_now();
    }));
    for (auto& n : noise) n.join();
    return h.join();
  });
  EXPECT_TRUE(stayed);
}

TEST_P(Scheduling, RandomYieldsAllComplete) {
  constexpr int kTasks = 1000;
  std::atomic<long> sum{0};
  rt().block_on([&] {
    std::vector<JoinHandle<void>> hs;
    for (int i = 0; i < kTasks; ++i) {
      if (i % 2) {
        hs.push_back(spawn_fiber([i, &sum] {
          std::minstd_rand r(i);
          for (unsigned k = r() % 50; k > 0; --k) yield_now();
          sum += i;
        }));
      } else {
        hs.push_back(spawn([](int i, std::atomic<long>* sum) -> Task<void> {
          std::minstd_rand r(i);
          for (unsigned k = r() % 50; k > 0; --k) co_await yield_now();
          *sum += i;
        }(i, &sum)));
      }
    }
    for (auto& h : hs) h.join();
  });
  EXPECT_EQ(sum.load(), long(kTasks) * (kTasks - 1) / 2);
}

using testing::Baton;
using testing::pass_baton;

TEST_P(Scheduling, ManyCrossWorkerWakes) {
  const int rounds = 250'000;  // 2 x 250k = 500k wakes per pair, two pairs
  for (int pair = 0; pair < 2; ++pair) {
    Baton b;
    auto a = rt().spawn_fiber([&] { pass_baton(b, 0, rounds); });
    auto c = rt().spawn_fiber([&] { pass_baton(b, 1, rounds); });
    a.join();
    c.join();
  }
}

// Two coroutines that only wake each other: each wake puts the other in the
// waker's LIFO slot, and the waker parks next, so the pair should settle on
// one worker rather than bounce between threads (idle.h, step 4: such a
// wake wakes no idle worker). `hops` counts, over every step of both tasks,
// how often a step ran on another thread than the step before it.
Task<void> pass_token(Channel<int>* in, Channel<int>* out, int rounds, const void** last, int* hops) {
  for (int i = 0; i < rounds; ++i) {
    Result<int> v = co_await in->async_recv();
    if (!v) co_return;
    const void* thread = &core::this_thread();
    if (*last != thread) ++*hops;
    *last = thread;
    if (co_await out->async_send(*v + 1)) co_return;
  }
}

TEST_P(Scheduling, TasksWakingEachOtherStayOnOneWorker) {
  constexpr int kRounds = 20'000;
  Channel<int> ping(1), pong(1);
  const void* last = nullptr;
  int hops = 0;  // the channel hand-offs order every access
  auto a = rt().spawn(pass_token(&ping, &pong, kRounds, &last, &hops));
  auto b = rt().spawn(pass_token(&pong, &ping, kRounds, &last, &hops));
  ASSERT_FALSE(ping.send(0));
  a.join();
  b.join();
  // A few moves are fine (the start, a steal while the ring briefly holds
  // the LIFO slot's task); one in a hundred steps is not.
  EXPECT_LT(hops, 2 * kRounds / 100);
}

// One side of a pair that passes a token until `*stop` is set; returns the
// round trips it made. The pinging side sends first, the other answers, so
// each hop wakes the other side. The pinging side spawns `other` once the
// pair is going (kSpawnAt rounds in): a task queued behind the pair on the
// pair's own worker, which the next wake moves out of the LIFO slot.
constexpr int kSpawnAt = 100;
Task<int> pass_until_stopped(Channel<int>* in, Channel<int>* out, std::atomic<bool>* stop, Task<void>* other,
                             int max_rounds) {
  const bool pings = other != nullptr;
  int rounds = 0;
  while (rounds < max_rounds && !stop->load(std::memory_order_relaxed)) {
    if (pings && rounds == kSpawnAt) spawn(std::move(*other)).detach();
    if (pings && co_await out->async_send(rounds)) break;
    if (!co_await in->async_recv()) break;
    if (!pings && co_await out->async_send(rounds)) break;
    ++rounds;
  }
  out->close();  // ends the other side's wait, wherever it is
  co_return rounds;
}

// A pair waking each other runs from the LIFO slot, round after round, even
// without going back to the worker's loop (worker.cc, run_task()); the cap
// on the slot's runs still lets a task queued behind them run within a few
// rounds, not after the pair is done.
TEST_P(Scheduling, APingPongPairLetsATaskQueuedBehindItRun) {
  constexpr int kMaxRounds = 5'000'000;
  Channel<int> ping(1), pong(1);
  std::atomic<bool> stop{false};
  Task<void> stopper = [](std::atomic<bool>* stop) -> Task<void> {
    stop->store(true, std::memory_order_relaxed);
    co_return;
  }(&stop);
  auto a = rt().spawn(pass_until_stopped(&ping, &pong, &stop, &stopper, kMaxRounds));
  auto b = rt().spawn(pass_until_stopped(&pong, &ping, &stop, nullptr, kMaxRounds));
  int rounds = a.join();
  b.join();
  EXPECT_TRUE(stop.load());
  EXPECT_GE(rounds, kSpawnAt);
  // With one worker the cap is all that lets it run: within a few rounds.
  // With more, a thief may take it and then lose its CPU to the OS for a
  // while (16 workers on 2 cores), so only "before the pair is done".
  if (workers() == 1) {
    EXPECT_LT(rounds, kSpawnAt + 1'000) << "the pair kept its worker from the task queued behind it";
  } else {
    EXPECT_LT(rounds, kMaxRounds) << "the pair kept its worker from the task queued behind it";
  }
}

// Counts the token up through `in` and `out`, checking each value it gets.
Task<int> count_token(Channel<int>* in, Channel<int>* out, int rounds, int first, std::atomic<int>* seen) {
  int bad = 0;
  for (int i = 0; i < rounds; ++i) {
    Result<int> v = co_await in->async_recv();
    if (!v) co_return -1;
    bad += *v != first + 2 * i;
    seen->fetch_add(1, std::memory_order_relaxed);
    if (co_await out->async_send(*v + 1)) co_return -1;
  }
  co_return bad;
}

Task<int> receive_one(Channel<int>* ch) {
  Result<int> v = co_await ch->async_recv();
  co_return v ? *v : -1;
}

core::detail::ThreadBias::Claim task_state_claim() {
  return core::this_thread().executor->task_state_bias().claim();
}

// A one-worker runtime updates its task states without locked instructions
// (core/task_header.h, "One thread, no locked instructions") until another
// thread wakes one of its tasks; that wake, landing in the middle of a
// ping-pong, revokes it, and no hand-off is lost or repeated either side of
// it. With more workers nothing is ever biased.
TEST_P(Scheduling, AnOutsideWakeEndsTheOneWorkerBiasLosingNothing) {
  using Claim = core::detail::ThreadBias::Claim;
  const Claim at_start = rt().block_on([] { return task_state_claim(); });
  const bool biased = workers() == 1 && core::detail::ThreadBias::available();
  EXPECT_EQ(at_start, biased ? Claim::kOthers : Claim::kRevoked);
  constexpr int kRounds = 20'000;
  Channel<int> ping(1), pong(1), outside(1);
  std::atomic<int> seen{0};
  auto a = rt().spawn(count_token(&ping, &pong, kRounds, 0, &seen));
  auto b = rt().spawn(count_token(&pong, &ping, kRounds, 1, &seen));
  auto c = rt().spawn(receive_one(&outside));
  auto first = rt().spawn([](Channel<int>* ch) -> Task<void> { (void)co_await ch->async_send(0); }(&ping));
  first.join();
  while (seen.load(std::memory_order_relaxed) < kRounds) std::this_thread::yield();
  ASSERT_FALSE(outside.send(42));  // from this thread, halfway through
  EXPECT_EQ(a.join(), 0);
  EXPECT_EQ(b.join(), 0);
  EXPECT_EQ(c.join(), 42);
  EXPECT_EQ(seen.load(), 2 * kRounds);
  EXPECT_EQ(rt().block_on([] { return task_state_claim(); }), Claim::kRevoked);
}

TEST_P(Scheduling, OutsideThreadsSpawnThroughInjectQueue) {
  std::atomic<int> ran{0};
  Runtime::Handle h = rt().handle();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<JoinHandle<void>> hs;
      for (int i = 0; i < 500; ++i) hs.push_back(h.spawn_fiber([&] { ran++; }));
      for (auto& j : hs) j.join();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ran.load(), 2000);
}

TEST_P(Scheduling, SkynetHundredThousandFibers) {
  struct Skynet {
    static uint64_t run(uint64_t num, uint64_t size) {
      if (size == 1) return num;
      std::vector<JoinHandle<uint64_t>> kids;
      kids.reserve(10);
      for (uint64_t i = 0; i < 10; ++i) {
        uint64_t sub = num + i * (size / 10);
        kids.push_back(spawn_fiber([sub, size] { return run(sub, size / 10); }));
      }
      uint64_t sum = 0;
      for (auto& k : kids) sum += k.join();
      return sum;
    }
  };
  EXPECT_EQ(rt().block_on([] { return Skynet::run(0, 100'000); }), 4999950000ull);
}

WEFT_INSTANTIATE_OVER_WORKERS(Scheduling);

// ---- forced migration: every requeue lands on another worker ----
class ForcedMigration : public RuntimeTest {
  Config make_config() const override {
    Config c;
    c.workers = GetParam();
    c.force_migration = true;
    return c;
  }
};

TEST_P(ForcedMigration, FibersAndCoroutinesMoveAfterEverySwitch) {
  std::atomic<int> moves{0};
  rt().block_on([&] {
    std::vector<JoinHandle<void>> hs;
    for (int i = 0; i < 16; ++i) {
      hs.push_back(spawn_fiber([&] {
        for (int k = 0; k < 100; ++k) {
          auto before = here();
          yield_now();
          // this_thread() must be re-read after a switch: it is.
          if (here() != before) moves++;
          ASSERT_EQ(core::this_thread().task->kind(), core::TaskKind::kFiber);
        }
      }));
      hs.push_back(spawn([](std::atomic<int>* moves) -> Task<void> {
        for (int k = 0; k < 100; ++k) {
          auto before = here();
          co_await yield_now();
          if (here() != before) (*moves)++;
        }
      }(&moves)));
    }
    for (auto& h : hs) h.join();
  });
  if (workers() > 1) {
    EXPECT_EQ(moves.load(), 32 * 100);
  } else {
    EXPECT_EQ(moves.load(), 0);
  }
}

TEST_P(ForcedMigration, CrossWorkerWakesStillCorrect) {
  Baton b;
  auto a = rt().spawn_fiber([&] { pass_baton(b, 0, 20'000); });
  auto c = rt().spawn_fiber([&] { pass_baton(b, 1, 20'000); });
  a.join();
  c.join();
}

WEFT_INSTANTIATE_OVER_WORKERS(ForcedMigration);

// ---- thread-per-core: no stealing, a task stays where it was spawned ----
class ThreadPerCore : public RuntimeTest {
  Config make_config() const override {
    Config c;
    c.workers = GetParam();
    c.mode = SchedulingMode::kThreadPerCore;
    return c;
  }
};

TEST_P(ThreadPerCore, TasksStayOnTheirSpawningWorker) {
  std::atomic<int> strays{0};
  rt().block_on([&] {
    auto home = here();
    std::vector<JoinHandle<void>> hs;
    for (int i = 0; i < 64; ++i) {
      hs.push_back(spawn_fiber([&, home] {
        for (int k = 0; k < 20; ++k) {
          if (here() != home) strays++;
          yield_now();
        }
      }));
    }
    for (auto& h : hs) h.join();
  });
  EXPECT_EQ(strays.load(), 0);
}

WEFT_INSTANTIATE_OVER_WORKERS(ThreadPerCore);

// ---- idleness: parked workers cost no CPU ----
TEST(Idle, TwoIdleWorkersUseUnderOnePercentCpu) {
  Runtime rt{Config{.workers = 2}};
  rt.block_on([] { return 0; });  // workers up, then idle
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto cpu = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
  };
  double before = cpu();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double used_us = cpu() - before;
  EXPECT_LT(used_us, 10'000.0) << "idle runtime used " << used_us << " us of CPU in 1 s";
}

}  // namespace
}  // namespace weft
