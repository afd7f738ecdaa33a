// Runs each I/O test under both reactors (io_uring and epoll) and with 1, 2
// and 4 workers, with the leak check of runtime_fixture.h.
#pragma once

#include <string>
#include <tuple>

#include "tests/support/runtime_fixture.h"

namespace weft::testing {

// Param: a tuple whose first two elements are the backend and the worker
// count (a test may add its own after them).
template <class Param>
class IoTestOver : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    stacks_before_ = core::StackPool::mapped_stacks();
    Config c;
    c.io = std::get<0>(this->GetParam());
    c.workers = std::get<1>(this->GetParam());
    rt_.emplace(c);
  }
  void TearDown() override {
    rt_.reset();
    EXPECT_EQ(core::StackPool::mapped_stacks(), stacks_before_) << "a fiber stack leaked";
  }
  Runtime& rt() { return *rt_; }

  std::optional<Runtime> rt_;
  long stacks_before_ = 0;
};

using IoTest = IoTestOver<std::tuple<IoBackend, std::size_t>>;

// "uring_2workers", from the first two elements of any such tuple.
template <class Param>
std::string IoParamName(const ::testing::TestParamInfo<Param>& info) {
  return std::string(std::get<0>(info.param) == IoBackend::kUring ? "uring" : "epoll") + "_" +
         std::to_string(std::get<1>(info.param)) + "workers";
}

#define WEFT_INSTANTIATE_OVER_BACKENDS(Fixture)                                                          \
  INSTANTIATE_TEST_SUITE_P(Io, Fixture,                                                                  \
                           ::testing::Combine(::testing::Values(IoBackend::kUring, IoBackend::kEpoll), \
                                              ::testing::Values(1, 2, 4)),                               \
                           ::weft::testing::IoParamName<::weft::testing::IoTest::ParamType>)

}  // namespace weft::testing
