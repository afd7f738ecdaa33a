// What an idle worker sleeps in, and what it polls between tasks. By default
// that is a futex (FutexDriver below); with an I/O reactor (//io) it is
// io_uring_enter or epoll_wait, so a worker waiting for work also waits for
// I/O completions. The scheduler knows only this interface: //io sits above
// it and hands the scheduler a DriverFactory.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "scheduler/detail/worker_parker.h"

namespace weft::sched {

enum class DriverKind : uint8_t { kFutex, kUring, kEpoll };

class Driver {
 public:
  virtual ~Driver() = default;
  virtual DriverKind kind() const = 0;

  // ---- the owning worker thread ----
  // Sleeps until unpark(), an I/O completion, or CLOCK_MONOTONIC reaching
  // `deadline_ns` (INT64_MAX: none). Wakes the tasks whose I/O completed.
  virtual void park(int64_t deadline_ns) = 0;
  // Without sleeping: flushes queued submissions and wakes the tasks whose
  // I/O completed. Returns how many it woke.
  virtual std::size_t poll() = 0;

  // ---- any thread ----
  virtual void unpark() = 0;
  virtual bool notified() const = 0;

  // ---- shutdown, after the worker thread exited ----
  // In-flight operations end with ECANCELED, so tasks cancelled afterwards
  // do not wait for a worker that is gone.
  virtual void shutdown() {}
};

using DriverFactory = std::function<std::unique_ptr<Driver>(uint32_t worker_index)>;

// The wake-up token a reactor's park() and unpark() share (the same states
// as detail::WorkerParker): an unpark that comes before the park is kept,
// and only an unpark that finds the owner asleep costs a syscall.
class ParkToken {
 public:
  // Owner, before sleeping: false if an unpark is pending (do not sleep).
  bool begin_park() {
    // acquire: pairs with notify()'s release, so work pushed before the
    // unpark is visible after we wake.
    if (state_.exchange(kParked, std::memory_order_acquire) != kNotified) return true;
    state_.store(kEmpty, std::memory_order_relaxed);
    return false;
  }
  void end_park() { state_.exchange(kEmpty, std::memory_order_acquire); }
  // Any thread: true if the owner is asleep and must be kicked.
  bool notify() { return state_.exchange(kNotified, std::memory_order_release) == kParked; }
  bool notified() const { return state_.load(std::memory_order_relaxed) == kNotified; }

 private:
  static constexpr uint32_t kEmpty = 0, kParked = 1, kNotified = 2;
  std::atomic<uint32_t> state_{kEmpty};
};

// No I/O: parks on a futex.
class FutexDriver final : public Driver {
 public:
  DriverKind kind() const override { return DriverKind::kFutex; }
  void park(int64_t deadline_ns) override { parker_.park(deadline_ns); }
  std::size_t poll() override { return 0; }
  void unpark() override { parker_.unpark(); }
  bool notified() const override { return parker_.notified(); }

 private:
  detail::WorkerParker parker_;
};

}  // namespace weft::sched
