// Semaphore, Event, WaitGroup, Latch, Barrier, and a lost-wake-up stress of
// the park/wake path with many hand-offs.
#include <atomic>
#include <thread>
#include <vector>

#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::RuntimeTest;

class PrimitivesTest : public RuntimeTest {};
WEFT_INSTANTIATE_OVER_WORKERS(PrimitivesTest);

Task<void> coro_wait_event(Event* ev, std::atomic<int>* seen) {
  co_await ev->async_wait();
  seen->fetch_add(1);
}

TEST_P(PrimitivesTest, EventReleasesEveryKindOfWaiter) {
  Event ev;
  std::atomic<int> seen{0};
  std::vector<JoinHandle<void>> hs;
  for (int i = 0; i < 4; ++i) hs.push_back(rt().spawn(coro_wait_event(&ev, &seen)));
  for (int i = 0; i < 4; ++i) hs.push_back(rt().spawn_fiber([&] {
    ev.wait();
    seen.fetch_add(1);
  }));
  std::thread t([&] {
    ev.wait();
    seen.fetch_add(1);
  });
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(seen.load(), 0);
  ev.set();
  for (auto& h : hs) h.join();
  t.join();
  EXPECT_EQ(seen.load(), 9);
  ev.reset();
  EXPECT_EQ(ev.wait(WaitOptions::after(1ms)), Errc::kTimedOut);
}

Task<void> coro_limited(Semaphore* sem, std::atomic<int>* inside, std::atomic<int>* peak) {
  for (int i = 0; i < 50; ++i) {
    co_await sem->async_acquire();
    int now = inside->fetch_add(1) + 1;
    int p = peak->load();
    while (now > p && !peak->compare_exchange_weak(p, now)) {
    }
    co_await yield_now();
    inside->fetch_sub(1);
    sem->release();
  }
}

TEST_P(PrimitivesTest, SemaphoreBoundsConcurrency) {
  Semaphore sem(3);
  std::atomic<int> inside{0}, peak{0};
  std::vector<JoinHandle<void>> hs;
  for (int i = 0; i < 8; ++i) hs.push_back(rt().spawn(coro_limited(&sem, &inside, &peak)));
  for (int i = 0; i < 4; ++i) hs.push_back(rt().spawn_fiber([&] {
    for (int k = 0; k < 50; ++k) {
      sem.acquire();
      int now = inside.fetch_add(1) + 1;
      int p = peak.load();
      while (now > p && !peak.compare_exchange_weak(p, now)) {
      }
      yield_now();
      inside.fetch_sub(1);
      sem.release();
    }
  }));
  for (auto& h : hs) h.join();
  EXPECT_LE(peak.load(), 3);
  EXPECT_EQ(sem.available(), 3);
  EXPECT_THROW(Semaphore(-1), std::invalid_argument);
}

Task<int> coro_wait_group(WaitGroup* wg, std::atomic<int>* done) {
  co_await wg->async_wait();
  co_return done->load();
}

Task<void> coro_shared_reader(SharedMutex* sm, const int64_t* value, std::atomic<int64_t>* seen) {
  for (int i = 0; i < 100; ++i) {
    co_await sm->async_lock_shared();
    seen->fetch_add(*value);
    sm->unlock_shared();
    co_await yield_now();
  }
}

Task<void> coro_shared_writer(SharedMutex* sm, int64_t* value) {
  for (int i = 0; i < 100; ++i) {
    co_await sm->async_lock();
    ++*value;
    sm->unlock();
  }
}

TEST_P(PrimitivesTest, WaitGroupReleasesACoroutine) {
  WaitGroup wg;
  std::atomic<int> done{0};
  wg.add(4);
  auto waiter = rt().spawn(coro_wait_group(&wg, &done));
  for (int i = 0; i < 4; ++i) {
    rt().spawn_fiber([&] {
      done.fetch_add(1);
      wg.done();
    }).detach();
  }
  EXPECT_EQ(waiter.join(), 4);
}

TEST_P(PrimitivesTest, SharedMutexFromAllThreeContexts) {
  SharedMutex sm;
  int64_t value = 0;  // written under the exclusive lock: TSan checks it
  std::atomic<int64_t> seen{0};
  std::vector<JoinHandle<void>> hs;
  hs.push_back(rt().spawn(coro_shared_reader(&sm, &value, &seen)));
  hs.push_back(rt().spawn(coro_shared_writer(&sm, &value)));
  hs.push_back(rt().spawn_fiber([&] {
    for (int i = 0; i < 100; ++i) {
      sm.lock();
      ++value;
      sm.unlock();
      yield_now();
    }
  }));
  std::thread t([&] {
    for (int i = 0; i < 100; ++i) {
      sm.lock_shared();
      seen.fetch_add(value);
      sm.unlock_shared();
      sm.lock();
      ++value;
      sm.unlock();
    }
  });
  for (auto& h : hs) h.join();
  t.join();
  EXPECT_EQ(value, 300);
  EXPECT_EQ(sm.lock_shared(WaitOptions::after(1ms)), std::error_code());
  EXPECT_EQ(sm.lock(WaitOptions::after(1ms)), Errc::kTimedOut);  // a reader holds it
  sm.unlock_shared();
}

TEST_P(PrimitivesTest, SemaphoreFromAThreadAndAFiber) {
  Semaphore sem(0);
  auto f = rt().spawn_fiber([&] {
    for (int i = 0; i < 100; ++i) sem.acquire();
    return sem.acquire(WaitOptions::after(1ms));
  });
  std::thread t([&] {
    for (int i = 0; i < 100; ++i) sem.release();
  });
  t.join();
  EXPECT_EQ(f.join(), Errc::kTimedOut);
  sem.release(2);
  sem.acquire();  // a plain thread
  EXPECT_TRUE(sem.try_acquire());
  EXPECT_FALSE(sem.try_acquire());
}

TEST_P(PrimitivesTest, WaitGroupAndLatchCountDown) {
  WaitGroup wg;
  Latch latch(10);
  std::atomic<int> done{0};
  wg.add(10);
  for (int i = 0; i < 10; ++i) {
    rt().spawn_fiber([&] {
      sleep_for(1ms);
      done.fetch_add(1);
      latch.count_down();
      wg.done();
    }).detach();
  }
  auto waiter = rt().spawn_fiber([&] {
    wg.wait();
    return done.load();
  });
  EXPECT_EQ(waiter.join(), 10);
  latch.wait();
  EXPECT_TRUE(latch.try_wait());
  EXPECT_THROW(wg.done(), std::logic_error);
}

Task<void> coro_barrier(Barrier* b, std::atomic<int>* phase_sum, int rounds) {
  for (int r = 0; r < rounds; ++r) {
    phase_sum->fetch_add(1);
    co_await b->async_arrive_and_wait();
  }
}

TEST_P(PrimitivesTest, BarrierSeparatesPhases) {
  constexpr int kParties = 6, kRounds = 20;
  Barrier b(kParties);
  std::atomic<int> arrived{0};
  std::vector<JoinHandle<void>> hs;
  for (int i = 0; i < kParties / 2; ++i) hs.push_back(rt().spawn(coro_barrier(&b, &arrived, kRounds)));
  for (int i = 0; i < kParties / 2; ++i) hs.push_back(rt().spawn_fiber([&] {
    for (int r = 0; r < kRounds; ++r) {
      arrived.fetch_add(1);
      b.arrive_and_wait();
      // Everyone arrived for this phase before anyone passes it.
      EXPECT_GE(arrived.load(), (r + 1) * kParties);
    }
  }));
  for (auto& h : hs) h.join();
  EXPECT_EQ(arrived.load(), kParties * kRounds);
}

// Lost-wake-up stress: pairs ping-pong through two rendezvous channels, a
// park and a wake per hand-off, across workers: a million hand-offs per
// worker count (fewer under the sanitizers, which run ~20x slower).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kHandOffs = 100000;
#else
constexpr int kHandOffs = 1000000;
#endif
TEST_P(PrimitivesTest, ManyHandOffsLoseNoWakeUp) {
  constexpr int kPairs = 4;
  const int rounds = kHandOffs / (2 * kPairs);
  std::vector<JoinHandle<void>> hs;
  std::vector<std::unique_ptr<Channel<int>>> chans;
  for (int p = 0; p < kPairs; ++p) {
    chans.push_back(std::make_unique<Channel<int>>(0));
    chans.push_back(std::make_unique<Channel<int>>(0));
    Channel<int>* ping = chans[2 * p].get();
    Channel<int>* pong = chans[2 * p + 1].get();
    hs.push_back(rt().spawn_fiber([=] {
      for (int i = 0; i < rounds; ++i) {
        if (ping->send(int(i))) ADD_FAILURE() << "send failed";
        if (*pong->recv() != i) ADD_FAILURE() << "out of order";
      }
    }));
    hs.push_back(rt().spawn_fiber([=] {
      for (int i = 0; i < rounds; ++i) {
        if (pong->send(*ping->recv())) ADD_FAILURE() << "send failed";
      }
    }));
  }
  for (auto& h : hs) h.join();
}

// The same for Mutex + CondVar between a coroutine and a fiber.
Task<void> coro_turns(Mutex* m, CondVar* cv, int* turn, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    co_await m->async_lock();
    while (*turn != 0) co_await cv->async_wait(*m);
    *turn = 1;
    m->unlock();
    cv->notify_one();
  }
}

TEST_P(PrimitivesTest, CondVarTurnsLoseNoWakeUp) {
  Mutex m;
  CondVar cv;
  int turn = 0;
  const int rounds = kHandOffs / 20;
  auto c = rt().spawn(coro_turns(&m, &cv, &turn, rounds));
  auto f = rt().spawn_fiber([&] {
    for (int i = 0; i < rounds; ++i) {
      m.lock();
      cv.wait(m, [&] { return turn == 1; });
      turn = 0;
      m.unlock();
      cv.notify_one();
    }
  });
  c.join();
  f.join();
  EXPECT_EQ(turn, 0);  // the fiber took the last turn
}

}  // namespace
}  // namespace weft
