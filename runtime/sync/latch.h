// weft::Latch: a single-use count-down, like std::latch, whose waits park
// fibers and coroutines instead of blocking their worker.
//   Latch done(3); ... done.count_down(); ... done.wait();
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>

#include "runtime/sync/detail/gate.h"

namespace weft {

class Latch : public sync::detail::GateWaits<Latch> {
 public:
  explicit Latch(int64_t count) : count_(count) {
    if (count < 0) throw std::invalid_argument("weft::Latch: negative count");
  }
  Latch(const Latch&) = delete;

  void count_down(int64_t n = 1) {
    // acq_rel: the release pairs with ready()'s acquire, so what each party
    // did before counting down is visible to the waiters.
    int64_t left = count_.fetch_sub(n, std::memory_order_acq_rel) - n;
    if (left < 0) throw std::logic_error("weft::Latch: counted down below zero");
    if (left == 0) open();
  }
  bool try_wait() const { return ready(); }
  bool ready() const { return count_.load(std::memory_order_acquire) == 0; }
  void arrive_and_wait(int64_t n = 1) {
    count_down(n);
    wait();
  }

 private:
  std::atomic<int64_t> count_;
};

}  // namespace weft
