// weft::Latch: a single-use count-down, like std::latch, whose waits park
// fibers and coroutines instead of blocking their worker.
//   Latch done(3); ... done.count_down(); ... done.wait();
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <system_error>

#include "runtime/sync/detail/gate.h"

namespace weft {

class Latch {
  static bool ready(Latch& l) { return l.count_.load(std::memory_order_acquire) == 0; }
  using Op = sync::detail::GateOp<Latch, &Latch::ready, core::WaitReason::kCondition>;

 public:
  using Awaiter = sync::detail::OpAwaiter<Op>;

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
  bool try_wait() const { return count_.load(std::memory_order_acquire) == 0; }
  void wait() { (void)wait(WaitOptions{}); }
  [[nodiscard]] std::error_code wait(const WaitOptions& options) {
    if (try_wait()) return {};
    sync::detail::Waiter w;
    Op op{this, &gate_};
    return sync::detail::block(op, w, options);
  }
  void arrive_and_wait(int64_t n = 1) {
    count_down(n);
    wait();
  }
  Awaiter async_wait() { return Awaiter(Op{this, &gate_}, WaitOptions{}); }
  Awaiter async_wait(const WaitOptions& options) { return Awaiter(Op{this, &gate_}, options); }

 protected:
  void add(int64_t n) { count_.fetch_add(n, std::memory_order_relaxed); }
  std::atomic<int64_t> count_;

 private:
  void open() {
    sync::detail::WakeList wake;
    gate_.lock().lock();
    gate_.open_all(wake);
    gate_.lock().unlock();
  }
  sync::detail::Gate gate_;
};

}  // namespace weft
