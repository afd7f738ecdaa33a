// Stress: skynet with 1,000,000 coroutine leaves on 2 and 16 workers.
#include <gtest/gtest.h>

#include <vector>

#include "weft/weft.h"

namespace weft {
namespace {

Task<uint64_t> skynet(uint64_t num, uint64_t size) {
  if (size == 1) co_return num;
  std::vector<JoinHandle<uint64_t>> kids;
  kids.reserve(10);
  for (uint64_t i = 0; i < 10; ++i) kids.push_back(spawn(skynet(num + i * (size / 10), size / 10)));
  uint64_t sum = 0;
  for (auto& k : kids) sum += co_await k;
  co_return sum;
}

class Skynet : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Skynet, MillionLeaves) {
  Runtime rt{Config{.workers = GetParam()}};
  EXPECT_EQ(rt.block_on(skynet(0, 1'000'000)), 499999500000ull);
}

INSTANTIATE_TEST_SUITE_P(Workers, Skynet, ::testing::Values(2, 16));

}  // namespace
}  // namespace weft
