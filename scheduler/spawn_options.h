// How a task is spawned: its name, whether it may migrate, its stack.
#pragma once

#include <cstddef>
#include <string>

namespace weft {

struct SpawnOptions {
  std::string name;            // shown in diagnostics and task dumps
  bool pinned = false;         // stay on the spawning worker (for thread_local state)
  std::size_t stack_size = 0;  // fibers only; 0: the runtime's Config::stack_size
};

}  // namespace weft
