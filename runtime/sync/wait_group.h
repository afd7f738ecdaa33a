// weft::WaitGroup, as Go's sync.WaitGroup: add() before starting work,
// done() when each piece ends, wait() until the count is back to zero. Unlike
// a Latch it may be reused once it reaches zero.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>

#include "runtime/sync/detail/gate.h"

namespace weft {

class WaitGroup : public sync::detail::GateWaits<WaitGroup> {
 public:
  void add(int64_t n = 1) {
    // acq_rel: a done() that reaches zero publishes the work before it.
    int64_t now = count_.fetch_add(n, std::memory_order_acq_rel) + n;
    if (now < 0) throw std::logic_error("weft::WaitGroup: negative count");
    if (now == 0) open();
  }
  void done() { add(-1); }
  int64_t count() const { return count_.load(std::memory_order_acquire); }
  bool ready() const { return count() == 0; }

 private:
  std::atomic<int64_t> count_{0};
};

}  // namespace weft
