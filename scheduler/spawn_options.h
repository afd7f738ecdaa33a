// How a task is spawned: its name, whether it may migrate, its stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stop_token>
#include <string_view>
#include <type_traits>

namespace weft {

struct SpawnOptions {
  std::string_view name;       // copied into the task; shown in diagnostics and dumps
  bool pinned = false;         // stay on the spawning worker (for thread_local state)
  std::size_t stack_size = 0;  // fibers only; 0: the runtime's Config::stack_size
  // Fibers only: false opts this fiber out of preemption (Config::time_slice)
  // for its whole life, as if it held a NoPreempt guard.
  bool preemptible = true;
  // Runs the task on this worker and pins it there (Seastar's submit_to);
  // kAnyWorker: wherever the scheduler puts it. Out of range throws
  // std::invalid_argument.
  static constexpr uint32_t kAnyWorker = UINT32_MAX;
  uint32_t worker = kAnyWorker;
  // Cancels the task when stop is requested (as JoinHandle::cancel does).
  // Borrowed: read only during spawn.
  const std::stop_token* stop = nullptr;
};

// Trivially destructible on purpose: gcc 12 destroys temporaries with
// non-trivial destructors twice when they sit in a co_await expression, as in
// `co_await spawn(child(), SpawnOptions{.name = "child"})` (gcc PR c++/99576).
static_assert(std::is_trivially_destructible_v<SpawnOptions>);

}  // namespace weft
