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
// (2-3 % of a channel ping-pong); this one loads a cached category. Its
// value is a visible 0, so the compiler folds a test of it away.
inline std::error_code no_error() noexcept {
  static const std::error_category& system = std::system_category();
  return {0, system};
}

// A std::error_code kept in a hot object (a Result, an awaiter), stored as
// its two parts and rebuilt on read. Why not the std::error_code itself:
// default-constructing one calls std::system_category() through the PLT,
// and copying one out loads its 4-byte value as 8 bytes, which cannot be
// forwarded from the 4-byte store just made (the load waits for the store
// to reach the cache: about 4 ns of a channel round trip).
class StoredError {
 public:
  StoredError() = default;
  StoredError(std::error_code ec) noexcept : value_(ec.value()), category_(&ec.category()) {}  // NOLINT
  std::error_code get() const noexcept {
    return category_ == nullptr ? no_error() : std::error_code(value_, *category_);
  }
  explicit operator bool() const noexcept { return value_ != 0; }

 private:
  int value_ = 0;
  const std::error_category* category_ = nullptr;  // nullptr: no error
};

}  // namespace weft

template <>
struct std::is_error_code_enum<weft::Errc> : std::true_type {};
