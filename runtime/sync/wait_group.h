// weft::WaitGroup, as Go's sync.WaitGroup: add() before starting work,
// done() when each piece ends, wait() until the count is back to zero. Unlike
// a Latch it may be reused once it reaches zero.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <system_error>

#include "runtime/sync/detail/gate.h"

namespace weft {

class WaitGroup {
  static bool ready(WaitGroup& g) { return g.count_.load(std::memory_order_acquire) == 0; }
  using Op = sync::detail::GateOp<WaitGroup, &WaitGroup::ready, core::WaitReason::kCondition>;

 public:
  using Awaiter = sync::detail::OpAwaiter<Op>;

  void add(int64_t n = 1) {
    // acq_rel: a done() that reaches zero publishes the work before it.
    int64_t now = count_.fetch_add(n, std::memory_order_acq_rel) + n;
    if (now < 0) throw std::logic_error("weft::WaitGroup: negative count");
    if (now == 0) open();
  }
  void done() { add(-1); }
  int64_t count() const { return count_.load(std::memory_order_acquire); }

  void wait() { (void)wait(WaitOptions{}); }
  [[nodiscard]] std::error_code wait(const WaitOptions& options) {
    if (count() == 0) return {};
    sync::detail::Waiter w;
    Op op{this, &gate_};
    return sync::detail::block(op, w, options);
  }
  Awaiter async_wait() { return Awaiter(Op{this, &gate_}, WaitOptions{}); }
  Awaiter async_wait(const WaitOptions& options) { return Awaiter(Op{this, &gate_}, options); }

 private:
  void open() {
    sync::detail::WakeList wake;
    gate_.lock().lock();
    if (count_.load(std::memory_order_acquire) == 0) gate_.open_all(wake);
    gate_.lock().unlock();
  }
  std::atomic<int64_t> count_{0};
  sync::detail::Gate gate_;
};

}  // namespace weft
