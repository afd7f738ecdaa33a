#include "scheduler/preempt.h"

#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string_view>

#include "runtime/core/detail/sanitizers.h"
#include "runtime/core/fiber.h"
#include "runtime/core/task_header.h"
#include "runtime/core/thread_state.h"
#include "scheduler/detail/code_map.h"
#include "scheduler/worker.h"

namespace weft::sched {

namespace {

std::atomic<int64_t> g_stall_ms{0};

// Async-signal-safe output: no malloc, no stdio.
void put(std::string_view s) { [[maybe_unused]] ssize_t n = ::write(2, s.data(), s.size()); }
void put_u64(uint64_t v) {
  char buf[24];
  int i = sizeof(buf);
  do {
    buf[--i] = char('0' + v % 10);
    v /= 10;
  } while (v != 0 && i > 0);
  put(std::string_view(buf + i, sizeof(buf) - i));
}

void report_stall(const core::TaskHeader& t, const Worker& w) {
  put("weft: stall: task ");
  put_u64(t.id());
  put(" \"");
  put(t.name());
  put(t.kind() == core::TaskKind::kFiber ? "\" (fiber)" : "\" (coroutine)");
  put(" has run for ");
  put_u64(uint64_t(g_stall_ms.load(std::memory_order_relaxed)));
  put(" ms without yielding, on worker ");
  put_u64(w.index());
  put("; backtrace of that thread:\n");
  void* frames[48];
  int n = backtrace(frames, 48);
  backtrace_symbols_fd(frames, n, 2);
}

struct Interrupted {
  uintptr_t pc = 0;  // 0: unknown, never a safe point
  uintptr_t sp = 0;
};

Interrupted interrupted_at(void* ucontext) {
  const auto& mc = static_cast<ucontext_t*>(ucontext)->uc_mcontext;
#if defined(__x86_64__)
  return {uintptr_t(mc.gregs[REG_RIP]), uintptr_t(mc.gregs[REG_RSP])};
#elif defined(__aarch64__)
  return {uintptr_t(mc.pc), uintptr_t(mc.sp)};
#else
  (void)mc;
  return {};
#endif
}

// Steps 2 and 3 of the protocol. The stack check matters: the worker sets
// ThreadState::task just before it switches into the fiber, so the signal
// may interrupt the worker itself (in a PLT stub, say) on its own stack.
bool at_safe_point(const core::ThreadState& ts, const core::TaskHeader& t, void* ucontext) {
  if (t.kind() != core::TaskKind::kFiber || t.no_preempt != 0 || ts.preempt_off != 0) return false;
  const auto& fiber = static_cast<const core::FiberBase&>(t);
  // Under TSan a fiber preempted here must resume on this thread (see
  // requeue_preempted), but a child run in place may have to go back to a
  // queue entry on another worker (join_in_place.h, step 7): it yields at
  // its next weft call instead, outside any handler.
  if (core::kTsan && fiber.runs_in_place()) return false;
  const core::Stack& stack = fiber.stack();
  const Interrupted at = interrupted_at(ucontext);
  const auto lo = reinterpret_cast<uintptr_t>(stack.lo);
  if (at.sp <= lo || at.sp >= lo + stack.size) return false;
  const detail::CodeMap* map = detail::CodeMap::built();
  return map != nullptr && map->is_safe_point(at.pc);
}

// Not instrumented by ThreadSanitizer, which runs handlers outside the
// fiber switches that order them: it would take the errno restore of two
// fibers preempted in turn on one thread for a race.
WEFT_NO_TSAN_FRAME void on_monitor_signal(int, siginfo_t*, void* ucontext) {
  const int saved_errno = errno;
  core::ThreadState& ts = core::this_thread();
  auto* w = static_cast<Worker*>(ts.worker);
  core::TaskHeader* t = ts.task;
  // Taken even between tasks, so a request cannot linger for the next one.
  const uint32_t req = w != nullptr ? w->take_signal_requests() : 0;
  if (t != nullptr) {
    if (req & kReportStall) report_stall(*t, *w);
    if (req & kHandOff) w->hand_off_from_signal();
    if (req & kPreempt) {
      t->preempt_requested.store(true, std::memory_order_relaxed);  // step 2
      if (at_safe_point(ts, *t, ucontext)) core::switch_to_worker(core::SuspendReason::kPreempt);  // step 4
      // Step 5: resumed, perhaps on another thread; `ts` and `w` are stale.
    }
  }
  errno = saved_errno;  // the fiber's errno, on whichever thread it now runs
}

}  // namespace

void set_stall_ms(int64_t ms) { g_stall_ms.store(ms, std::memory_order_relaxed); }

void install_monitor_handler(int signal, bool preemption) {
  if (preemption) detail::CodeMap::instance();
  static std::mutex mu;
  static bool installed[65] = {};
  std::lock_guard lock(mu);
  if (signal <= 0 || signal > 64 || installed[signal]) return;
  installed[signal] = true;
  // backtrace() loads libgcc on first use (which may allocate): do it here,
  // not in the handler.
  void* warm[2];
  backtrace(warm, 2);
  struct sigaction sa {};
  sa.sa_sigaction = on_monitor_signal;
  // No SA_ONSTACK: the handler must run on the fiber's stack (step 2).
  // SA_RESTART: a system call it interrupts carries on where it can.
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(signal, &sa, nullptr);
}

void yield_if_preempt_requested() {
  core::ThreadState& ts = core::this_thread();
  core::TaskHeader* t = ts.task;
  if (t == nullptr || !t->preempt_requested.load(std::memory_order_relaxed)) return;
  if (t->kind() != core::TaskKind::kFiber || t->no_preempt != 0 || ts.preempt_off != 0) return;
  core::switch_to_worker(core::SuspendReason::kPreempt);
}

}  // namespace weft::sched
