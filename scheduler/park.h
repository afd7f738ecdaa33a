// Parking the current task or thread for one wait, with a deadline and a stop
// token. Every weft primitive's slow path ends here, so timeouts and
// cancellation behave the same for locks, channels, sleeps, joins and I/O.
//
// Protocol for one wait (see task_header.h for the token rules):
//   1. The waiter makes a Waker for its current wait and hands it (under the
//      primitive's lock) to whoever will end the wait.
//   2. It parks here. A timer (on the current worker) and a stop callback
//      each hold a clone of that Waker: the first of notify, deadline and
//      stop to fire ends the wait; the others find the token spent.
//   3. On resume the timer and callback are disarmed. The waiter then asks
//      the primitive (under its lock) whether it was granted what it waited
//      for; only if not does the WakeCause below say why.
//   4. A wait that ends without a wake (already expired, already stopped, the
//      task cancelled) spends its own token, so the Waker it handed out can
//      never end a later wait.
#pragma once

#include <coroutine>
#include <memory>
#include <optional>
#include <stop_token>

#include "runtime/core/task_header.h"
#include "runtime/core/wait_options.h"
#include "runtime/core/waker.h"
#include "scheduler/timer_queue.h"

namespace weft::sched {

// kCancelled: the wait's stop token; kTaskCancelled: the task itself
// (JoinHandle::cancel, a TaskGroup's sibling failed, shutdown).
enum class WakeCause : uint8_t { kWoken, kTimedOut, kCancelled, kTaskCancelled };

// A timer on the current worker that fires `waker` at `deadline`; an empty
// Timer when there is no deadline or no worker here.
TimerQueue::Timer arm_timer(Deadline deadline, core::Waker waker);

// Fires a Waker when a stop is requested; disarmed by destruction.
struct StopWake {
  core::Waker waker;
  void operator()() { std::move(waker).wake(); }
};
using StopCallback = std::stop_callback<StopWake>;
// Out of line, so that an awaiter's destructor, inline in every frame that
// waits, holds a call here rather than a stop_callback's whole teardown.
struct DeleteStopCallback {
  void operator()(StopCallback* cb) const;
};

// Blocking form: parks the calling fiber or OS thread until `waker`'s wait
// ends (step 2). Never throws; a cancelled fiber task gets kTaskCancelled at
// once, unless `on_task_cancel` is kKeepWaiting (an I/O operation that must
// see its own completion before its buffers may go: io/detail/perform.cc).
enum class OnTaskCancel : uint8_t { kEndWait, kKeepWaiting };
WakeCause park_current(core::WaitReason reason, const core::Waker& waker, const WaitOptions& options,
                       OnTaskCancel on_task_cancel = OnTaskCancel::kEndWait);

// Coroutine form for a wait that can end only by a wake or by the task's
// cancellation, known when its awaiter is made (a channel operation awaited
// without WaitOptions): there is no timer or stop callback to arm, disarm
// or carry in the frame. arm() in await_suspend, disarm() in await_resume.
class PlainCoroutineWait {
 public:
  // Marks the task as parking; `self` must be the running coroutine task.
  void arm(core::TaskHeader* self, const core::Waker& waker, core::WaitReason reason,
           std::coroutine_handle<> resume_at) {
    self_ = self;
    token_ = waker.token();
    self->resume_point = resume_at;
    self->wait_reason = reason;
    self->suspend_reason = core::SuspendReason::kPark;
  }
  // Nothing else could end the wait but a wake or the task's cancellation
  // (park.cc's cause_after_wake, with no stop token and no deadline).
  WakeCause disarm() {
    disarm_after_outcome();
    return self_->cancel_requested.load(std::memory_order_seq_cst) ? WakeCause::kTaskCancelled : WakeCause::kWoken;
  }
  // disarm() for a wait whose outcome the other side has set: the cause
  // is not wanted (nor its load of the task's cancel flag).
  void disarm_after_outcome() { self_->wait_reason = core::WaitReason::kNone; }
  // Step 4: ends this wait's token (after disarm), so the Waker handed out
  // can never end a later wait. The awaiter need keep no Waker of its own.
  void spend_token() { self_->spend_token(token_); }
  core::TaskHeader* task() const { return self_; }
  uint32_t token() const { return token_; }

 private:
  core::TaskHeader* self_ = nullptr;
  uint32_t token_ = 0;
};

// Coroutine form with WaitOptions: a PlainCoroutineWait plus the timer and
// the stop callback that the options ask for.
class CoroutineWait {
 public:
  // Arms the timer and the stop callback and marks the task as parking.
  // `self` must be the running coroutine task; `options` must outlive the
  // wait (it is the awaiter's own member). Both inline for a wait with
  // neither deadline nor stop token: it has no timer or callback to arm or
  // disarm.
  void arm(core::TaskHeader* self, const core::Waker& waker, const WaitOptions& options, core::WaitReason reason,
           std::coroutine_handle<> resume_at) {
    options_ = &options;
    if (!options.waits_forever()) arm_timer_and_stop(waker, options);
    plain_.arm(self, waker, reason, resume_at);
  }
  WakeCause disarm() {
    if (!options_->waits_forever()) return disarm_timer_and_stop();
    return plain_.disarm();
  }
  void disarm_after_outcome() {
    if (!options_->waits_forever()) {
      (void)disarm_timer_and_stop();
      return;
    }
    plain_.disarm_after_outcome();
  }
  void spend_token() { plain_.spend_token(); }
  core::TaskHeader* task() const { return plain_.task(); }
  uint32_t token() const { return plain_.token(); }

 private:
  void arm_timer_and_stop(const core::Waker& waker, const WaitOptions& options);
  WakeCause disarm_timer_and_stop();

  PlainCoroutineWait plain_;
  // Borrowed from the awaiter, which outlives the wait (both live in the
  // waiting frame): 8 bytes in every frame rather than 16.
  const WaitOptions* options_ = nullptr;
  TimerQueue::Timer timer_;
  // On the heap, and only for a wait that has a stop token: a stop_callback
  // is 80 bytes that every waiting coroutine frame would otherwise carry
  // (100,000 sleepers are 100,000 frames).
  std::unique_ptr<StopCallback, DeleteStopCallback> stop_;
};

// Step 4: ends the current wait of the calling task or thread without a wake.
void spend_wait(const core::Waker& waker);

}  // namespace weft::sched
