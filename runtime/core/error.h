// weft's one error style: std::error_code. Blocking calls that can fail for a
// reason the caller should act on (a deadline, a stop request, a closed
// channel, and later the I/O layer's errno values) return a std::error_code
// or a weft::Result<T>; they never hang or abort. weft::Errc values compare
// equal to the matching std::errc conditions, so
//   if (ec == std::errc::timed_out) ...
// works as well as `ec == weft::Errc::kTimedOut`.
#pragma once

#include <system_error>
#include <type_traits>

namespace weft {

enum class Errc {
  kTimedOut = 1,  // the wait's deadline passed first
  kCancelled,     // its stop token was triggered (or the task was cancelled)
  kClosed,        // the channel (or stream) is closed
  kWouldBlock,    // a try_ operation could not complete at once
  kEndOfStream,   // read_exact: the peer closed before the full length came
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), error_category()}; }

// "No error", for hot paths: std::error_code() calls std::system_category(),
// which lives in libstdc++ and so costs a call through the PLT each time
// (2-3 % of a channel ping-pong); a copy of this one is two moves.
inline std::error_code no_error() noexcept {
  static const std::error_code ok;
  return ok;
}

}  // namespace weft

template <>
struct std::is_error_code_enum<weft::Errc> : std::true_type {};
