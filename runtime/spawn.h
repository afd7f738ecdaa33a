// Spawning onto the runtime the caller is running on (from inside a task).
// Outside any runtime these throw std::logic_error: use Runtime::spawn or a
// Runtime::Handle there.
#pragma once

#include <utility>

#include "runtime/runtime.h"

namespace weft {

// Overloads rather than a defaulted `const SpawnOptions& = {}`: gcc 12
// destroys a default argument's temporary twice when the call sits inside a
// co_await expression (`co_await spawn(child())`, gcc PR c++/99576).
template <class T>
JoinHandle<T> spawn(Task<T> task, const SpawnOptions& options) {
  return detail::spawn_task(nullptr, std::move(task), options);
}
template <class T>
JoinHandle<T> spawn(Task<T> task) {
  return spawn(std::move(task), detail::kNoSpawnOptions);
}

template <class F>
auto spawn_fiber(F&& fn, const SpawnOptions& options) {
  return detail::spawn_fiber_task(nullptr, std::forward<F>(fn), options);
}
template <class F>
auto spawn_fiber(F&& fn) {
  return spawn_fiber(std::forward<F>(fn), detail::kNoSpawnOptions);
}

// A Handle to the runtime the caller runs on.
Runtime::Handle current_handle();

}  // namespace weft
