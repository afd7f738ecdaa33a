// weft::Runtime: owns a scheduler and its worker threads. No process-wide
// singleton: several runtimes may coexist, each owned by a scope.
//
//   weft::Runtime rt{weft::Config{.workers = 2}};
//   int v = rt.block_on(answer());            // a Task<int>
//   auto h = rt.spawn_fiber([] { return 7; });
//   int w = h.join();
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "runtime/config.h"
#include "runtime/core/fiber.h"
#include "runtime/join_handle.h"
#include "runtime/task.h"

namespace weft {

namespace sched {
class Scheduler;
}

class Runtime;

namespace detail {
// Spawns `task` on `scheduler`, or with none on the runtime whose worker (or
// task) is running on this thread: std::logic_error outside a runtime. One
// call from a spawn into the runtime, whichever form it has.
void spawn_on(sched::Scheduler* scheduler, core::TaskHeader* task, const SpawnOptions& options);
sched::Scheduler& current_scheduler();  // throws std::logic_error outside a runtime
// The options of a spawn that gives none: one constant, no call.
inline constexpr SpawnOptions kNoSpawnOptions{};

template <class T>
JoinHandle<T> spawn_task(sched::Scheduler* s, Task<T> task, const SpawnOptions& options) {
  if (!task.valid()) throw std::invalid_argument("weft: spawn of an empty Task");
  auto h = task.release();
  auto& promise = h.promise();
  promise.resume_point = h;
  try {
    spawn_on(s, &promise, options);
  } catch (...) {
    h.destroy();
    throw;
  }
  return JoinHandle<T>(&promise);
}

template <class F>
auto spawn_fiber_task(sched::Scheduler* s, F&& fn, const SpawnOptions& options) {
  using Fn = std::decay_t<F>;
  using R = std::invoke_result_t<Fn&>;
  auto* fiber = new core::FiberTask<R, Fn>(Fn(std::forward<F>(fn)));
  fiber->requested_stack_size = options.stack_size;
  try {
    spawn_on(s, fiber, options);
  } catch (...) {
    delete fiber;
    throw;
  }
  return JoinHandle<R>(fiber);
}
}  // namespace detail

class Runtime {
 public:
  // Cheap to copy, usable from any thread; spawning through a Handle whose
  // runtime has shut down throws std::runtime_error.
  class Handle {
   public:
    template <class T>
    JoinHandle<T> spawn(Task<T> task, const SpawnOptions& options) const {
      return detail::spawn_task(scheduler_.get(), std::move(task), options);
    }
    template <class T>
    JoinHandle<T> spawn(Task<T> task) const {
      return spawn(std::move(task), detail::kNoSpawnOptions);
    }
    template <class F>
    auto spawn_fiber(F&& fn, const SpawnOptions& options) const {
      return detail::spawn_fiber_task(scheduler_.get(), std::forward<F>(fn), options);
    }
    template <class F>
    auto spawn_fiber(F&& fn) const {
      return spawn_fiber(std::forward<F>(fn), detail::kNoSpawnOptions);
    }

   private:
    friend class Runtime;
    friend Handle current_handle();
    explicit Handle(std::shared_ptr<sched::Scheduler> s) : scheduler_(std::move(s)) {}
    std::shared_ptr<sched::Scheduler> scheduler_;
  };

  explicit Runtime(const Config& config = {});
  ~Runtime();  // waits for or cancels live tasks (Config::shutdown)
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  template <class T>
  JoinHandle<T> spawn(Task<T> task, const SpawnOptions& options) {
    return detail::spawn_task(scheduler_.get(), std::move(task), options);
  }
  template <class T>
  JoinHandle<T> spawn(Task<T> task) {
    return spawn(std::move(task), detail::kNoSpawnOptions);
  }
  template <class F>
  auto spawn_fiber(F&& fn, const SpawnOptions& options) {
    return detail::spawn_fiber_task(scheduler_.get(), std::forward<F>(fn), options);
  }
  template <class F>
  auto spawn_fiber(F&& fn) {
    return spawn_fiber(std::forward<F>(fn), detail::kNoSpawnOptions);
  }

  // Runs `entry` on the runtime and blocks the calling thread until it is
  // done; returns its value or rethrows its exception. `entry` is a Task<T>
  // (runs as a coroutine) or a callable (runs as a fiber).
  template <class T>
  T block_on(Task<T> entry) {
    return spawn(std::move(entry), SpawnOptions{.name = "block_on"}).join();
  }
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  auto block_on(F&& entry) {
    return spawn_fiber(std::forward<F>(entry), SpawnOptions{.name = "block_on"}).join();
  }

  Handle handle() const { return Handle(scheduler_); }
  std::size_t workers() const;
  std::size_t live_tasks() const;
  const Config& config() const;
  // Fibers preempted for running past Config::time_slice, so far.
  uint64_t preemptions() const;
  // Spare worker threads started so far for workers blocked in system calls
  // (Config::max_spare_workers); each starts at most once.
  uint32_t spare_workers_started() const;

 private:
  std::shared_ptr<sched::Scheduler> scheduler_;
};

}  // namespace weft
