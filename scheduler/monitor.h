// The monitor: one thread per runtime (like Go's sysmon) that watches what
// each worker runs, and reports a task that has run longer than
// Config::stall_threshold without yielding (Seastar's reactor stall report).
//
// Protocol:
//   1. Each worker bumps its run sequence (Worker::run_seq) before and after
//      every task it runs: odd means "a task is running". Relaxed stores, no
//      clock read on the hot path.
//   2. Every threshold/4 the monitor samples each worker's sequence. The same
//      odd value seen for longer than the threshold is a stall.
//   3. It then sends Config::monitor_signal to that worker's thread; the
//      handler, running in the stalled task's own context, writes the task's
//      id, name, worker and run time and a backtrace of the thread to stderr,
//      with async-signal-safe calls only. One report per stalled run, and at
//      most one per second in all (rate limit).
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace weft::sched {

class Scheduler;

class Monitor {
 public:
  Monitor(Scheduler& scheduler, std::chrono::milliseconds threshold, int signal);
  ~Monitor();  // stops and joins the thread
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // How many stall reports were made (tests, diagnostics).
  uint64_t reports() const { return reports_.load(std::memory_order_relaxed); }

 private:
  struct Seen {
    uint64_t seq = 0;
    std::chrono::steady_clock::time_point since;
    bool reported = false;
  };
  void loop();
  void check(uint32_t worker, Seen& seen, std::chrono::steady_clock::time_point now);

  Scheduler& scheduler_;
  const std::chrono::milliseconds threshold_;
  const int signal_;
  std::chrono::steady_clock::time_point last_report_{};
  std::atomic<uint64_t> reports_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

// The handler's side (monitor.cc): installed once per process per signal.
void install_stall_handler(int signal);

}  // namespace weft::sched
