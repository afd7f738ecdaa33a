#include "runtime/time.h"

#include <atomic>
#include <cstdio>

#include "runtime/core/error.h"
#include "runtime/core/thread_state.h"

namespace weft {

namespace {
// A sleep ends normally at its deadline; only a stop ends it early.
std::error_code sleep_result(sched::WakeCause cause) {
  switch (cause) {
    case sched::WakeCause::kCancelled: return make_error_code(Errc::kCancelled);
    case sched::WakeCause::kTaskCancelled: throw core::TaskCancelled();
    default: return {};
  }
}
}  // namespace

SleepAwaiter::SleepAwaiter(const WaitOptions& options, bool fresh_deadline)
    : options_(options), fresh_deadline_(fresh_deadline) {
  core::TaskHeader* self = core::this_thread().task;
  if (self != nullptr && self->kind() == core::TaskKind::kCoroutine) return;  // co_await does it
  done_ = true;
  for (;;) {
    if (options_.stop_requested()) {
      cancelled_ = true;
      return;
    }
    if (options_.expired()) return;
    core::Waker w = core::Waker::for_current();
    sched::WakeCause cause = sched::park_current(core::WaitReason::kSleep, w, options_);
    sched::spend_wait(w);
    if (cause != sched::WakeCause::kWoken || options_.expired()) {
      cancelled_ = static_cast<bool>(sleep_result(cause));
      return;
    }
  }
}

SleepAwaiter::~SleepAwaiter() {
  if (done_ || awaited_) return;
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true))
    std::fputs("weft: sleep_for()/sleep_until() in a coroutine does nothing unless co_awaited\n", stderr);
}

bool SleepAwaiter::await_suspend(std::coroutine_handle<> h) {
  awaited_ = true;
  core::TaskHeader* self = core::this_thread().task;
  if (self->cancel_requested.load(std::memory_order_seq_cst)) throw core::TaskCancelled();
  if (options_.stop_requested()) {
    cancelled_ = true;
    return false;
  }
  if (!fresh_deadline_ && options_.expired()) return false;
  core::Waker w = core::Waker::for_task(self);
  suspended_ = true;
  wait_.arm(self, w, options_, core::WaitReason::kSleep, h);
  return true;
}

std::error_code SleepAwaiter::await_resume() {
  if (!suspended_) return result();
  suspended_ = false;
  sched::WakeCause cause = wait_.disarm();
  wait_.spend_token();
  return sleep_result(cause);
}

std::error_code SleepAwaiter::result() const {
  return cancelled_ ? make_error_code(Errc::kCancelled) : no_error();
}

}  // namespace weft
