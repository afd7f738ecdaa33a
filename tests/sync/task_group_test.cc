// TaskGroup (first failure cancels siblings), when_all and when_any.
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::RuntimeTest;

class TaskGroupTest : public RuntimeTest {};
WEFT_INSTANTIATE_OVER_WORKERS(TaskGroupTest);

Task<int> sleepy(int ms, int v) {
  co_await sleep_for(std::chrono::milliseconds(ms));
  co_return v;
}

Task<int> fails_after(int ms) {
  co_await sleep_for(std::chrono::milliseconds(ms));
  throw std::runtime_error("child failed");
}

TEST_P(TaskGroupTest, JoinsAllChildren) {
  std::atomic<int> done{0};
  rt().block_on([&] {
    TaskGroup g;
    for (int i = 0; i < 10; ++i) g.spawn(sleepy(1 + i % 3, i));
    for (int i = 0; i < 10; ++i) g.spawn_fiber([&] {
      sleep_for(1ms);
      done.fetch_add(1);
    });
    g.wait();
  });
  EXPECT_EQ(done.load(), 10);
}

TEST_P(TaskGroupTest, FirstFailureCancelsSiblingsAndIsRethrown) {
  std::atomic<int> cancelled{0};
  auto t0 = Clock::now();
  EXPECT_THROW(rt().block_on([&] {
    TaskGroup g;
    for (int i = 0; i < 4; ++i) g.spawn_fiber([&] {
      try {
        sleep_for(10s);
      } catch (const TaskCancelled&) {
        cancelled.fetch_add(1);
        throw;
      }
    });
    g.spawn(fails_after(5));
    g.wait();
  }), std::runtime_error);
  EXPECT_EQ(cancelled.load(), 4);
  EXPECT_LT(Clock::now() - t0, 5s);  // the 10 s sleepers did not run out
}

Task<int> gather() {
  std::vector<Task<int>> ts;
  for (int i = 0; i < 5; ++i) ts.push_back(sleepy(5 - i, i));
  std::vector<int> all = co_await when_all(ts);
  int sum = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i], int(i));  // in order, whatever order they finished in
    sum += all[i];
  }
  co_return sum;
}

TEST_P(TaskGroupTest, WhenAllKeepsOrder) { EXPECT_EQ(rt().block_on(gather()), 10); }

Task<std::size_t> race() {
  std::vector<Task<int>> ts;
  ts.push_back(sleepy(10000, 0));
  ts.push_back(sleepy(2, 1));
  ts.push_back(sleepy(10000, 2));
  auto [index, value] = co_await when_any(ts);
  EXPECT_EQ(value, 1);
  co_return index;
}

TEST_P(TaskGroupTest, WhenAnyReturnsFirstAndCancelsTheRest) {
  auto t0 = Clock::now();
  EXPECT_EQ(rt().block_on(race()), 1u);
  EXPECT_LT(Clock::now() - t0, 5s);
}

}  // namespace
}  // namespace weft
