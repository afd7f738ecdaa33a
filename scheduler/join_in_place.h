// Running a joined fiber in place of waiting for it.
//
// A fiber that joins a child fiber nobody has started yet would park, and
// the child would then need a stack of its own. Like Cilk and TBB running a
// joined child, and Java's ForkJoinPool helping the task it joins, the
// joiner runs the child's code itself, on its own stack: a tree of fibers
// that spawn and join (skynet) then runs depth-first on a few stacks
// instead of keeping a stack for every parent blocked at once.
//   1. Only a fiber joining a fiber of the same runtime, neither pinned (a
//      child that parks in place may resume on any worker, carrying the
//      joiner's stack with it), not while an exception unwinds (the child's
//      waits could not throw TaskCancelled), and only when the joiner's
//      stack has the child's whole promised size left (plus some slack for
//      the frames in between): every fiber stack is mapped at twice
//      Config::stack_size, so a child gets at least what its own would give.
//   2. If the child sits in the joiner's worker's LIFO slot (spawned last,
//      as when a fiber spawns one child and joins it), the joiner takes it
//      out: its only queue entry is gone, and it runs. Otherwise the joiner
//      takes a reference for the child's queue entry, then claims the child:
//      Runnable|FRESH -> Running|STALE (core/task_header.h). A worker that
//      dequeued it at the same moment wins or loses the same CAS; losing,
//      the joiner drops the reference and waits as usual.
//   3. The child runs with the joiner's stack and machine context: it is the
//      running task (its id, its cancellation, its waits), so if it parks,
//      the worker switches out of the joiner's stack and later resumes it
//      wherever the child is woken. The joiner stays Running meanwhile (it
//      waits on nothing anyone could wake).
//   4. When the child's code returns, the child finishes as a worker would
//      finish it (trace, registry, join slot, live count): no JoinWaiter was
//      registered, so the join slot just becomes kDone. The joiner is the
//      running task again and takes the result as any join does.
//   5. The entry left in a queue is spent by whoever dequeues it next
//      (Dequeued::kStaleEntry), who drops the reference of step 2. Shutdown
//      spends stale entries before it cancels what is queued.
//   6. A stale entry keeps its task's memory until it is spent, and a fiber
//      that only runs children in place never gives its worker a turn to
//      spend them. A ring that overflows spends its stale entries instead of
//      moving them to the inject queue (which only worker loops drain), and
//      the runtime allows kMaxStaleEntries at once (each worker's ring keeps
//      a ledger of those made and spent, the scheduler counts those reused
//      by wakes); past that a join waits as usual, and its worker spends
//      entries while it waits.
//   7. A child that parks, yields or is preempted in place while its stale
//      entry is still queued becomes Runnable again through that entry: the
//      waker (or its worker) clears STALE and drops the entry's reference
//      instead of queueing the task a second time. A task is thus never in
//      two queues, which the inject queue and the pinned lists need (they
//      link tasks through their one queue_next); it runs when that entry
//      comes out, wherever it is by then.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/core/task_header.h"
#include "runtime/core/thread_state.h"

namespace weft::sched {

// Step 1: a fiber stack is mapped at this many times the size its fiber is
// promised. 2: a child run in place has its whole promise left.
inline constexpr std::size_t kStackMappedPerPromised = 2;
// Step 6: stale entries allowed in a runtime at once.
inline constexpr uint64_t kMaxStaleEntries = 65536;

// `ts` is this thread's state, its task the joiner. True: `child` ran to its
// end here and is done. False: nothing happened; wait for it as usual.
bool join_in_place(core::ThreadState& ts, core::TaskHeader* child);

}  // namespace weft::sched
