#include "runtime/join_handle.h"

#include "runtime/core/error.h"
#include "runtime/core/fiber.h"
#include "runtime/core/thread_parker.h"
#include "runtime/core/waker.h"
#include "scheduler/join_in_place.h"
#include "scheduler/park.h"

namespace weft::detail {

using core::TaskHeader;

void throw_invalid_handle() {
  throw std::logic_error("weft: JoinHandle is empty (already joined, detached or moved from)");
}

void wait_for_join(TaskHeader* task) {
  if (core::join_is_done(task)) return;
  core::ThreadState& ts = core::this_thread();
  TaskHeader* self = ts.task;
  if (self == task) throw std::logic_error("weft: a task cannot join itself");
  if (self != nullptr && self->kind() == core::TaskKind::kCoroutine)
    throw std::logic_error("weft: JoinHandle::join() would block a worker thread; co_await the handle instead");
  if (self != nullptr && sched::join_in_place(ts, task)) return;  // a fiber child nobody has started
  core::JoinWaiter waiter{core::Waker::for_current()};
  const uint32_t token = waiter.waker.token();
  if (!core::register_joiner(task, &waiter)) return;  // finished meanwhile
  if (self == nullptr) {
    core::ThreadParker::current()->park(token);
    return;
  }
  self->wait_reason = core::WaitReason::kJoin;
  try {
    core::suspend_current_fiber(core::SuspendReason::kPark);
  } catch (...) {
    // Cancelled while waiting: take the waiter back before it goes away.
    core::take_back_joiner(task, &waiter);
    self->wait_reason = core::WaitReason::kNone;
    throw;
  }
  self->wait_reason = core::WaitReason::kNone;
}

std::error_code wait_for_join(TaskHeader* task, const WaitOptions& options) {
  if (core::join_is_done(task)) return no_error();
  TaskHeader* self = core::this_thread().task;
  if (self == task) throw std::logic_error("weft: a task cannot wait for itself");
  if (self != nullptr && self->kind() == core::TaskKind::kCoroutine)
    throw std::logic_error("weft: JoinHandle::wait() would block a worker thread; co_await the handle instead");
  if (options.stop_requested()) return make_error_code(Errc::kCancelled);
  if (options.expired()) return make_error_code(Errc::kTimedOut);
  core::JoinWaiter waiter{core::Waker::for_current()};
  core::Waker spare = waiter.waker.clone();
  if (!core::register_joiner(task, &waiter)) return no_error();  // finished meanwhile
  sched::WakeCause cause = sched::park_current(core::WaitReason::kJoin, spare, options);
  // Take the waiter back; if that fails, the task finished and took our
  // Waker just now: it is done.
  if (!core::take_back_joiner(task, &waiter)) return no_error();
  sched::spend_wait(spare);
  switch (cause) {
    case sched::WakeCause::kTaskCancelled: throw core::TaskCancelled();
    case sched::WakeCause::kCancelled: return make_error_code(Errc::kCancelled);
    default: return make_error_code(Errc::kTimedOut);
  }
}

bool suspend_for_join(TaskHeader* task, core::JoinWaiter* waiter, std::coroutine_handle<> resume_at) {
  TaskHeader* self = core::this_thread().task;
  if (self == nullptr || self->kind() != core::TaskKind::kCoroutine)
    throw std::logic_error("weft: co_await on a JoinHandle outside a weft coroutine task");
  waiter->waker = core::Waker::for_task(self);
  if (!core::register_joiner(task, waiter)) {
    waiter->waker = core::Waker();
    return false;
  }
  self->resume_point = resume_at;
  self->wait_reason = core::WaitReason::kJoin;
  self->suspend_reason = core::SuspendReason::kPark;
  return true;
}

JoinWaitAwaiter::~JoinWaitAwaiter() {
  if (registered_) core::take_back_joiner(task_, &waiter_);
}

bool JoinWaitAwaiter::await_ready() const {
  return core::join_is_done(task_) || options_.stop_requested() || options_.expired();
}

bool JoinWaitAwaiter::await_suspend(std::coroutine_handle<> awaiting) {
  TaskHeader* self = core::this_thread().task;
  if (self == nullptr || self->kind() != core::TaskKind::kCoroutine)
    throw std::logic_error("weft: co_await handle.async_wait() outside a weft coroutine task");
  if (self == task_) throw std::logic_error("weft: a task cannot wait for itself");
  if (self->cancel_requested.load(std::memory_order_seq_cst)) throw core::TaskCancelled();
  core::Waker w = core::Waker::for_task(self);  // the timer and stop callback clone it
  waiter_.waker = w.clone();
  if (!core::register_joiner(task_, &waiter_)) {  // finished meanwhile
    waiter_.waker = core::Waker();
    return false;
  }
  registered_ = true;
  wait_.arm(self, w, options_, core::WaitReason::kJoin, awaiting);
  return true;
}

std::error_code JoinWaitAwaiter::await_resume() {
  if (!registered_) {
    if (core::join_is_done(task_)) return no_error();
    if (options_.stop_requested()) return make_error_code(Errc::kCancelled);
    return make_error_code(Errc::kTimedOut);
  }
  registered_ = false;
  sched::WakeCause cause = wait_.disarm();
  const bool took_back = core::take_back_joiner(task_, &waiter_);
  wait_.spend_token();
  if (!took_back) return no_error();  // the task finished and woke us: done
  switch (cause) {
    case sched::WakeCause::kTaskCancelled: throw core::TaskCancelled();
    case sched::WakeCause::kCancelled: return make_error_code(Errc::kCancelled);
    default: return make_error_code(Errc::kTimedOut);
  }
}

}  // namespace weft::detail
