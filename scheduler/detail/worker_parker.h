// How an idle worker thread sleeps: a futex with a single wake-up token, so an
// unpark that comes before the park is not lost (the next park returns at
// once). States: kEmpty, kParked (sleeping, or about to), kNotified.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/core/detail/futex.h"

namespace weft::sched::detail {

class WorkerParker {
 public:
  void park() {
    // acquire: pairs with unpark()'s release, so work pushed before the
    // unpark is visible after we wake.
    if (state_.exchange(kParked, std::memory_order_acquire) == kNotified) {
      state_.store(kEmpty, std::memory_order_relaxed);
      return;
    }
    for (;;) {
      core::detail::futex_wait(&state_, kParked, nullptr);
      uint32_t expected = kNotified;
      if (state_.compare_exchange_strong(expected, kEmpty, std::memory_order_acquire)) return;
    }
  }

  void unpark() {
    if (state_.exchange(kNotified, std::memory_order_release) == kParked) core::detail::futex_wake(&state_, 1);
  }

  bool notified() const { return state_.load(std::memory_order_relaxed) == kNotified; }

 private:
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kParked = 1;
  static constexpr uint32_t kNotified = 2;
  std::atomic<uint32_t> state_{kEmpty};
};

}  // namespace weft::sched::detail
