// Idle workers pay back the frame slabs a burst of spawns took
// (runtime/core/frame_allocator.h, steps 4-6), and a runtime's shutdown
// unmaps what they mapped ahead.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "runtime/core/detail/sanitizers.h"
#include "runtime/core/frame_allocator.h"
#include "tests/support/eventually.h"
#include "tests/support/runtime_fixture.h"
#include "weft/weft.h"

namespace weft {
namespace {

using namespace std::chrono_literals;

using FrameReserve = testing::RuntimeTest;

Task<int> wait_for(Event* go, int i) {
  co_await go->async_wait();
  co_return i;
}

TEST_P(FrameReserve, IdleWorkersRefillWhatASpawnBurstTookAndShutdownReleasesIt) {
  if (WEFT_ASAN) GTEST_SKIP() << "under ASan frames come from operator new: no slabs";
  core::frame_allocator::release_reserve();
  // 20,000 live frames of a few hundred bytes: a few slabs taken, all from
  // this (outside) thread, while the workers have nothing to run.
  Event go;
  std::vector<JoinHandle<int>> hs;
  for (int i = 0; i < 20000; ++i) hs.push_back(rt().spawn(wait_for(&go, i)));
  EXPECT_TRUE(testing::eventually([] { return core::frame_allocator::reserve_size() > 0; }))
      << "no idle worker refilled the reserve";
  EXPECT_LE(core::frame_allocator::reserve_size(), core::frame_allocator::kReserveSlabs);
  go.set();
  long sum = 0;
  for (auto& h : hs) sum += h.join();
  EXPECT_EQ(sum, 20000L * 19999 / 2);
  rt_.reset();
  EXPECT_EQ(core::frame_allocator::reserve_size(), 0u) << "shutdown left slabs mapped";
}

WEFT_INSTANTIATE_OVER_WORKERS(FrameReserve);

}  // namespace
}  // namespace weft
