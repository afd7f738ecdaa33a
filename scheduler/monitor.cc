#include "scheduler/monitor.h"

#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <mutex>

#include "runtime/core/task_header.h"
#include "runtime/core/thread_state.h"
#include "scheduler/scheduler.h"
#include "scheduler/worker.h"

namespace weft::sched {

namespace {

// How long the stalled run had lasted when the monitor saw it (ms), for the
// handler to print (step 3). One report at a time: the rate limit spaces them.
std::atomic<int64_t> g_stall_ms{0};

// Async-signal-safe output: no malloc, no stdio.
void put(const char* s) { [[maybe_unused]] ssize_t n = ::write(2, s, std::strlen(s)); }
void put(std::string_view s) { [[maybe_unused]] ssize_t n = ::write(2, s.data(), s.size()); }
void put_u64(uint64_t v) {
  char buf[24];
  int i = sizeof(buf);
  buf[--i] = '\0';
  do {
    buf[--i] = char('0' + v % 10);
    v /= 10;
  } while (v != 0 && i > 0);
  put(buf + i);
}

void on_stall_signal(int, siginfo_t*, void*) {
  const int saved_errno = errno;
  core::ThreadState& ts = core::this_thread();
  core::TaskHeader* t = ts.task;
  if (t != nullptr) {
    put("weft: stall: task ");
    put_u64(t->id());
    put(" \"");
    put(t->name());
    put(t->kind() == core::TaskKind::kFiber ? "\" (fiber)" : "\" (coroutine)");
    put(" has run for ");
    put_u64(uint64_t(g_stall_ms.load(std::memory_order_relaxed)));
    put(" ms without yielding, on worker ");
    put_u64(ts.worker ? static_cast<Worker*>(ts.worker)->index() : 0);
    put("; backtrace of that thread:\n");
    void* frames[48];
    int n = backtrace(frames, 48);
    backtrace_symbols_fd(frames, n, 2);
  }
  errno = saved_errno;
}

}  // namespace

void install_stall_handler(int signal) {
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
  sa.sa_sigaction = on_stall_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(signal, &sa, nullptr);
}

Monitor::Monitor(Scheduler& scheduler, std::chrono::milliseconds threshold, int signal)
    : scheduler_(scheduler), threshold_(threshold), signal_(signal) {
  install_stall_handler(signal_);
  thread_ = std::thread([this] { loop(); });
}

Monitor::~Monitor() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Monitor::loop() {
  std::vector<Seen> seen(scheduler_.num_workers());
  const auto period = std::max(threshold_ / 4, std::chrono::milliseconds(1));
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, period, [&] { return stop_; })) {
    const auto now = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < seen.size(); ++i) check(i, seen[i], now);
  }
}

void Monitor::check(uint32_t worker, Seen& seen, std::chrono::steady_clock::time_point now) {
  Worker& w = scheduler_.worker(worker);
  const uint64_t seq = w.run_seq();
  if (seq != seen.seq) {  // step 2: a new run (or none) since the last look
    seen = Seen{seq, now, false};
    return;
  }
  if ((seq & 1) == 0 || seen.reported || now - seen.since < threshold_) return;
  if (now - last_report_ < std::chrono::seconds(1)) return;  // rate limit
  seen.reported = true;
  last_report_ = now;
  g_stall_ms.store(std::chrono::duration_cast<std::chrono::milliseconds>(now - seen.since).count(),
                   std::memory_order_relaxed);
  reports_.fetch_add(1, std::memory_order_relaxed);
  w.signal_thread(signal_);
}

}  // namespace weft::sched
