// How an idle worker thread sleeps: a futex with a single wake-up token, so an
// unpark that comes before the park is not lost (the next park returns at
// once). States: kEmpty, kParked (sleeping, or about to), kNotified. A park
// may also end at a deadline: the worker's next timer.
#pragma once

#include <atomic>
#include <time.h>

#include <climits>
#include <cstdint>

#include "runtime/core/detail/futex.h"

namespace weft::sched::detail {

class WorkerParker {
 public:
  // Sleeps until unpark() or until CLOCK_MONOTONIC reaches `deadline_ns`
  // (INT64_MAX: no deadline; the worker's next timer otherwise).
  void park(int64_t deadline_ns) {
    // acquire: pairs with unpark()'s release, so work pushed before the
    // unpark is visible after we wake.
    if (state_.exchange(kParked, std::memory_order_acquire) == kNotified) {
      state_.store(kEmpty, std::memory_order_relaxed);
      return;
    }
    for (;;) {
      if (deadline_ns == INT64_MAX) {
        core::detail::futex_wait(&state_, kParked, nullptr);
      } else {
        timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left = deadline_ns - (int64_t(now.tv_sec) * 1000000000 + now.tv_nsec);
        if (left <= 0) {
          // Timed out: leave kParked (or take a notification that raced in).
          state_.exchange(kEmpty, std::memory_order_acquire);
          return;
        }
        timespec rel{time_t(left / 1000000000), long(left % 1000000000)};
        core::detail::futex_wait(&state_, kParked, &rel);
      }
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
