// The runtime's per-OS-thread state, read only through this_thread().
//
// A fiber may resume on another thread after any switch, so nothing may cache
// the address of a thread_local across one. this_thread() is not inlined: each
// call recomputes the TLS address on the thread that is running now. It is
// also kept out of interprocedural analysis (noipa): the optimised build links
// the runtime with LTO (.bazelrc), which could otherwise find that it reads no
// memory, call it a const function and reuse one call's result after a switch.
#pragma once

#include <cstdint>

namespace weft::core {

class TaskHeader;
class MachineContext;
class Executor;

struct ThreadState {
  TaskHeader* task = nullptr;                    // the task running on this thread, if any
  MachineContext* scheduler_context = nullptr;   // where a fiber switches back to
  Executor* executor = nullptr;                  // the scheduler this thread works for
  void* worker = nullptr;                        // that scheduler's worker (opaque here)
  // weft spin locks this thread holds: while non-zero the running fiber is
  // not preempted (Go's m.locks). Per thread, not per task, because a spin
  // lock is never held across a switch.
  uint32_t preempt_off = 0;
};

[[gnu::noinline, gnu::noipa]] ThreadState& this_thread();

}  // namespace weft::core
