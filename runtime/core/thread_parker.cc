#include "runtime/core/thread_parker.h"

#include <memory>

#include "runtime/core/detail/futex.h"

namespace weft::core {

namespace {
struct ParkerOwner {
  ThreadParker* parker = nullptr;
  ~ParkerOwner() {
    if (parker) parker->unref();
  }
};
thread_local ParkerOwner tls_parker;
}  // namespace

// Out of line and out of interprocedural analysis, as every TLS accessor
// (thread_state.h).
[[gnu::noinline, gnu::noipa]] ThreadParker* ThreadParker::current() {
  if (tls_parker.parker == nullptr) tls_parker.parker = new ThreadParker();
  return tls_parker.parker;
}

void ThreadParker::park(uint32_t token) {
  // acquire: pairs with wake()'s release, so the woken thread sees what the
  // waker published before ending the wait.
  while (seq_.load(std::memory_order_acquire) == token) detail::futex_wait(&seq_, token, nullptr);
}

bool ThreadParker::park_until(uint32_t token, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (seq_.load(std::memory_order_acquire) != token) return true;
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      // End the wait ourselves; if a waker got there first, it was woken.
      uint32_t expected = token;
      return !seq_.compare_exchange_strong(expected, token + 1, std::memory_order_acq_rel);
    }
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    detail::futex_wait(&seq_, token, &ts);
  }
}

bool ThreadParker::wake(uint32_t token) {
  uint32_t expected = token;
  // release: pairs with park()'s acquire load.
  if (!seq_.compare_exchange_strong(expected, token + 1, std::memory_order_acq_rel)) return false;
  detail::futex_wake(&seq_, 1);
  return true;
}

void ThreadParker::unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

}  // namespace weft::core
