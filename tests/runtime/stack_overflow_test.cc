// Hitting a fiber's guard page prints a sentence, not a bare segfault.
#include <gtest/gtest.h>

#include <cstring>

#include "weft/weft.h"

namespace weft {
namespace {

[[gnu::noinline]] int recurse(int depth) {
  volatile char pad[1024];
  std::memset(const_cast<char*>(pad), depth & 0xff, sizeof(pad));
  return depth <= 0 ? pad[3] : recurse(depth - 1) + pad[depth % 1024];
}

TEST(StackOverflowDeathTest, GuardPageHitPrintsTaskAndStackSize) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Runtime rt{Config{.workers = 1}};
        rt.spawn_fiber([] { return recurse(1 << 20); }, SpawnOptions{.name = "deep", .stack_size = 64 * 1024})
            .join();
      },
      "weft: stack overflow in fiber [0-9]+ \"deep\" \\(stack 65536 bytes\\)");
}

}  // namespace
}  // namespace weft
