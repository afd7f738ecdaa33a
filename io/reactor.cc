#include "io/reactor.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>

#include "io/detail/epoll_driver.h"
#include "io/detail/uring_driver.h"

namespace weft::io {

namespace {

void say_once(const char* what, const std::error_code& why) {
  static std::once_flag once;
  std::call_once(once, [&] {
    std::fprintf(stderr, "weft: %s (%s); using the epoll reactor\n", what, why.message().c_str());
  });
}

IoBackend from_env(IoBackend requested) {
  const char* env = std::getenv("WEFT_IO");
  if (env == nullptr || *env == '\0') return requested;
  if (std::strcmp(env, "uring") == 0) return IoBackend::kUring;
  if (std::strcmp(env, "epoll") == 0) return IoBackend::kEpoll;
  static std::once_flag once;
  std::call_once(once, [&] { std::fprintf(stderr, "weft: ignoring WEFT_IO=%s (want uring or epoll)\n", env); });
  return requested;
}

}  // namespace

const char* to_string(IoBackend backend) {
  switch (backend) {
    case IoBackend::kAuto: return "auto";
    case IoBackend::kUring: return "io_uring";
    case IoBackend::kEpoll: return "epoll";
  }
  return "?";
}

IoBackend resolve_backend(IoBackend requested) {
  IoBackend want = from_env(requested);
  if (want == IoBackend::kEpoll) return IoBackend::kEpoll;
  static const std::error_code why = [] {
    std::error_code ec;
    detail::UringDriver::supported(&ec);
    return ec;
  }();
  if (!why) return IoBackend::kUring;
  say_once("io_uring is not available", why);
  return IoBackend::kEpoll;
}

sched::DriverFactory driver_factory(IoBackend requested) {
  const IoBackend backend = resolve_backend(requested);
  return [backend](uint32_t) -> std::unique_ptr<sched::Driver> {
    if (backend == IoBackend::kUring) {
      try {
        return std::make_unique<detail::UringDriver>();
      } catch (const std::system_error& e) {
        say_once("io_uring set-up failed", e.code());  // e.g. RLIMIT_MEMLOCK on old kernels
      }
    }
    return std::make_unique<detail::EpollDriver>();  // throws only if epoll itself fails
  };
}

}  // namespace weft::io
