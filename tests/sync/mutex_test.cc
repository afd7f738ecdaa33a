// Mutex, SharedMutex and CondVar from fibers, coroutines and plain threads,
// contending on the same object.
#include <atomic>
#include <thread>
#include <vector>

#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::RuntimeTest;

class MutexTest : public RuntimeTest {};
WEFT_INSTANTIATE_OVER_WORKERS(MutexTest);

struct Shared {
  Mutex m;
  int64_t counter = 0;  // guarded by m; a plain int: TSan checks the exclusion
};

Task<void> coro_adds(Shared* s, int n) {
  for (int i = 0; i < n; ++i) {
    co_await s->m.async_lock();
    ++s->counter;
    if (i % 16 == 0) co_await yield_now();  // hold it across a suspension now and then
    s->m.unlock();
  }
}

TEST_P(MutexTest, ThreadFiberAndCoroutineContendOnOneMutex) {
  Shared s;
  constexpr int kEach = 2000;
  std::vector<JoinHandle<void>> hs;
  for (int i = 0; i < 4; ++i) hs.push_back(rt().spawn(coro_adds(&s, kEach)));
  for (int i = 0; i < 4; ++i) {
    hs.push_back(rt().spawn_fiber([&s] {
      for (int k = 0; k < kEach; ++k) {
        auto g = s.m.guard();
        ++s.counter;
        if (k % 16 == 0) yield_now();
      }
    }));
  }
  std::thread t([&s] {
    for (int k = 0; k < kEach; ++k) {
      s.m.lock();
      ++s.counter;
      s.m.unlock();
    }
  });
  for (auto& h : hs) h.join();
  t.join();
  EXPECT_EQ(s.counter, 9 * kEach);
}

TEST_P(MutexTest, LockTimesOutAndIsCancellable) {
  Mutex m;
  m.lock();
  std::stop_source stop;
  auto r = rt().spawn_fiber([&] {
    auto t0 = Clock::now();
    std::error_code timed = m.lock(WaitOptions::after(20ms));
    EXPECT_GE(Clock::now() - t0, 20ms);
    std::stop_token tok = stop.get_token();
    std::error_code stopped = m.lock(WaitOptions::cancel_on(tok));
    return std::pair(timed, stopped);
  });
  std::this_thread::sleep_for(40ms);
  stop.request_stop();
  auto [timed, stopped] = r.join();
  EXPECT_EQ(timed, Errc::kTimedOut);
  EXPECT_EQ(timed, std::errc::timed_out);
  EXPECT_EQ(stopped, Errc::kCancelled);
  // Still usable, and the abandoned waits left nothing behind.
  m.unlock();
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

Task<std::error_code> coro_lock_with_deadline(Mutex* m) {
  std::error_code ec = co_await m->async_lock(WaitOptions::after(10ms));
  if (!ec) m->unlock();
  co_return ec;
}

TEST_P(MutexTest, CoroutineLockTimesOut) {
  Mutex m;
  m.lock();
  EXPECT_EQ(rt().spawn(coro_lock_with_deadline(&m)).join(), Errc::kTimedOut);
  m.unlock();
  EXPECT_FALSE(rt().spawn(coro_lock_with_deadline(&m)).join());
}

TEST_P(MutexTest, CondVarProducerConsumerAcrossKinds) {
  Mutex m;
  CondVar cv;
  std::vector<int> queue;  // guarded by m
  constexpr int kItems = 500;
  auto consumer = rt().spawn_fiber([&] {
    int got = 0;
    while (got < kItems) {
      m.lock();
      cv.wait(m, [&] { return !queue.empty(); });
      got += static_cast<int>(queue.size());
      queue.clear();
      m.unlock();
    }
    return got;
  });
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      m.lock();
      queue.push_back(i);
      m.unlock();
      cv.notify_one();
    }
  });
  producer.join();
  EXPECT_EQ(consumer.join(), kItems);
}

Task<int> coro_cv_wait(Mutex* m, CondVar* cv, bool* ready) {
  co_await m->async_lock();
  while (!*ready) co_await cv->async_wait(*m);
  m->unlock();
  co_return 1;
}

TEST_P(MutexTest, CondVarWakesCoroutineAndTimesOut) {
  Mutex m;
  CondVar cv;
  bool ready = false;
  auto h = rt().spawn(coro_cv_wait(&m, &cv, &ready));
  std::this_thread::sleep_for(5ms);
  m.lock();
  ready = true;
  m.unlock();
  cv.notify_all();
  EXPECT_EQ(h.join(), 1);
  m.lock();
  EXPECT_EQ(cv.wait(m, WaitOptions::after(5ms)), Errc::kTimedOut);  // relocked either way
  m.unlock();
}

TEST_P(MutexTest, SharedMutexReadersShareWritersExclude) {
  SharedMutex sm;
  std::atomic<int> readers{0}, max_readers{0};
  int64_t value = 0;
  std::vector<JoinHandle<void>> hs;
  for (int i = 0; i < 8; ++i) {
    hs.push_back(rt().spawn_fiber([&, i] {
      for (int k = 0; k < 200; ++k) {
        if ((k + i) % 4 == 0) {
          sm.lock();
          ++value;
          sm.unlock();
        } else {
          sm.lock_shared();
          int now = ++readers;
          int seen = max_readers.load();
          while (now > seen && !max_readers.compare_exchange_weak(seen, now)) {
          }
          (void)value;
          if (k % 8 == 1) yield_now();
          --readers;
          sm.unlock_shared();
        }
      }
    }));
  }
  for (auto& h : hs) h.join();
  EXPECT_EQ(value, 8 * 50);
  EXPECT_GE(max_readers.load(), 1);
  EXPECT_TRUE(sm.try_lock());
  sm.unlock();
}

}  // namespace
}  // namespace weft
