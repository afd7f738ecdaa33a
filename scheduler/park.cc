#include "scheduler/park.h"

#include "runtime/core/fiber.h"
#include "runtime/core/thread_parker.h"
#include "runtime/core/thread_state.h"
#include "scheduler/scheduler.h"
#include "scheduler/worker.h"

namespace weft::sched {

namespace {

int64_t to_ns(Deadline d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
}

// `timer_fired`: the wait's timer went off, so the deadline has passed
// without a clock read (each costs ~30 ns on this VM: README.md).
WakeCause cause_after_wake(const core::TaskHeader* self, const WaitOptions& options, bool timer_fired) {
  if (options.stop_requested()) return WakeCause::kCancelled;
  if (self != nullptr && self->cancel_requested.load(std::memory_order_seq_cst)) return WakeCause::kTaskCancelled;
  if (timer_fired || options.expired()) return WakeCause::kTimedOut;
  return WakeCause::kWoken;
}

void arm_stop(std::optional<StopCallback>& cb, const core::Waker& waker, const WaitOptions& options) {
  // Runs at once, on this thread, if stop was already requested: the wait
  // then ends before it starts (the task sees NOTIFIED when it parks).
  if (options.stop_possible()) cb.emplace(*options.stop, StopWake{waker.clone()});
}

WakeCause park_thread(const core::Waker& waker, const WaitOptions& options) {
  core::ThreadParker* parker = core::ThreadParker::current();
  std::optional<StopCallback> stop;
  arm_stop(stop, waker, options);
  if (options.has_deadline()) {
    parker->park_until(waker.token(), options.deadline);  // spends the token itself on timeout
  } else {
    parker->park(waker.token());
  }
  stop.reset();
  return cause_after_wake(nullptr, options, /*timer_fired=*/false);
}

}  // namespace

void DeleteStopCallback::operator()(StopCallback* cb) const { delete cb; }

TimerQueue::Timer arm_timer(Deadline deadline, core::Waker waker) {
  if (deadline == Deadline::max()) return {};
  Scheduler* s = Scheduler::current();
  Worker* w = s ? s->current_worker() : nullptr;
  if (w == nullptr) return {};
  return w->timers().add(to_ns(deadline), std::move(waker));
}

WakeCause park_current(core::WaitReason reason, const core::Waker& waker, const WaitOptions& options,
                       OnTaskCancel on_task_cancel) {
  core::TaskHeader* self = core::this_thread().task;
  if (self == nullptr) return park_thread(waker, options);
  // seq_cst: pairs with the canceller's seq_cst store of cancel_requested
  // before it reads our token (JoinHandle::cancel): either we see the flag
  // here, or it wakes the token we are about to park on.
  if (on_task_cancel == OnTaskCancel::kEndWait && self->cancel_requested.load(std::memory_order_seq_cst)) {
    spend_wait(waker);
    return WakeCause::kTaskCancelled;
  }
  TimerQueue::Timer timer;
  if (options.has_deadline()) timer = arm_timer(options.deadline, waker.clone());
  std::optional<StopCallback> stop;
  arm_stop(stop, waker, options);
  self->wait_reason = reason;
  core::switch_to_worker(core::SuspendReason::kPark);
  self = core::this_thread().task;  // the same task, perhaps on another thread
  self->wait_reason = core::WaitReason::kNone;
  stop.reset();
  const bool fired = timer.cancel();
  return cause_after_wake(self, options, fired);
}

void CoroutineWait::arm_timer_and_stop(const core::Waker& waker, const WaitOptions& options) {
  // Clone only when needed: each clone is two atomic operations.
  if (options.has_deadline()) timer_ = arm_timer(options.deadline, waker.clone());
  if (options.stop_possible()) stop_.reset(new StopCallback(*options.stop, StopWake{waker.clone()}));
}

WakeCause CoroutineWait::disarm_timer_and_stop() {
  stop_.reset();
  const bool fired = timer_.cancel();
  core::TaskHeader* self = plain_.task();
  if (self) self->wait_reason = core::WaitReason::kNone;
  return cause_after_wake(self, *options_, fired);
}

void spend_wait(const core::Waker& waker) {
  if (core::TaskHeader* t = waker.task()) {
    t->spend_token(waker.token());
  } else if (waker) {
    core::ThreadParker::current()->wake(waker.token());  // our own parker: just bumps the word
  }
}

}  // namespace weft::sched
