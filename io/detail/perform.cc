#include "io/detail/perform.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <coroutine>
#include <stdexcept>

#include "io/detail/epoll_driver.h"
#include "io/detail/uring_driver.h"
#include "runtime/core/thread_state.h"
#include "scheduler/park.h"
#include "scheduler/scheduler.h"
#include "scheduler/worker.h"

namespace weft::io::detail {

namespace {

using sched::WakeCause;

sched::Driver* current_driver() {
  sched::Scheduler* s = sched::Scheduler::current();
  sched::Worker* w = s ? s->current_worker() : nullptr;
  return w ? &w->driver() : nullptr;
}

void throw_if_task_cancelled() {
  core::TaskHeader* self = core::this_thread().task;
  // seq_cst: pairs with the canceller's store (see scheduler/park.cc).
  if (self && self->cancel_requested.load(std::memory_order_seq_cst)) throw core::TaskCancelled();
}

// The caller's answer: the kernel's result unless our own cancel caused it.
Result<int> finish(int res, WakeCause cause) {
  if (res >= 0) return res;
  if (res == -ECANCELED || res == -EINTR) {
    switch (cause) {
      case WakeCause::kTimedOut: return Errc::kTimedOut;
      case WakeCause::kCancelled: return Errc::kCancelled;
      case WakeCause::kTaskCancelled: throw core::TaskCancelled();
      case WakeCause::kWoken: break;
    }
  }
  return std::error_code(-res, std::system_category());
}

Result<int> wait_error(WakeCause cause) { return finish(-ECANCELED, cause); }

bool needs_readiness(const OpSpec& spec, int res) {
  return res == -EAGAIN || (spec.kind == OpKind::kConnect && res == -EINPROGRESS);
}

OpSpec readiness_of(const OpSpec& spec) {
  OpSpec p;
  p.kind = interest_of(spec.kind) == Interest::kRead ? OpKind::kPollIn : OpKind::kPollOut;
  p.fd = spec.fd;
  return p;
}

// ---------------------------------------------------------------- threads

Result<int> perform_on_thread(const OpSpec& spec, const WaitOptions& options) {
  bool started = false;
  for (;;) {
    int r = try_syscall(spec, started);
    if (!needs_readiness(spec, r)) return finish(r, WakeCause::kWoken);
    if (options.stop_requested()) return Errc::kCancelled;
    if (options.expired()) return Errc::kTimedOut;
    int timeout_ms = -1;
    if (options.has_deadline()) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(options.deadline - Clock::now()).count();
      timeout_ms = int(std::clamp<int64_t>(left, 0, INT32_MAX));
    }
    // A stop request cannot interrupt poll(2): look again every 20 ms.
    if (options.stop_possible()) timeout_ms = timeout_ms < 0 ? 20 : std::min(timeout_ms, 20);
    pollfd p{spec.fd, short(interest_of(spec.kind) == Interest::kRead ? POLLIN : POLLOUT), 0};
    ::poll(&p, 1, timeout_ms);
  }
}

// ---------------------------------------------------------------- fibers

// Waits (blocking) until `op` has completed, whatever else happens.
void wait_done(Op& op) {
  for (;;) {
    core::Waker w = core::Waker::for_current();
    if (!op.set_waker(w.clone())) return;
    sched::park_current(core::WaitReason::kIo, w, {}, sched::OnTaskCancel::kKeepWaiting);
    sched::spend_wait(w);
  }
}

struct Outcome {
  int res;
  WakeCause cause;
};

// The ring as an OpSource: a cancel still ends in the Op's own CQE.
class RingSource final : public OpSource {
 public:
  void start(Op& op, UringDriver& ring) override {
    ring_ = &ring;
    ring.submit(op);
  }
  bool withdraw(Op& op) override {
    ring_->cancel(op);  // uring_driver.h, step 3
    return false;
  }

 private:
  UringDriver* ring_ = nullptr;
};

UringDriver& current_ring() { return static_cast<UringDriver&>(*current_driver()); }

Outcome run_from(OpSource& source, const OpSpec& spec, const WaitOptions& options) {
  Op op(spec);
  source.start(op, current_ring());
  core::Waker w = core::Waker::for_current();
  if (!op.set_waker(w.clone())) return {op.result(), WakeCause::kWoken};  // completed at once
  WakeCause cause = sched::park_current(core::WaitReason::kIo, w, options);
  sched::spend_wait(w);
  if (!op.done() && source.withdraw(op)) return {-ECANCELED, cause};
  wait_done(op);
  return {op.result(), cause};
}

Outcome run_on_ring(const OpSpec& spec, const WaitOptions& options) {
  RingSource ring;
  return run_from(ring, spec, options);
}

// A send usually finds room in the socket buffer: one plain non-blocking
// syscall then beats a trip through the ring (submit, park, reap, wake), as
// in Seastar. Only EAGAIN goes to the ring.
bool send_directly(const OpSpec& spec, int* res) {
  if (spec.kind != OpKind::kSend && spec.kind != OpKind::kSendMsg) return false;
  bool started = false;
  *res = try_syscall(spec, started);
  return *res != -EAGAIN;
}

Result<int> perform_uring(const OpSpec& spec, const WaitOptions& options) {
  if (int r; send_directly(spec, &r)) return finish(r, WakeCause::kWoken);
  Outcome o = run_on_ring(spec, options);
  // A non-blocking fd (or a connect in progress): wait for readiness, then
  // finish the operation with a plain syscall.
  bool started = true;
  while (needs_readiness(spec, o.res) && o.cause == WakeCause::kWoken) {
    o = run_on_ring(readiness_of(spec), options);
    if (o.res >= 0) o.res = try_syscall(spec, started);
  }
  return finish(o.res, o.cause);
}

Result<int> perform_epoll(const OpSpec& spec, const WaitOptions& options) {
  bool started = false;
  const Interest in = interest_of(spec.kind);
  for (;;) {
    const uint32_t seen = in == Interest::kNone ? 0 : EpollDriver::ready_seq(spec.fd, in);
    int r = try_syscall(spec, started);
    if (!needs_readiness(spec, r) || in == Interest::kNone) return finish(r, WakeCause::kWoken);
    core::Waker w = core::Waker::for_current();
    auto& epoll = static_cast<EpollDriver&>(*current_driver());
    if (!epoll.wait_ready(spec.fd, in, seen, w.clone())) continue;
    WakeCause cause = sched::park_current(core::WaitReason::kIo, w, options);
    if (cause != WakeCause::kWoken) EpollDriver::stop_waiting(spec.fd, in, w.task(), w.token());
    sched::spend_wait(w);
    if (cause != WakeCause::kWoken) return wait_error(cause);
  }
}

// ---------------------------------------------------------------- coroutines

// Parks the running coroutine task until the Waker handed to `arm` is woken
// (or the options end the wait). `arm` returns false if the wait is already
// over; the awaiter then does not suspend.
class IoAwaiter {
 public:
  using Arm = bool (*)(void* context, core::Waker waker);
  IoAwaiter(Arm arm, void* context, const WaitOptions& options) : arm_(arm), context_(context), options_(options) {}

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    core::TaskHeader* self = core::this_thread().task;
    // The awaiter keeps no Waker (no reference to its own task) while
    // suspended: a frame that holds its own task alive could never be freed
    // if the runtime cancels it at shutdown. The op, timer and stop callback
    // hold the references.
    core::Waker w = core::Waker::for_task(self);
    if (!arm_(context_, w.clone())) {
      self->spend_token(w.token());
      return false;
    }
    armed_ = true;
    wait_.arm(self, w, options_, core::WaitReason::kIo, h);
    return true;
  }
  WakeCause await_resume() {
    if (!armed_) return WakeCause::kWoken;
    WakeCause cause = wait_.disarm();
    wait_.spend_token();
    return cause;
  }
  core::TaskHeader* task() const { return wait_.task(); }
  uint32_t token() const { return wait_.token(); }

 private:
  Arm arm_;
  void* context_;
  WaitOptions options_;
  sched::CoroutineWait wait_;
  bool armed_ = false;
};

struct Submission {
  Op* op;
  OpSource* source;
};

bool arm_submit(void* context, core::Waker w) {
  auto* s = static_cast<Submission*>(context);
  s->source->start(*s->op, current_ring());  // the worker the task runs on now
  return s->op->set_waker(std::move(w));     // false: completed at once
}

bool arm_op(void* context, core::Waker w) { return static_cast<Op*>(context)->set_waker(std::move(w)); }

struct ReadyWait {
  int fd;
  Interest interest;
  uint32_t seen;
};

bool arm_ready(void* context, core::Waker w) {
  auto* r = static_cast<ReadyWait*>(context);
  return static_cast<EpollDriver*>(current_driver())->wait_ready(r->fd, r->interest, r->seen, std::move(w));
}

core::Task<Outcome> async_run_from(OpSource* source, OpSpec spec, WaitOptions options) {
  Op op(spec);
  Submission sub{&op, source};
  IoAwaiter first(&arm_submit, &sub, options);
  WakeCause cause = co_await first;
  if (!op.done() && source->withdraw(op)) co_return Outcome{-ECANCELED, cause};
  while (!op.done()) {
    IoAwaiter again(&arm_op, &op, kWaitForever);
    co_await again;
  }
  co_return Outcome{op.result(), cause};
}

core::Task<Result<int>> async_perform_uring(OpSpec spec, WaitOptions options) {
  if (int r; send_directly(spec, &r)) co_return finish(r, WakeCause::kWoken);
  RingSource ring;
  Outcome o = co_await async_run_from(&ring, spec, options);
  bool started = true;
  while (needs_readiness(spec, o.res) && o.cause == WakeCause::kWoken) {
    o = co_await async_run_from(&ring, readiness_of(spec), options);
    if (o.res >= 0) o.res = try_syscall(spec, started);
  }
  co_return finish(o.res, o.cause);
}

core::Task<Result<int>> async_perform_epoll(OpSpec spec, WaitOptions options) {
  bool started = false;
  const Interest in = interest_of(spec.kind);
  for (;;) {
    ReadyWait ready{spec.fd, in, in == Interest::kNone ? 0 : EpollDriver::ready_seq(spec.fd, in)};
    int r = try_syscall(spec, started);
    if (!needs_readiness(spec, r) || in == Interest::kNone) co_return finish(r, WakeCause::kWoken);
    IoAwaiter wait(&arm_ready, &ready, options);
    WakeCause cause = co_await wait;
    if (cause != WakeCause::kWoken) {
      EpollDriver::stop_waiting(spec.fd, in, wait.task(), wait.token());
      co_return wait_error(cause);
    }
  }
}

bool arm_nothing(void*, core::Waker) { return true; }  // only the timer or the stop ends it

WaitOptions pause_options(Clock::duration d, const WaitOptions& options) {
  WaitOptions o = options;
  o.deadline = std::min(options.deadline, Clock::now() + d);
  return o;
}

std::error_code pause_result(const WaitOptions& options) {
  if (options.stop_requested()) return Errc::kCancelled;
  if (options.expired()) return Errc::kTimedOut;
  return {};
}

}  // namespace

std::error_code pause(Clock::duration d, const WaitOptions& options) {
  throw_if_task_cancelled();
  const WaitOptions o = pause_options(d, options);
  if (core::this_thread().task == nullptr || current_driver() == nullptr) {
    // A plain thread: its parker, which honours deadline and stop token.
    core::Waker w = core::Waker::for_current();
    sched::park_current(core::WaitReason::kSleep, w, o);
    sched::spend_wait(w);
  } else {
    while (!o.expired() && !o.stop_requested()) {
      core::Waker w = core::Waker::for_current();
      WakeCause cause = sched::park_current(core::WaitReason::kSleep, w, o);
      sched::spend_wait(w);
      if (cause == WakeCause::kTaskCancelled) throw core::TaskCancelled();
    }
  }
  return pause_result(options);
}

core::Task<std::error_code> async_pause(Clock::duration d, WaitOptions options) {
  throw_if_task_cancelled();
  const WaitOptions o = pause_options(d, options);
  while (!o.expired() && !o.stop_requested()) {
    IoAwaiter wait(&arm_nothing, nullptr, o);
    if (co_await wait == WakeCause::kTaskCancelled) throw core::TaskCancelled();
  }
  co_return pause_result(options);
}

bool on_uring_worker() {
  sched::Driver* d = current_driver();
  return core::this_thread().task != nullptr && d != nullptr && d->kind() == sched::DriverKind::kUring;
}

Result<int> perform_from(OpSource& source, const WaitOptions& options) {
  throw_if_task_cancelled();
  Outcome o = run_from(source, OpSpec{}, options);
  return finish(o.res, o.cause);
}

core::Task<Result<int>> async_perform_from(OpSource& source, WaitOptions options) {
  throw_if_task_cancelled();
  Outcome o = co_await async_run_from(&source, OpSpec{}, options);
  co_return finish(o.res, o.cause);
}

Result<int> perform(const OpSpec& spec, const WaitOptions& options) {
  throw_if_task_cancelled();
  core::TaskHeader* self = core::this_thread().task;
  if (self && self->kind() == core::TaskKind::kCoroutine)
    throw std::logic_error("weft: a blocking I/O call in a coroutine; co_await its async_ form instead");
  sched::Driver* d = current_driver();
  if (d == nullptr || self == nullptr) return perform_on_thread(spec, options);
  switch (d->kind()) {
    case sched::DriverKind::kUring: return perform_uring(spec, options);
    case sched::DriverKind::kEpoll: return perform_epoll(spec, options);
    case sched::DriverKind::kFutex: break;
  }
  return perform_on_thread(spec, options);  // a runtime without a reactor: block the worker
}

core::Task<Result<int>> async_perform(OpSpec spec, WaitOptions options) {
  throw_if_task_cancelled();
  sched::Driver* d = current_driver();
  const sched::DriverKind kind = d ? d->kind() : sched::DriverKind::kFutex;
  if (kind == sched::DriverKind::kUring) co_return co_await async_perform_uring(spec, options);
  if (kind == sched::DriverKind::kEpoll) co_return co_await async_perform_epoll(spec, options);
  co_return perform_on_thread(spec, options);
}

}  // namespace weft::io::detail
