// Parks a plain OS thread (one outside any runtime, or blocking in
// JoinHandle::join) until a Waker ends its wait. Reference-counted: a Waker
// keeps the parker alive even after the thread has returned and exited.
//
// Protocol: the wait token is a futex word. wake(token) bumps it from `token`
// to `token + 1` (at most one wake per wait, stale wakes do nothing) and then
// futex-wakes; park(token) sleeps while the word still equals `token`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace weft::core {

class ThreadParker {
 public:
  // The calling thread's parker, created on first use.
  static ThreadParker* current();

  uint32_t wait_token() const { return seq_.load(std::memory_order_acquire); }
  void park(uint32_t token);
  // Returns false if the deadline passed first (the wait is then over: a
  // late wake for `token` does nothing).
  bool park_until(uint32_t token, std::chrono::steady_clock::time_point deadline);
  bool wake(uint32_t token);

  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref();

 private:
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint32_t> refs_{1};
};

}  // namespace weft::core
