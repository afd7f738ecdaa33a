#include "runtime/core/fiber.h"

#include "runtime/core/detail/sanitizers.h"
#include "runtime/core/thread_state.h"

namespace weft::core {

void FiberBase::attach_stack(Stack stack) {
  stack_ = stack;
  context_.prepare(stack_.lo, stack_.size, &FiberBase::entry, this);
}

WEFT_NO_TSAN_FRAME void FiberBase::entry(void* arg) {
  auto* self = static_cast<FiberBase*>(arg);
  self->run();
  self->suspend_reason = SuspendReason::kExit;
  // this_thread() again: the fiber may have migrated while it ran.
  switch_context(self->context_, *this_thread().scheduler_context, MachineContext::Switch::kFinal);
}

void switch_to_worker(SuspendReason reason) {
  ThreadState& ts = this_thread();
  auto* self = static_cast<FiberBase*>(ts.task);
  self->suspend_reason = reason;
  switch_context(self->context(), *ts.scheduler_context);
}

void suspend_current_fiber(SuspendReason reason) {
  switch_to_worker(reason);
  unwind_if_cancelled();
}

void unwind_if_cancelled() {
  TaskHeader* self = this_thread().task;
  // Resumed by shutdown(kCancel): unwind the fiber's stack, unless it is
  // already unwinding (a destructor that waits must not throw).
  if (self->cancel_requested.load(std::memory_order_relaxed) && std::uncaught_exceptions() == 0)
    throw TaskCancelled();
}

}  // namespace weft::core
