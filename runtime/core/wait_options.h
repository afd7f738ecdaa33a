// How long a blocking call may wait, and what may cancel it. Every wait in
// weft (locks, channels, sleeps, joins, I/O) takes one:
//
//   std::stop_source stop;
//   auto ec = mutex.lock(weft::WaitOptions::after(50ms).with(stop.get_token()));
//   // ec: {} (locked), weft::Errc::kTimedOut or weft::Errc::kCancelled
#pragma once

#include <chrono>
#include <stop_token>
#include <type_traits>

namespace weft {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

struct WaitOptions {
  Deadline deadline = Deadline::max();  // max(): no deadline
  // Borrowed, not owned: the token must outlive the wait (it always does when
  // it is a local or a member). A pointer keeps WaitOptions trivially
  // destructible, which gcc 12 needs inside co_await expressions (PR c++/99576).
  const std::stop_token* stop = nullptr;

  static WaitOptions until(Deadline d) { return WaitOptions{d, nullptr}; }
  static WaitOptions after(Clock::duration d) { return WaitOptions{Clock::now() + d, nullptr}; }
  static WaitOptions cancel_on(const std::stop_token& token) { return WaitOptions{Deadline::max(), &token}; }
  WaitOptions with(const std::stop_token& token) const { return WaitOptions{deadline, &token}; }

  bool has_deadline() const { return deadline != Deadline::max(); }
  // Neither deadline nor stop token (kWaitForever's kind): such a wait has
  // no timer or stop callback to arm and nothing to check before it starts.
  bool waits_forever() const { return stop == nullptr && !has_deadline(); }
  bool stop_possible() const { return stop != nullptr && stop->stop_possible(); }
  bool stop_requested() const { return stop != nullptr && stop->stop_requested(); }
  bool expired() const { return has_deadline() && Clock::now() >= deadline; }
};

static_assert(std::is_trivially_destructible_v<WaitOptions>);

// No deadline, no stop token: what a call given no WaitOptions waits with.
// Default arguments bind to this object rather than to a `{}` temporary: in
// a coroutine the temporary lives in the frame, and copying it into the
// awaiter right after its two 8-byte stores made one 16-byte load that the
// store buffer cannot forward (a stall on every channel operation).
inline constexpr WaitOptions kWaitForever{};

}  // namespace weft
