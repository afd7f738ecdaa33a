// What an idle worker sleeps in, and what it polls between tasks. By default
// that is a futex (FutexDriver below); with an I/O reactor (//io) it is
// io_uring_enter or epoll_wait, so a worker waiting for work also waits for
// I/O completions. The scheduler knows only this interface: //io sits above
// it and hands the scheduler a DriverFactory.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "runtime/core/detail/futex.h"
#include "scheduler/detail/park_token.h"

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

// No I/O: parks on a futex on the token's own word.
class FutexDriver final : public Driver {
 public:
  DriverKind kind() const override { return DriverKind::kFutex; }
  void park(int64_t deadline_ns) override {
    if (!token_.begin_park()) return;
    timespec left;
    while (!token_.notified()) {  // a futex wake may be spurious: look again
      const bool timed = deadline_ns != INT64_MAX;
      if (timed && !detail::time_left(deadline_ns, &left)) break;
      core::detail::futex_wait(token_.word(), detail::ParkToken::kParked, timed ? &left : nullptr);
    }
    token_.end_park();
  }
  std::size_t poll() override { return 0; }
  void unpark() override {
    if (token_.notify()) core::detail::futex_wake(token_.word(), 1);
  }
  bool notified() const override { return token_.notified(); }

 private:
  detail::ParkToken token_;
};

}  // namespace weft::sched
