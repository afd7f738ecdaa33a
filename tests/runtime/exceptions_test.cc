// Exceptions: delivered to the awaiter or joiner, reported for detached tasks,
// and a fiber that parks inside a catch block keeps its own exception.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

using testing::RuntimeTest;

class Exceptions : public RuntimeTest {};

Task<int> throws_after_yield(std::string msg) {
  co_await yield_now();
  throw std::runtime_error(msg);
}

TEST_P(Exceptions, CoroutineExceptionReachesAwaiter) {
  std::string got = rt().block_on([]() -> Task<std::string> {
    try {
      co_await throws_after_yield("inner");
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "none";
  }());
  EXPECT_EQ(got, "inner");
}

TEST_P(Exceptions, BlockOnRethrows) {
  EXPECT_THROW(rt().block_on(throws_after_yield("x")), std::runtime_error);
  EXPECT_THROW(rt().block_on([]() -> int { throw std::out_of_range("f"); }), std::out_of_range);
}

TEST_P(Exceptions, JoinRethrowsAcrossKinds) {
  auto msg = rt().block_on([] {
    auto h = spawn(throws_after_yield("from coroutine"));
    try {
      h.join();
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  });
  EXPECT_EQ(msg, "from coroutine");
  auto msg2 = rt().block_on([]() -> Task<std::string> {
    auto h = spawn_fiber([]() -> int { throw std::runtime_error("from fiber"); });
    try {
      co_await h;
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "";
  }());
  EXPECT_EQ(msg2, "from fiber");
}

TEST_P(Exceptions, FiberParksInsideCatchAndRethrows) {
  // Many fibers each park inside a catch block while others throw and catch
  // on the same workers; each must still see (and rethrow) its own exception.
  constexpr int kFibers = 64;
  std::atomic<int> ok{0};
  std::vector<JoinHandle<void>> hs;
  for (int i = 0; i < kFibers; ++i) {
    hs.push_back(rt().spawn_fiber([i, &ok] {
      try {
        throw std::runtime_error(std::to_string(i));
      } catch (const std::runtime_error&) {
        for (int k = 0; k < 5; ++k) yield_now();  // may migrate here
        EXPECT_EQ(std::uncaught_exceptions(), 0);
        try {
          throw;  // rethrows the exception being handled: ours
        } catch (const std::runtime_error& again) {
          if (again.what() == std::to_string(i)) ok++;
        }
      }
      EXPECT_FALSE(std::current_exception());
    }));
  }
  for (auto& h : hs) h.join();
  EXPECT_EQ(ok.load(), kFibers);
}

TEST_P(Exceptions, CoroutineResumesAfterCatchWithSavedException) {
  // C++ forbids co_await inside a handler; the idiom is to keep the
  // exception_ptr and suspend after the handler.
  std::string got = rt().block_on([]() -> Task<std::string> {
    std::exception_ptr saved;
    try {
      throw std::runtime_error("kept");
    } catch (...) {
      saved = std::current_exception();
    }
    co_await yield_now();
    try {
      std::rethrow_exception(saved);
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
  }());
  EXPECT_EQ(got, "kept");
}

TEST_P(Exceptions, DetachedFailureIsReportedAndRuntimeKeepsRunning) {
  ::testing::internal::CaptureStderr();
  rt().spawn_fiber([]() { throw std::runtime_error("boom-fiber"); }, SpawnOptions{.name = "doomed"}).detach();
  auto h = rt().spawn(throws_after_yield("boom-coroutine"), SpawnOptions{.name = "doomed2"});
  h.detach();
  EXPECT_EQ(rt().block_on([] { return 3; }), 3);
  rt_.reset();  // waits for both
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("\"doomed\" failed and nobody will join it: boom-fiber"), std::string::npos) << err;
  EXPECT_NE(err.find("\"doomed2\" failed and nobody will join it: boom-coroutine"), std::string::npos) << err;
}

TEST_P(Exceptions, DetachAfterFailureIsReported) {
  auto h = rt().spawn_fiber([]() { throw std::runtime_error("late"); }, SpawnOptions{.name = "late"});
  while (!h.is_finished()) std::this_thread::yield();
  ::testing::internal::CaptureStderr();
  h.detach();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("\"late\" failed and nobody will join it: late"), std::string::npos) << err;
}

WEFT_INSTANTIATE_OVER_WORKERS(Exceptions);

using ExceptionsDeathTest = Exceptions;

TEST_P(ExceptionsDeathTest, TerminateOnDetachedFailureWhenConfigured) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Config c;
        c.workers = GetParam();
        c.on_detached_failure = OnDetachedFailure::kTerminate;
        Runtime r{c};
        r.spawn_fiber([]() { throw std::runtime_error("fatal-one"); }).detach();
      },
      "fatal-one");
}

INSTANTIATE_TEST_SUITE_P(Workers, ExceptionsDeathTest, ::testing::Values(1, 2), ::weft::testing::WorkerCountName);

}  // namespace
}  // namespace weft
