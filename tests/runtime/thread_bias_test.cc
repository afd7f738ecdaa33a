// ThreadBias (runtime/core/detail/thread_bias.h): one granted thread updates
// guarded words with plain loads and stores; any other thread revokes the
// bias for good before its own locked update, waiting for the holder to
// leave its section, so no update is lost even when a revocation races with
// the holder.
#include "runtime/core/detail/thread_bias.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace weft::core::detail {
namespace {

using Claim = ThreadBias::Claim;

ThreadBias::Self id_of_another_thread() {
  ThreadBias::Self id = nullptr;
  std::thread([&] { id = this_thread_id(); }).join();
  return id;
}

TEST(ThreadBias, EachLiveThreadHasItsOwnId) {
  EXPECT_EQ(this_thread_id(), this_thread_id());
  std::atomic<ThreadBias::Self> other{nullptr};
  std::atomic<bool> done{false};
  std::thread t([&] {
    other = this_thread_id();
    while (!done.load()) std::this_thread::yield();
  });
  while (other.load() == nullptr) std::this_thread::yield();
  EXPECT_NE(other.load(), this_thread_id());  // both alive at once
  done = true;
  t.join();
}

TEST(ThreadBias, OnlyTheGrantedThreadEnters) {
  ThreadBias bias;
  EXPECT_EQ(bias.claim(), Claim::kUnclaimed);
  if (!ThreadBias::available()) {
    EXPECT_FALSE(bias.grant(this_thread_id()));
    EXPECT_EQ(bias.claim(), Claim::kRevoked);  // never biased in this process
    return;
  }
  ASSERT_TRUE(bias.grant(this_thread_id()));
  EXPECT_FALSE(bias.grant(this_thread_id()));  // granted once only
  EXPECT_EQ(bias.claim(this_thread_id()), Claim::kMine);
  EXPECT_EQ(bias.claim(id_of_another_thread()), Claim::kOthers);
  ASSERT_TRUE(bias.try_enter(this_thread_id()));
  EXPECT_TRUE(bias.entered_by(this_thread_id()));
  bias.leave();
  EXPECT_FALSE(bias.entered_by(this_thread_id()));
}

TEST(ThreadBias, AnotherThreadRevokesForGood) {
  if (!ThreadBias::available()) GTEST_SKIP() << "nothing is biased in this process";
  ThreadBias bias;
  ASSERT_TRUE(bias.grant(this_thread_id()));
  std::thread([&] { bias.revoke(); }).join();
  EXPECT_EQ(bias.claim(), Claim::kRevoked);
  EXPECT_EQ(bias.claim(this_thread_id()), Claim::kRevoked);
  EXPECT_FALSE(bias.try_enter(this_thread_id()));
  EXPECT_FALSE(bias.entered_by(this_thread_id()));  // backing out clears it
  EXPECT_FALSE(bias.grant(this_thread_id()));
}

TEST(ThreadBias, RevokingAnUnclaimedBiasForbidsAGrant) {
  ThreadBias bias;
  bias.revoke();
  EXPECT_EQ(bias.claim(), Claim::kRevoked);
  EXPECT_FALSE(bias.grant(this_thread_id()));
}

TEST(ThreadBias, AHolderThatGivesUpLeavesItRevoked) {
  if (!ThreadBias::available()) GTEST_SKIP() << "nothing is biased in this process";
  ThreadBias bias;
  ASSERT_TRUE(bias.grant(this_thread_id()));
  bias.give_up(id_of_another_thread());  // not the holder: nothing happens
  EXPECT_EQ(bias.claim(this_thread_id()), Claim::kMine);
  bias.give_up(this_thread_id());
  EXPECT_EQ(bias.claim(), Claim::kRevoked);
}

// The holder adds with a load and a store inside its sections while two
// other threads revoke and then add with fetch_add: every add is counted.
// A revoker that did not wait for the holder's section to end would lose
// one of its own adds to the holder's stale store.
TEST(ThreadBias, RevocationRacingTheHolderLosesNoUpdate) {
  if (!ThreadBias::available()) GTEST_SKIP() << "nothing is biased in this process";
  constexpr int kOthers = 2, kEach = 2000, kHolder = 20000;
  for (int round = 0; round < 50; ++round) {
    ThreadBias bias;
    std::atomic<uint64_t> count{0};
    const ThreadBias::Self me = this_thread_id();
    ASSERT_TRUE(bias.grant(me));
    std::atomic<bool> go{false};
    std::vector<std::thread> others;
    for (int i = 0; i < kOthers; ++i) {
      others.emplace_back([&] {
        while (!go.load(std::memory_order_acquire)) {
        }
        bias.revoke();
        for (int j = 0; j < kEach; ++j) count.fetch_add(1, std::memory_order_relaxed);
      });
    }
    go.store(true, std::memory_order_release);
    int plain = 0;
    for (int j = 0; j < kHolder; ++j) {
      if (bias.claim(me) == Claim::kMine && bias.try_enter(me)) {
        count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        bias.leave();
        ++plain;
      } else {
        bias.revoke();
        count.fetch_add(1, std::memory_order_relaxed);
      }
    }
    for (auto& t : others) t.join();
    EXPECT_EQ(count.load(), uint64_t(kHolder + kOthers * kEach)) << "round " << round << ", plain adds " << plain;
    EXPECT_EQ(bias.claim(), Claim::kRevoked);
  }
}

}  // namespace
}  // namespace weft::core::detail
