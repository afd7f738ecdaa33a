// The stall monitor: a task of either kind that runs past the threshold
// without yielding is reported on stderr (id, name, worker, time, backtrace);
// tasks that yield are not; 0 turns the monitor off.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "weft/weft.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

void spin_for(Clock::duration d) {
  auto until = Clock::now() + d;
  while (Clock::now() < until) {
  }
}

Task<void> coro_spin(Clock::duration d) {
  spin_for(d);
  co_return;
}

std::string run_and_capture(std::chrono::milliseconds threshold, bool coroutine, bool yielding) {
  ::testing::internal::CaptureStderr();
  {
    Config c;
    c.workers = 2;
    c.stall_threshold = threshold;
    c.time_slice = std::chrono::microseconds(0);  // preemption would end the busy fiber's run
    Runtime rt{c};
    if (yielding) {
      rt.spawn_fiber([] {
        auto until = Clock::now() + 300ms;
        while (Clock::now() < until) yield_now();
      }, SpawnOptions{.name = "polite"}).join();
    } else if (coroutine) {
      rt.spawn(coro_spin(300ms), SpawnOptions{.name = "busy-coroutine"}).join();
    } else {
      rt.spawn_fiber([] { spin_for(300ms); }, SpawnOptions{.name = "busy-fiber"}).join();
    }
  }
  return ::testing::internal::GetCapturedStderr();
}

TEST(Monitor, ReportsAFiberThatDoesNotYield) {
  std::string err = run_and_capture(30ms, /*coroutine=*/false, /*yielding=*/false);
  EXPECT_NE(err.find("weft: stall: task"), std::string::npos) << err;
  EXPECT_NE(err.find("\"busy-fiber\" (fiber) has run for"), std::string::npos) << err;
  EXPECT_NE(err.find("backtrace of that thread"), std::string::npos) << err;
}

TEST(Monitor, ReportsACoroutineThatDoesNotYield) {
  std::string err = run_and_capture(30ms, /*coroutine=*/true, /*yielding=*/false);
  EXPECT_NE(err.find("\"busy-coroutine\" (coroutine) has run for"), std::string::npos) << err;
}

TEST(Monitor, QuietForTasksThatYieldAndWhenOff) {
  EXPECT_EQ(run_and_capture(30ms, false, /*yielding=*/true).find("stall"), std::string::npos);
  EXPECT_EQ(run_and_capture(0ms, false, false).find("stall"), std::string::npos);
}

}  // namespace
}  // namespace weft
