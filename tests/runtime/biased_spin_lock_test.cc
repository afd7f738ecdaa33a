// BiasedSpinLock (runtime/core/detail/biased_spin_lock.h): a thread that
// takes the lock kBiasAfter times in a row becomes its bias holder; another
// thread revokes the bias for good; mutual exclusion holds throughout,
// including while a revocation races with the holder's lock-free entries.
#include "runtime/core/detail/biased_spin_lock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace weft::core::detail {
namespace {

using Bias = BiasedSpinLock::Bias;

void take(BiasedSpinLock& lock, uint32_t times) {
  for (uint32_t i = 0; i < times; ++i) {
    lock.lock();
    lock.unlock();
  }
}

// A critical section that notices another thread inside it.
struct Guarded {
  BiasedSpinLock lock;
  std::atomic<bool> inside{false};
  uint64_t count = 0;  // plain: only ever written under the lock
  std::atomic<int> overlaps{0};
  void enter_once() {
    lock.lock();
    if (inside.exchange(true, std::memory_order_relaxed)) overlaps.fetch_add(1);
    ++count;
    inside.store(false, std::memory_order_relaxed);
    lock.unlock();
  }
};

TEST(BiasedSpinLock, ARunOfAcquisitionsByOneThreadBiasesIt) {
  BiasedSpinLock lock;
  take(lock, BiasedSpinLock::kBiasAfter - 1);
  EXPECT_EQ(lock.bias(), Bias::kNone);
  take(lock, 1);
  // Without membarrier's expedited command (or under TSan) the lock gives
  // up on biasing instead: the inner lock alone from then on.
  EXPECT_EQ(lock.bias(), BiasedSpinLock::biasing_available() ? Bias::kHeld : Bias::kRevoked);
  take(lock, 10);  // the holder's own way in and out
  EXPECT_EQ(lock.bias(), BiasedSpinLock::biasing_available() ? Bias::kHeld : Bias::kRevoked);
}

TEST(BiasedSpinLock, AnotherThreadInBetweenStartsTheRunAgain) {
  BiasedSpinLock lock;
  for (int round = 0; round < 3; ++round) {
    take(lock, BiasedSpinLock::kBiasAfter - 1);
    std::thread([&] { take(lock, 1); }).join();
  }
  EXPECT_EQ(lock.bias(), Bias::kNone);
}

TEST(BiasedSpinLock, AnotherThreadRevokesTheBiasForGood) {
  if (!BiasedSpinLock::biasing_available()) GTEST_SKIP() << "no lock is biased in this process";
  Guarded g;
  take(g.lock, BiasedSpinLock::kBiasAfter);
  ASSERT_EQ(g.lock.bias(), Bias::kHeld);
  std::thread([&] { g.enter_once(); }).join();
  EXPECT_EQ(g.lock.bias(), Bias::kRevoked);
  // Neither the former holder nor anyone else biases it again.
  take(g.lock, 2 * BiasedSpinLock::kBiasAfter);
  EXPECT_EQ(g.lock.bias(), Bias::kRevoked);
  g.enter_once();
  EXPECT_EQ(g.count, 2u);
}

// The revoker arrives while the holder is entering and leaving as fast as it
// can: each round, neither ever finds the other inside, and every entry is
// counted.
TEST(BiasedSpinLock, RevocationRacingTheHolderKeepsMutualExclusion) {
  if (!BiasedSpinLock::biasing_available()) GTEST_SKIP() << "no lock is biased in this process";
  for (int round = 0; round < 50; ++round) {
    Guarded g;
    take(g.lock, BiasedSpinLock::kBiasAfter);
    ASSERT_EQ(g.lock.bias(), Bias::kHeld);
    std::atomic<bool> go{false};
    constexpr int kOthers = 2, kEach = 2000, kHolder = 20000;
    std::vector<std::thread> others;
    for (int i = 0; i < kOthers; ++i) {
      others.emplace_back([&] {
        while (!go.load(std::memory_order_acquire)) {
        }
        for (int j = 0; j < kEach; ++j) g.enter_once();
      });
    }
    go.store(true, std::memory_order_release);
    for (int j = 0; j < kHolder; ++j) g.enter_once();
    for (auto& t : others) t.join();
    EXPECT_EQ(g.overlaps.load(), 0) << "round " << round;
    EXPECT_EQ(g.count, uint64_t(kHolder + kOthers * kEach)) << "round " << round;
    EXPECT_EQ(g.lock.bias(), Bias::kRevoked);
  }
}

}  // namespace
}  // namespace weft::core::detail
