// The echo service behind examples/echo_server and //bench/contract:
// echo_server: one task per connection, as a coroutine or as a fiber.
#pragma once

#include "weft/weft.h"

namespace weft::examples {

enum class TaskKind { kCoroutine, kFiber };

// Accepts on `listener` until the runtime shuts down; each connection gets a
// task that sets TCP_NODELAY and echoes every byte until the peer closes.
// Returns at once: the accept loop is itself a task.
JoinHandle<void> serve_echo(Runtime& rt, io::TcpListener& listener, TaskKind kind);

// Blocks SIGTERM and SIGINT on the calling thread (do it before the Runtime
// starts, so its workers inherit the mask) and then waits for one of them.
void block_stop_signals();
int wait_for_stop_signal();

}  // namespace weft::examples
