// How a worker's driver sleeps: a wake-up token with three states, kEmpty,
// kParked (sleeping, or about to) and kNotified, so an unpark that comes
// before the park is not lost (the next park returns at once), and only an
// unpark that finds the owner asleep costs a syscall (futex wake, eventfd
// write). A park may also end at a deadline: the worker's next timer.
#pragma once

#include <time.h>

#include <atomic>
#include <climits>
#include <cstdint>

namespace weft::sched::detail {

class ParkToken {
 public:
  static constexpr uint32_t kEmpty = 0, kParked = 1, kNotified = 2;

  // Owner, before sleeping: false if an unpark is pending (do not sleep).
  bool begin_park() {
    // acquire: pairs with notify()'s release, so work pushed before the
    // unpark is visible after we wake.
    if (state_.exchange(kParked, std::memory_order_acquire) != kNotified) return true;
    state_.store(kEmpty, std::memory_order_relaxed);
    return false;
  }
  // Owner, after sleeping: takes any notification that came meanwhile.
  void end_park() { state_.exchange(kEmpty, std::memory_order_acquire); }
  // Any thread: true if the owner is asleep and must be kicked.
  bool notify() { return state_.exchange(kNotified, std::memory_order_release) == kParked; }
  bool notified() const { return state_.load(std::memory_order_relaxed) == kNotified; }
  // The word itself, for a futex sleep on kParked.
  std::atomic<uint32_t>* word() { return &state_; }

 private:
  std::atomic<uint32_t> state_{kEmpty};
};

inline int64_t monotonic_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // steady_clock's clock on Linux
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The time left until CLOCK_MONOTONIC reaches `deadline_ns`, as a relative
// timeout; false if it already has.
inline bool time_left(int64_t deadline_ns, timespec* out) {
  const int64_t left = deadline_ns - monotonic_now_ns();
  if (left <= 0) return false;
  *out = timespec{time_t(left / 1000000000), long(left % 1000000000)};
  return true;
}

}  // namespace weft::sched::detail
