// Sleeping, for both kinds of task and plain threads:
//   weft::sleep_for(10ms);              // fiber or thread: sleeps now
//   co_await weft::sleep_for(10ms);     // coroutine: parks the task
//   auto ec = weft::sleep_for(1s, stop_token).error();   // kCancelled if stopped early
// A fiber's or coroutine's sleep is a timer on its worker (scheduler/
// timer_queue.h); the worker wakes from its park for the earliest one.
#pragma once

#include <chrono>
#include <coroutine>
#include <stop_token>
#include <system_error>

#include "runtime/core/wait_options.h"
#include "runtime/core/waker.h"
#include "scheduler/park.h"

namespace weft {

// Not [[nodiscard]]: a fiber's `sleep_for(d);` discards it on purpose. A
// coroutine that forgets co_await gets a one-time warning on stderr instead.
class SleepAwaiter {
 public:
  // `fresh_deadline`: the deadline was computed from the clock just now and
  // lies ahead of it (sleep_for with a positive duration), so await_suspend
  // need not read the clock again (~28 ns on this VM) to see whether it
  // passed: if it has by then, the timer fires at the worker's next look.
  explicit SleepAwaiter(const WaitOptions& options, bool fresh_deadline = false);
  SleepAwaiter(const SleepAwaiter&) = delete;
  ~SleepAwaiter();
  // After a fiber's or thread's sleep: {} or kCancelled.
  std::error_code error() const { return result(); }

  bool await_ready() const noexcept { return done_; }
  bool await_suspend(std::coroutine_handle<> h);
  std::error_code await_resume();

 private:
  std::error_code result() const;

  WaitOptions options_;
  // No Waker kept while suspended (the timer holds the reference): a frame
  // that held its own task could never be freed if shutdown cancels it.
  sched::CoroutineWait wait_;
  bool cancelled_ = false;  // the only error a sleep has (a byte, not an error_code, in every frame)
  bool fresh_deadline_ = false;
  bool done_ = false;
  bool suspended_ = false;
  bool awaited_ = false;
};

inline SleepAwaiter sleep_until(Deadline deadline) { return SleepAwaiter(WaitOptions::until(deadline)); }
inline SleepAwaiter sleep_until(Deadline deadline, const std::stop_token& stop) {
  return SleepAwaiter(WaitOptions::until(deadline).with(stop));
}
inline SleepAwaiter sleep_for(Clock::duration d) {
  return SleepAwaiter(WaitOptions::after(d), d > Clock::duration::zero());
}
inline SleepAwaiter sleep_for(Clock::duration d, const std::stop_token& stop) {
  return SleepAwaiter(WaitOptions::after(d).with(stop), d > Clock::duration::zero());
}

}  // namespace weft
