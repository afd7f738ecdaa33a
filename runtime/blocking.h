// weft::blocking(fn): runs `fn` on a pool of OS threads and parks the caller
// until it returns, so a call that blocks in the kernel (a slow file system,
// getaddrinfo, a C library without async) does not stall a worker.
//   auto n = weft::blocking([&] { return ::read(fd, buf, len); });      // fiber or thread
//   auto n = co_await weft::async_blocking([&] { return ::read(fd, buf, len); });  // coroutine
// The value is returned, an exception rethrown. If the waiting task is
// cancelled, `fn` still runs to the end on its pool thread (nothing can
// interrupt it); the task gets TaskCancelled.
//
// The pool is one per process, as the kernel's threads are: it starts threads
// on demand up to kMaxThreads, and a thread idle for 10 s exits.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "runtime/core/coroutine.h"
#include "runtime/core/result_slot.h"
#include "weft/sync/event.h"

namespace weft {

namespace detail {

class BlockingPool {
 public:
  static constexpr std::size_t kMaxThreads = 512;
  static BlockingPool& get();
  void submit(std::function<void()> job);

  // For tests and diagnostics.
  std::size_t threads();
  void set_idle_timeout_for_testing(std::chrono::milliseconds t);

 private:
  BlockingPool() = default;
  void worker_loop();
  struct State;
  State& state();
};

template <class R>
struct BlockingJob {
  template <class F>
  explicit BlockingJob(F&& f) : fn(std::forward<F>(f)) {}
  std::function<R()> fn;
  core::ResultSlot<R> result;
  Event done;

  void run() {
    try {
      if constexpr (std::is_void_v<R>) {
        fn();
        result.set_value();
      } else {
        result.set_value(fn());
      }
    } catch (...) {
      result.set_error(std::current_exception());
    }
    done.set();
  }
};

template <class F>
using BlockingResult = std::invoke_result_t<std::decay_t<F>&>;

template <class F>
auto start_blocking(F&& fn) {
  auto job = std::make_shared<BlockingJob<BlockingResult<F>>>(std::forward<F>(fn));
  // The pool thread holds its own reference: a cancelled waiter may be gone
  // before `fn` returns.
  BlockingPool::get().submit([job] { job->run(); });
  return job;
}

}  // namespace detail

template <class F>
detail::BlockingResult<F> blocking(F&& fn) {
  auto job = detail::start_blocking(std::forward<F>(fn));
  job->done.wait();
  return job->result.take();
}

template <class F>
core::Task<detail::BlockingResult<F>> async_blocking(F fn) {
  auto job = detail::start_blocking(std::move(fn));
  co_await job->done.async_wait();
  co_return job->result.take();
}

}  // namespace weft
