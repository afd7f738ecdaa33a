#include "scheduler/monitor.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "scheduler/preempt.h"
#include "scheduler/scheduler.h"
#include "scheduler/worker.h"

namespace weft::sched {

namespace {
// Whether the thread is asleep in the kernel (state S or D in
// /proc/self/task/<tid>/stat: a blocking system call, a page-in, a lock) as
// opposed to running or ready to run. Read only for a worker already past
// handoff_after, so its cost (an open and a read) is rare.
bool asleep_in_kernel(int tid) {
  if (tid <= 0) return false;
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  // "tid (comm) S ...": comm may hold spaces and parentheses, so the state
  // follows the last ')'.
  const char* paren = std::strrchr(buf, ')');
  if (paren == nullptr || paren[1] == '\0' || paren[2] == '\0') return false;
  return paren[2] == 'S' || paren[2] == 'D';
}
}  // namespace

void MonitorGate::worker_unparked() {
  awake_.fetch_add(1, std::memory_order_seq_cst);  // step 6: pairs with sleep_while_all_parked()
  if (!sleeping_.load(std::memory_order_seq_cst)) return;
  {
    std::lock_guard lock(mu_);  // the monitor checks sleeping_ under it: no lost wake-up
    sleeping_.store(false, std::memory_order_relaxed);
  }
  cv_.notify_one();
}

bool MonitorGate::wait_for(Clock::duration period) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, period, [&] { return stop_; });
}

MonitorGate::Sleep MonitorGate::sleep_while_all_parked() {
  std::unique_lock lock(mu_);
  sleeping_.store(true, std::memory_order_seq_cst);  // step 6: pairs with worker_unparked()
  const bool all_parked = awake_.load(std::memory_order_seq_cst) == 0;
  if (all_parked) cv_.wait(lock, [&] { return stop_ || !sleeping_.load(std::memory_order_relaxed); });
  sleeping_.store(false, std::memory_order_relaxed);
  if (stop_) return Sleep::kStopped;
  return all_parked ? Sleep::kSlept : Sleep::kNotAllParked;
}

void MonitorGate::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

Monitor::Monitor(Scheduler& scheduler, MonitorGate& gate)
    : scheduler_(scheduler),
      threshold_(scheduler.config().stall_threshold),
      slice_(scheduler.config().time_slice),
      handoff_(scheduler.config().handoff_after),
      signal_(scheduler.config().monitor_signal),
      gate_(gate) {
  install_monitor_handler(signal_, slice_.count() > 0);
  thread_ = std::thread([this] { loop(); });
}

Monitor::~Monitor() {
  gate_.stop();
  thread_.join();
}

void Monitor::loop() {
  using std::chrono::milliseconds;
  raise_priority();
  pthread_setname_np(pthread_self(), "weft-monitor");  // after: tests wait for the name
  // Step 2's two periods.
  Clock::duration idle_period = milliseconds(50);
  if (threshold_.count() > 0) idle_period = std::min(idle_period, threshold_ / 4);
  if (handoff_.count() > 0) idle_period = std::min(idle_period, std::max<Clock::duration>(handoff_, milliseconds(10)));
  Clock::duration busy_period = idle_period;
  if (slice_.count() > 0) busy_period = std::min(busy_period, slice_ / 10);
  if (handoff_.count() > 0) busy_period = std::min(busy_period, handoff_);
  busy_period = std::max<Clock::duration>(busy_period, std::chrono::microseconds(100));
  idle_period = std::max(idle_period, busy_period);
  // With preemption on, a run that begins just after an idle sample would
  // be found a whole idle period later and preempted at 1.5 slices.
  if (slice_.count() > 0) idle_period = busy_period;

  std::vector<Seen> seen(scheduler_.num_slots());
  Clock::duration period = idle_period;
  Clock::time_point last = Clock::now();
  while (gate_.wait_for(period)) {
    const auto now = Clock::now();
    const bool busy = sample(seen, last, now);
    period = busy ? busy_period : idle_period;
    last = now;
    if (busy) continue;
    const MonitorGate::Sleep slept = gate_.sleep_while_all_parked();  // step 6
    if (slept == MonitorGate::Sleep::kStopped) break;
    if (slept == MonitorGate::Sleep::kSlept) {
      // A worker just woke: look again soon. The sleep itself is no run's
      // "halfway since the last sample".
      period = busy_period;
      last = Clock::now();
    }
  }
}

void Monitor::raise_priority() {
  const int nice = scheduler_.config().monitor_nice;
  if (nice == 0) return;
  // Linux applies PRIO_PROCESS with a thread id to that thread alone. An
  // EACCES (no CAP_SYS_NICE) leaves the monitor where it was: preemption
  // still works, only later when every core is busy.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice);
}

bool Monitor::sample(std::vector<Seen>& seen, Clock::time_point last, Clock::time_point now) {
  // A run first seen now began after the last sample: halfway, on average.
  // The gap is longer than the period when the monitor itself waited for a
  // CPU, which this corrects for.
  const auto began = last + (now - last) / 2;
  bool busy = false;
  uint32_t stuck = 0;
  uint32_t idle = 0;
  for (uint32_t i = 0; i < seen.size(); ++i) {
    const bool running = check(i, seen[i], began, now);
    busy |= running;
    if (i >= scheduler_.num_workers()) continue;  // a spare
    if (!running) {
      ++idle;
    } else if (handoff_.count() > 0 && now - seen[i].since >= handoff_ &&
               asleep_in_kernel(scheduler_.worker(i).tid())) {
      ++stuck;  // blocked in a system call; a long computation is not stuck (step 7)
    }
  }
  if (scheduler_.max_spares() > 0) balance_spares(stuck, idle);
  return busy;
}

void Monitor::balance_spares(uint32_t stuck, uint32_t idle) {
  const uint32_t active = scheduler_.active_spares();
  uint32_t want = stuck > idle ? std::min(stuck - idle, scheduler_.max_spares()) : 0;
  // More only for work that waits; fewer as soon as fewer are stuck.
  if (want > active && !scheduler_.work_queued()) want = active;
  if (want != active) scheduler_.set_active_spares(want);
}

bool Monitor::check(uint32_t worker, Seen& seen, Clock::time_point began, Clock::time_point now) {
  Worker& w = scheduler_.worker(worker);
  const uint64_t seq = w.run_seq();
  const bool running = (seq & 1) != 0;
  if (seq != seen.seq) {  // a new run (or none) since the last look
    seen = Seen{};
    seen.seq = seq;
    seen.since = now;
    seen.began = seen.preempt_sent = began;
    return running;
  }
  if (!running) return false;
  if (uint32_t requests = hand_off(seen, now) | requests_for(seen, now)) w.request_signal(requests, signal_);
  return true;
}

uint32_t Monitor::hand_off(Seen& seen, Clock::time_point now) {
  if (handoff_.count() <= 0 || now - seen.since < handoff_) return 0;
  if (seen.wake_pending) {
    seen.wake_pending = false;
    scheduler_.notify_if_work_pending();
  }
  if (now - seen.handed_off < 10 * handoff_) return 0;
  seen.handed_off = now;  // step 4
  seen.wake_pending = true;
  return kHandOff;
}

uint32_t Monitor::requests_for(Seen& seen, Clock::time_point now) {
  uint32_t requests = 0;
  if (slice_.count() > 0 && now - seen.began >= slice_ && now - seen.preempt_sent >= seen.preempt_retry) {
    seen.preempt_sent = now;  // step 3
    seen.preempt_retry = seen.preempt_retry.count() == 0 ? slice_ / 10 : std::min(2 * seen.preempt_retry, slice_);
    requests |= kPreempt;
  }
  if (threshold_.count() > 0 && !seen.reported && now - seen.since >= threshold_ &&
      now - last_report_ >= std::chrono::seconds(1)) {  // step 5, rate-limited
    seen.reported = true;
    last_report_ = now;
    set_stall_ms(std::chrono::duration_cast<std::chrono::milliseconds>(now - seen.since).count());
    reports_.fetch_add(1, std::memory_order_relaxed);
    requests |= kReportStall;
  }
  return requests;
}

}  // namespace weft::sched
