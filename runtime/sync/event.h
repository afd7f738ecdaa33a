// weft::Event: a manual-reset event. wait() returns once set() has been
// called (and until reset()); set() releases every waiter.
//   ev.wait();  co_await ev.async_wait();  ev.wait(WaitOptions::after(1s));
#pragma once

#include <atomic>
#include <system_error>

#include "runtime/sync/detail/gate.h"

namespace weft {

class Event {
  static bool ready(Event& e) { return e.set_.load(std::memory_order_acquire); }
  using Op = sync::detail::GateOp<Event, &Event::ready, core::WaitReason::kCondition>;

 public:
  using Awaiter = sync::detail::OpAwaiter<Op>;

  void set() {
    sync::detail::WakeList wake;
    gate_.lock().lock();
    // release: pairs with ready()'s acquire.
    set_.store(true, std::memory_order_release);
    gate_.open_all(wake);
    gate_.lock().unlock();
  }
  void reset() { set_.store(false, std::memory_order_relaxed); }
  bool is_set() const { return set_.load(std::memory_order_acquire); }

  void wait() { (void)wait(WaitOptions{}); }
  [[nodiscard]] std::error_code wait(const WaitOptions& options) {
    if (is_set()) return {};
    sync::detail::Waiter w;
    Op op{this, &gate_};
    return sync::detail::block(op, w, options);
  }
  Awaiter async_wait() { return Awaiter(Op{this, &gate_}, WaitOptions{}); }
  Awaiter async_wait(const WaitOptions& options) { return Awaiter(Op{this, &gate_}, options); }

 private:
  std::atomic<bool> set_{false};
  sync::detail::Gate gate_;
};

}  // namespace weft
