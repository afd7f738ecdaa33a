// weft::Event: a manual-reset event. wait() returns once set() has been
// called (and until reset()); set() releases every waiter.
//   ev.wait();  co_await ev.async_wait();  ev.wait(WaitOptions::after(1s));
#pragma once

#include <atomic>

#include "runtime/sync/detail/gate.h"

namespace weft {

class Event : public sync::detail::GateWaits<Event> {
 public:
  void set() {
    // release: pairs with ready()'s acquire.
    set_.store(true, std::memory_order_release);
    open();
  }
  void reset() { set_.store(false, std::memory_order_relaxed); }
  bool is_set() const { return ready(); }
  bool ready() const { return set_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> set_{false};
};

}  // namespace weft
