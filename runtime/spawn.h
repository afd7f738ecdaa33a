// Spawning onto the runtime the caller is running on (from inside a task).
// Outside any runtime these throw std::logic_error: use Runtime::spawn or a
// Runtime::Handle there.
#pragma once

#include <utility>

#include "runtime/runtime.h"

namespace weft {

template <class T>
JoinHandle<T> spawn(Task<T> task, const SpawnOptions& options = {}) {
  return detail::spawn_task(detail::current_scheduler(), std::move(task), options);
}

template <class F>
auto spawn_fiber(F&& fn, const SpawnOptions& options = {}) {
  return detail::spawn_fiber_task(detail::current_scheduler(), std::forward<F>(fn), options);
}

// A Handle to the runtime the caller runs on.
Runtime::Handle current_handle();

}  // namespace weft
