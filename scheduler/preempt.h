// Preemption of fibers, and the monitor signal's handler (which also writes
// stall reports, monitor.h).
//
// Protocol (Go's asynchronous preemption, adapted to stackful fibers):
//   1. The monitor sees a worker run the same task for longer than
//      Config::time_slice. It sets kPreempt in the worker's request word and
//      sends Config::monitor_signal to the worker's thread (again while the
//      run lasts: monitor.h, step 3).
//   2. The handler runs on the interrupted fiber's own stack (no SA_ONSTACK):
//      the kernel has saved every register and the signal mask in a frame
//      there. It first sets the task's preempt_requested flag, so the task's
//      next weft call yields if nothing else does.
//   3. It switches away at once only at a safe point: the task is a fiber,
//      holds no NoPreempt guard and no weft spin lock, and the interrupted
//      instruction is application code (detail/code_map.h) — not libc, the
//      loader, libstdc++, libgcc, or weft itself, whose locks and per-thread
//      state the fiber may be in the middle of using.
//   4. The switch is an ordinary switch_to_worker(kPreempt) from inside the
//      handler. The worker unblocks the signal on its thread (the kernel
//      blocked it for the handler, which has not returned) and puts the fiber
//      on the global queue, behind every other ready task.
//   5. When some worker resumes the fiber, the handler returns on that
//      thread; sigreturn restores the fiber's registers and signal mask
//      exactly as they were when it was interrupted.
#pragma once

#include <cstdint>

namespace weft::sched {

// What the monitor asks of a worker's thread with one signal (bits).
enum SignalRequest : uint32_t {
  kReportStall = 1u << 0,
  kPreempt = 1u << 1,
  kHandOff = 1u << 2,  // Worker::hand_off_from_signal (monitor.h, step 4)
};

// Installs the handler for `signal`, once per process per signal; with
// `preemption`, first builds the safe-point map (not signal-safe).
void install_monitor_handler(int signal, bool preemption);

// How long the stalled run had lasted, for the next stall report.
void set_stall_ms(int64_t ms);

// Step 2's flag, honoured: called by weft operations that complete without
// waiting. Yields a fiber the monitor asked to give up the CPU.
void yield_if_preempt_requested();

}  // namespace weft::sched
