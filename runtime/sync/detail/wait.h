// The one slow path shared by every primitive, in its two forms: block()
// for a fiber or a plain thread, OpAwaiter for a coroutine's co_await.
//
// An Op describes one operation on one primitive:
//   detail::Lock& lock();          the primitive's lock
//   Try try_now(Waiter&);              under the lock: complete at once?
//   void enqueue(Waiter&);             under the lock: start waiting
//   void dequeue(Waiter&);             under the lock: give up waiting
//   static constexpr core::WaitReason kReason;
//   static constexpr bool kMayRetry;   woken waiters may have to compete again
//
// The steps (see scheduler/park.h for the park itself):
//   1. Under the lock, try_now(); if it cannot complete, check the deadline,
//      stop token and task cancellation, then enqueue a Waiter with a Waker.
//   2. Unlock and park (a spare clone of the Waker arms timer and stop).
//   3. An outcome set by the other side wins (granted, closed) even if the
//      deadline also passed, so nothing handed over is lost. Read first
//      without the lock (the hand-off rule in waiter.h makes it the other
//      side's last write); if it is still pending, under the lock: read it
//      again, otherwise unlink and report why the wait ended. A blocking waiter
//      woken to compete (kMayRetry) goes back to step 1, at the queue's front.
#pragma once

#include <coroutine>
#include <stdexcept>
#include <string>
#include <system_error>

#include "runtime/core/error.h"
#include "runtime/core/thread_state.h"
#include "runtime/core/wait_options.h"
#include "runtime/sync/detail/waiter.h"
#include "scheduler/park.h"
#include "scheduler/preempt.h"

namespace weft::sync::detail {

enum class Try : uint8_t { kDone, kClosed, kWait };

inline std::error_code to_error(Try t) {
  return t == Try::kClosed ? make_error_code(Errc::kClosed) : no_error();
}
inline std::error_code to_error(Outcome o) {
  return o == Outcome::kClosed ? make_error_code(Errc::kClosed) : no_error();
}
// Why a wait that was not granted ended; throws TaskCancelled for a
// cancelled task (after the caller has unlinked its Waiter).
std::error_code to_error(sched::WakeCause cause);
// Step 1's checks before waiting: no error to go on waiting. Inline for a
// wait with neither a deadline nor a stop token, which has nothing to check.
std::error_code check_armed_before_wait(const WaitOptions& options);
inline std::error_code check_before_wait(const WaitOptions& options) {
  if (options.waits_forever()) return no_error();
  return check_armed_before_wait(options);
}
// The running coroutine task, or std::logic_error naming `what`.
core::TaskHeader* current_coroutine(const char* what);
[[noreturn]] void throw_outside_coroutine(const char* what);
inline core::TaskHeader* require_coroutine(core::TaskHeader* running, const char* what) {
  if (running == nullptr || running->kind() != core::TaskKind::kCoroutine) [[unlikely]]
    throw_outside_coroutine(what);
  return running;
}

// Never inlined: from handing out its Waker to parking, a fiber must not be
// preempted (the requeue would lose the wake), and the preemption handler
// recognises weft's code by its symbols (scheduler/detail/code_map.h). The
// primitives' inline fast paths, which may land in application functions,
// hold only spin locks, which block preemption themselves.
template <class Op>
[[gnu::noinline]] std::error_code block(Op& op, Waiter& w, const WaitOptions& options) {
  w.can_retry = Op::kMayRetry;
  op.lock().lock();
  for (;;) {
    Try t = op.try_now(w);
    if (t != Try::kWait) {
      op.lock().unlock();
      // Done without waiting: a fiber past its time slice whose preempt
      // signal found no safe point yields here (scheduler/preempt.h).
      sched::yield_if_preempt_requested();
      return to_error(t);
    }
    if (std::error_code ec = check_before_wait(options)) {
      op.lock().unlock();
      return ec;
    }
    w.publish(Outcome::kPending);
    w.waker = core::Waker::borrowed_for_current();
    // Borrowed too: park_current() clones what may outlive the wait.
    core::Waker spare = w.waker.borrow();
    op.enqueue(w);
    op.lock().unlock();
    sched::WakeCause cause = sched::park_current(Op::kReason, spare, options);
    if (Outcome o = w.read_outcome(); o != Outcome::kPending) return to_error(o);
    op.lock().lock();
    if (Outcome o = w.read_outcome(); o != Outcome::kPending) {
      op.lock().unlock();
      return to_error(o);
    }
    if (w.linked) {
      op.dequeue(w);
      if (cause != sched::WakeCause::kWoken) {
        op.lock().unlock();
        sched::spend_wait(spare);
        return to_error(cause);
      }
    }
    w.retrying = true;  // woken to compete again (or a stale wake): step 1
  }
}

// What an OpAwaiter waits with. TimedWait keeps the WaitOptions the caller
// gave (a deadline, a stop token) and the timer and callback they arm.
// UntimedWait is for an operation awaited without options: the awaiter then
// carries none of that, and every check of it folds away.
class TimedWait : public sched::CoroutineWait {
 public:
  explicit TimedWait(const WaitOptions& options) : options_(options) {}
  std::error_code check_before_wait() const { return detail::check_before_wait(options_); }
  void arm(core::TaskHeader* self, const core::Waker& waker, core::WaitReason reason, std::coroutine_handle<> h) {
    CoroutineWait::arm(self, waker, options_, reason, h);
  }

 private:
  WaitOptions options_;
};

class UntimedWait : public sched::PlainCoroutineWait {
 public:
  std::error_code check_before_wait() const { return no_error(); }
};

template <class Op, class Wait = TimedWait>
class OpAwaiter {
 public:
  // `wait_args`: the WaitOptions for a TimedWait, nothing for an UntimedWait.
  template <class... WaitArgs>
  explicit OpAwaiter(Op op, const WaitArgs&... wait_args) : op_(op), wait_(wait_args...) {}
  OpAwaiter(const OpAwaiter&) = delete;
  ~OpAwaiter() {
    if (state_ == kSuspended) [[unlikely]] unlink_on_destroy();
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    // Nothing in here switches, so the thread's state may be kept.
    core::ThreadState& ts = core::this_thread();
    core::TaskHeader* self = require_coroutine(ts.task, "co_await on a weft primitive");
    op_.lock().lock(ts);
    Try t = op_.try_now(w_);
    if (t != Try::kWait) {
      if (t == Try::kClosed) result_ = to_error(t);  // kDone leaves it empty: no error
      op_.lock().unlock(ts);
      return end_without_waiting(self, h);
    }
    if (self->cancel_requested.load(std::memory_order_seq_cst)) {
      op_.lock().unlock(ts);
      state_ = kTaskCancelled;
      return false;
    }
    // Step 1's checks; a wait that waits forever has none.
    if (std::error_code ec = wait_.check_before_wait()) {
      result_ = ec;
      op_.lock().unlock(ts);
      return end_without_waiting(self, h);
    }
    w_.waker.set_borrowed(self);  // empty until now: nothing to release
    // Armed from w_.waker while the lock still keeps it ours (after unlock
    // the other side may move it out); no spare clone on this hot path.
    wait_.arm(self, w_.waker, Op::kReason, h);
    op_.enqueue(w_);
    state_ = kSuspended;
    op_.lock().unlock(ts);
    return true;
  }
  [[gnu::always_inline]] std::error_code await_resume() { return finish() ? no_error() : result_.get(); }
  Op& op() { return op_; }

 protected:
  // Ends the await, inline in the awaiting coroutine (kept short for that):
  // true when it succeeded, handed what it waited for or done at once;
  // false with the reason in error().
  [[gnu::always_inline]] bool finish() {
    if (state_ == kSuspended) {
      state_ = kResumed;
      // Step 3. Handed what it waited for: why the task ran again no
      // longer matters, only what arm() armed is undone.
      if (w_.read_outcome() == Outcome::kGranted) [[likely]] {
        wait_.disarm_after_outcome();
        return true;
      }
      sched::WakeCause cause = wait_.disarm();
      Outcome o = w_.read_outcome();
      result_ = o == Outcome::kPending ? end_without_outcome(cause) : to_error(o);
      return !result_;
    }
    if (state_ == kTaskCancelled) [[unlikely]] throw core::TaskCancelled();
    return !result_;
  }
  std::error_code error() const { return result_.get(); }

  Op op_;
  Waiter w_;

 private:
  enum State : uint8_t { kReady, kSuspended, kResumed, kTaskCancelled };
  // Done without waiting (the result is in result_). A coroutine that never
  // waits would never let the other tasks of its worker run: past its
  // budget it yields here. A coroutine past its time slice yields here too
  // (preempt.h).
  bool end_without_waiting(core::TaskHeader* self, std::coroutine_handle<> h) {
    if (--self->budget != 0 && !self->preempt_requested.load(std::memory_order_relaxed)) return false;
    self->resume_point = h;
    self->suspend_reason = core::SuspendReason::kYield;
    return true;
  }
  // Step 3 with the outcome still pending after the wake: under the lock.
  [[gnu::noinline]] std::error_code end_without_outcome(sched::WakeCause cause) {
    op_.lock().lock();
    if (Outcome o = w_.read_outcome(); o != Outcome::kPending) {
      op_.lock().unlock();
      return to_error(o);
    }
    if (w_.linked) op_.dequeue(w_);
    op_.lock().unlock();
    wait_.spend_token();
    // Coroutine waiters are always handed what they wait for (kMayRetry is
    // for blocking waiters), so kWoken without an outcome cannot happen;
    // report it as a cancellation rather than pretend success.
    if (cause == sched::WakeCause::kWoken) return make_error_code(Errc::kCancelled);
    return to_error(cause);
  }
  // The frame is destroyed while suspended here (its runtime shut down):
  // take the Waiter off the list before it goes away.
  [[gnu::noinline]] void unlink_on_destroy() {
    op_.lock().lock();
    if (w_.linked) op_.dequeue(w_);
    op_.lock().unlock();
  }
  Wait wait_;
  StoredError result_;  // set when it ended without waiting; see error.h
  State state_ = kReady;
};

}  // namespace weft::sync::detail
