// Everything a runtime can be tuned with, in one place.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstddef>

#include "runtime/core/stack.h"

namespace weft {

enum class SchedulingMode {
  kWorkStealing,   // idle workers steal from busy ones (default)
  kThreadPerCore,  // no stealing: a task stays on the worker it was spawned on
};

enum class OnDetachedFailure {
  kReport,     // print the task's id, name and exception on stderr; keep running
  kTerminate,  // print, then std::terminate()
};

enum class ShutdownPolicy {
  kWait,    // ~Runtime waits for every task to finish
  kCancel,  // ~Runtime stops the workers and cancels what is left
};

// Which reactor the workers park in (io/reactor.h). kAuto: io_uring where
// the kernel allows it, else epoll. The WEFT_IO environment variable
// (uring|epoll) overrides this field.
enum class IoBackend : uint8_t { kAuto, kUring, kEpoll };

struct Config {
  // 0: one worker per CPU in the process's affinity mask.
  std::size_t workers = 0;
  SchedulingMode mode = SchedulingMode::kWorkStealing;
  // Pin worker i to the i-th CPU of the affinity mask.
  bool pin_workers = false;
  // Default fiber stack (a spawn may ask for another size): what a fiber's
  // code may use. Each stack is mapped at twice this, committed lazily, so
  // that a fiber joining a child nobody has started can run it in place with
  // this much still free for it (scheduler/join_in_place.h).
  std::size_t stack_size = core::kDefaultStackSize;
  // Finished fibers' stacks kept mapped for reuse. Unmapping one costs a
  // TLB shoot-down on every worker's CPU; a cached one costs only the pages
  // it touched (typically 8 KiB) until the runtime ends.
  std::size_t stack_cache = 16384;
  // How long an idle worker keeps looking for work before it sleeps on a
  // futex. A cross-CPU futex wake costs tens of microseconds on this kind of
  // VM; spinning a little longer than a typical hand-off gap saves that cost
  // without burning a core when the runtime is really idle (see README).
  std::chrono::microseconds spin_before_park{50};
  IoBackend io = IoBackend::kAuto;
  // A task that runs longer than this without yielding is reported on stderr
  // with a backtrace of its worker (scheduler/monitor.h); 0 turns the
  // monitor off. The report is made by a signal to the worker's thread.
  std::chrono::milliseconds stall_threshold{100};
  // A fiber that runs longer than this without yielding is preempted: the
  // monitor's signal switches it out at the next safe point and it goes
  // behind the other ready tasks (scheduler/preempt.h). 0 turns preemption
  // off; a fiber opts out with SpawnOptions::preemptible or NoPreempt.
  // Coroutines cannot be interrupted: past their slice their next weft
  // operation yields.
  std::chrono::microseconds time_slice{10000};
  // A worker that has run one task this long (a system call that blocks,
  // a coroutine computing) hands its queued tasks over: its LIFO slot goes
  // into its stealable ring and an idle worker is woken to take them (Go's
  // hand-off; scheduler/monitor.h). Pinned tasks stay. 0: off.
  std::chrono::microseconds handoff_after{1000};
  // Spare workers (Go starts a new M for the P of a thread stuck in a
  // system call): when workers have been blocked in the kernel past
  // handoff_after and no other worker is idle to take their queued tasks,
  // the monitor starts up to this many spare worker threads, which steal
  // those tasks and stop again once no worker is stuck
  // (scheduler/monitor.h, step 7). Work-stealing mode only; 0: none.
  std::size_t max_spare_workers = 4;
  // The monitor thread's nice value (setpriority on its own thread id).
  // When tasks keep every core busy, a monitor at the default priority waits
  // its turn behind them and preemption comes late; it wakes for a few
  // microseconds a millisecond, so raising it costs others little. Needs
  // CAP_SYS_NICE (or RLIMIT_NICE) below 0: without, the monitor stays at
  // the process's priority. 0 leaves it alone.
  int monitor_nice = -10;
  // The signal the monitor sends for both stall reports and preemption.
  int monitor_signal = SIGURG;  // rarely used by applications (Go uses it too)
  OnDetachedFailure on_detached_failure = OnDetachedFailure::kReport;
  ShutdownPolicy shutdown = ShutdownPolicy::kWait;
  // Test mode: every time a task is queued again it goes to a different
  // worker, to shake out thread_local state cached across a switch.
  bool force_migration = false;
};

}  // namespace weft
