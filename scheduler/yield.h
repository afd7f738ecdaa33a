// Yielding with nothing else to run.
//
// A yield puts the running task behind every other ready task of its worker.
// When there is none, the worker would requeue the task and pop it straight
// back: for a fiber two context switches and a queue round trip that change
// nothing. Like sched_yield() on an empty run queue, the yield then returns
// at once, after doing what that round trip would have done:
//   1. Only when the worker's LIFO slot, ring, pinned list and remote queue,
//      and the scheduler's inject queue, are all empty, the next tick is not
//      the one that fires timers and polls I/O (next_task()'s every 61st), the
//      task is not pinned, the runtime is not shutting down, and a spare is
//      still wanted. Otherwise the caller takes the usual path.
//   2. The tick, the task's budget, its preempt request and the monitor's run
//      sequence (monitor.h) move exactly as for a requeue and a new run, and
//      the trace sees a yield and a run.
//   3. A fiber that was cancelled meanwhile unwinds as it would have on
//      resuming (the caller checks, core::unwind_if_cancelled()).
#pragma once

#include "runtime/core/thread_state.h"

namespace weft::sched {

// `ts` is this thread's state, read by the caller with no switch since (one
// call to the non-inlined accessor, as SpinLock::lock(ThreadState&)); its
// task is the one yielding. True: it goes on running, the yield is done.
// False: nothing happened; take the usual path.
bool yield_in_place(core::ThreadState& ts);

}  // namespace weft::sched
