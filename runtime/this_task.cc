#include "runtime/this_task.h"

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "runtime/core/fiber.h"
#include "runtime/core/thread_state.h"
#include "scheduler/yield.h"

namespace weft {

YieldAwaiter yield_now() {
  core::ThreadState& ts = core::this_thread();
  core::TaskHeader* self = ts.task;
  if (self == nullptr) {
    std::this_thread::yield();
    return YieldAwaiter(true);
  }
  if (self->kind() == core::TaskKind::kFiber) {
    if (sched::yield_in_place(ts)) {
      core::unwind_if_cancelled();
    } else {
      core::suspend_current_fiber(core::SuspendReason::kYield);
    }
    return YieldAwaiter(true);
  }
  return YieldAwaiter(false);
}

YieldAwaiter::~YieldAwaiter() {
  if (done_) return;
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true))
    std::fputs("weft: yield_now() in a coroutine does nothing unless co_awaited\n", stderr);
}

bool YieldAwaiter::await_suspend(std::coroutine_handle<> h) {
  core::ThreadState& ts = core::this_thread();
  core::TaskHeader* self = ts.task;
  if (self == nullptr) throw std::logic_error("weft: co_await yield_now() outside a weft task");
  done_ = true;
  if (sched::yield_in_place(ts)) return false;  // nothing else to run: go on
  self->resume_point = h;
  self->suspend_reason = core::SuspendReason::kYield;
  return true;
}

namespace this_task {

uint64_t id() {
  core::TaskHeader* t = core::this_thread().task;
  return t ? t->id() : 0;
}

std::string_view name() {
  core::TaskHeader* t = core::this_thread().task;
  return t ? t->name() : std::string_view();
}

bool is_fiber() {
  core::TaskHeader* t = core::this_thread().task;
  return t != nullptr && t->kind() == core::TaskKind::kFiber;
}

}  // namespace this_task
}  // namespace weft
