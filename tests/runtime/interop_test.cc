// Fibers wait for coroutines and coroutines wait for fibers, through the same
// JoinHandle and the same wake path, on any worker.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

using testing::RuntimeTest;

class Interop : public RuntimeTest {};

Task<int> slow_coroutine(int v) {
  for (int i = 0; i < 10; ++i) co_await yield_now();
  co_return v;
}

TEST_P(Interop, FiberJoinsCoroutine) {
  int v = rt().block_on([] {
    auto h = spawn(slow_coroutine(5));
    return h.join() * 2;
  });
  EXPECT_EQ(v, 10);
}

TEST_P(Interop, CoroutineAwaitsFiber) {
  int v = rt().block_on([]() -> Task<int> {
    auto h = spawn_fiber([] {
      for (int i = 0; i < 10; ++i) yield_now();
      return 6;
    });
    co_return (co_await h) * 2;
  }());
  EXPECT_EQ(v, 12);
}

TEST_P(Interop, MixedChainsBothWays) {
  // fiber -> coroutine -> fiber -> coroutine, each waiting for the next.
  int v = rt().block_on([] {
    auto h = spawn([]() -> Task<int> {
      auto f = spawn_fiber([] {
        auto c = spawn(slow_coroutine(1));
        return c.join() + 10;
      });
      co_return co_await f + 100;
    }());
    return h.join() + 1000;
  });
  EXPECT_EQ(v, 1111);
}

TEST_P(Interop, ManyWaitersOfEachKind) {
  constexpr int kN = 200;
  int total = rt().block_on([]() -> Task<int> {
    std::vector<JoinHandle<int>> hs;
    for (int i = 0; i < kN; ++i) {
      if (i % 2) {
        hs.push_back(spawn_fiber([i] {
          auto c = spawn(slow_coroutine(i));
          return c.join();
        }));
      } else {
        hs.push_back(spawn([](int i) -> Task<int> {
          auto f = spawn_fiber([i] {
            yield_now();
            return i;
          });
          co_return co_await f;
        }(i)));
      }
    }
    int sum = 0;
    for (auto& h : hs) sum += co_await h;
    co_return sum;
  }());
  EXPECT_EQ(total, kN * (kN - 1) / 2);
}

WEFT_INSTANTIATE_OVER_WORKERS(Interop);

}  // namespace
}  // namespace weft
