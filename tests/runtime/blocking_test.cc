// weft::blocking / async_blocking: values and exceptions come back to fibers,
// coroutines and threads; blocking work does not stall the workers; idle
// pool threads exit.
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/eventually.h"
#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::RuntimeTest;

class BlockingTest : public RuntimeTest {};
WEFT_INSTANTIATE_OVER_WORKERS(BlockingTest);

Task<int> coro_blocking(int x) {
  int v = co_await async_blocking([x] {
    std::this_thread::sleep_for(1ms);
    return x * 2;
  });
  co_return v;
}

TEST_P(BlockingTest, ValuesComeBackToEveryKindOfCaller) {
  auto f = rt().spawn_fiber([] { return blocking([] { return 7; }); });
  auto c = rt().spawn(coro_blocking(21));
  EXPECT_EQ(f.join(), 7);
  EXPECT_EQ(c.join(), 42);
  EXPECT_EQ(blocking([] { return std::string("thread"); }), "thread");
  blocking([] {});  // void
}

TEST_P(BlockingTest, ExceptionsAreRethrownInTheCaller) {
  auto f = rt().spawn_fiber([] { return blocking([]() -> int { throw std::runtime_error("boom"); }); });
  EXPECT_THROW(f.join(), std::runtime_error);
  auto c = rt().spawn([]() -> Task<void> {
    co_await async_blocking([] { throw std::out_of_range("x"); });
  }());
  EXPECT_THROW(c.join(), std::out_of_range);
}

// More blocking calls than workers, each holding a pool thread in the
// kernel: the workers keep running other tasks meanwhile.
TEST_P(BlockingTest, BlockingCallsDoNotStallTheWorkers) {
  std::atomic<bool> done{false};
  std::atomic<long> ticks{0};
  auto ticker = rt().spawn([](std::atomic<bool>* done, std::atomic<long>* ticks) -> Task<void> {
    while (!done->load()) {
      ticks->fetch_add(1);
      co_await sleep_for(1ms);
    }
  }(&done, &ticks));
  std::vector<JoinHandle<long>> hs;
  for (int i = 0; i < 8; ++i) {
    hs.push_back(rt().spawn_fiber([&ticks] {
      long before = ticks.load();
      blocking([] { std::this_thread::sleep_for(50ms); });
      return ticks.load() - before;
    }));
  }
  long progressed = 0;
  for (auto& h : hs) progressed += h.join();
  done = true;
  ticker.join();
  EXPECT_GT(progressed, 0) << "no task ran while the blocking calls slept";
}

TEST(BlockingPool, IdleThreadsExit) {
  auto& pool = detail::BlockingPool::get();
  pool.set_idle_timeout_for_testing(20ms);
  std::vector<std::thread> callers;
  for (int i = 0; i < 4; ++i) callers.emplace_back([] { blocking([] { std::this_thread::sleep_for(5ms); }); });
  for (auto& t : callers) t.join();
  testing::eventually([&] { return pool.threads() == 0; }, 5s);
  EXPECT_EQ(pool.threads(), 0u);
  pool.set_idle_timeout_for_testing(10s);
}

}  // namespace
}  // namespace weft
