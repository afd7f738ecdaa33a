// A fixture that runs each test over several worker counts (1, 2, 4, 16; 16
// on a 2-core machine is intended: oversubscription finds races) and checks
// for leaks in teardown: after the runtime is gone no task may be alive and
// every fiber stack must be unmapped. Under --config=asan, LeakSanitizer
// checks every frame and fiber object at exit as well.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "runtime/core/stack.h"
#include "weft/weft.h"

namespace weft::testing {

class RuntimeTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  void SetUp() override {
    stacks_before_ = core::StackPool::mapped_stacks();
    rt_.emplace(make_config());
  }
  void TearDown() override {
    rt_.reset();
    EXPECT_EQ(core::StackPool::mapped_stacks(), stacks_before_) << "a fiber stack leaked";
  }
  virtual Config make_config() const {
    Config c;
    c.workers = GetParam();
    return c;
  }
  Runtime& rt() { return *rt_; }
  std::size_t workers() const { return GetParam(); }

  std::optional<Runtime> rt_;
  long stacks_before_ = 0;
};

inline std::string WorkerCountName(const ::testing::TestParamInfo<std::size_t>& info) {
  return std::to_string(info.param) + "workers";
}

#define WEFT_INSTANTIATE_OVER_WORKERS(Fixture) \
  INSTANTIATE_TEST_SUITE_P(Workers, Fixture, ::testing::Values(1, 2, 4, 16), ::weft::testing::WorkerCountName)

}  // namespace weft::testing
