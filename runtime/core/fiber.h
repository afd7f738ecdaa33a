// A stackful fiber: a TaskHeader, a machine context and a stack. The stack is
// taken from the pool when the fiber first runs (a queued fiber that has not
// started costs no stack) and returned when it exits. A fiber run in place of
// its joiner's wait (scheduler/join_in_place.h) never takes one: it runs on
// its host's stack, and switches with its host's context, until it returns.
#pragma once

#include <cstddef>
#include <exception>
#include <type_traits>
#include <utility>

#include "runtime/core/context.h"
#include "runtime/core/frame_allocator.h"
#include "runtime/core/result_slot.h"
#include "runtime/core/stack.h"
#include "runtime/core/task_header.h"

// The call into a fiber's own code, kept out of line and outside namespace
// weft: the preemption handler treats code in namespace weft as the
// runtime's own and never preempts it (scheduler/preempt.h), so the user's
// callable must not be inlined into a weft function.
namespace weft_preemptible {
template <class F>
[[gnu::noinline]] decltype(auto) call(F& fn) {
  return fn();
}
}  // namespace weft_preemptible

namespace weft::core {

class FiberBase : public TaskHeader {
 public:
  FiberBase() noexcept : TaskHeader(TaskKind::kFiber) {}
  virtual ~FiberBase() = default;

  // Same per-thread caches as coroutine frames. The virtual destructor makes
  // `delete` pass the dynamic type's size here.
  static void* operator new(std::size_t size) { return frame_allocator::allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { frame_allocator::deallocate(p, size); }

  // Worker side: give the fiber its stack before the first switch into it.
  void attach_stack(Stack stack);
  Stack detach_stack() { return std::exchange(stack_, Stack{}); }
  // The stack its code runs on and the context it switches with: its own,
  // or its host's while it runs in place.
  bool started() const { return host_->stack_.valid(); }
  const Stack& stack() const { return host_->stack_; }
  MachineContext& context() { return host_->context_; }
  bool runs_in_place() const { return host_ != this; }

  // Runs the fiber's code to its end on the calling fiber's stack, whose
  // owner is `host` (the caller's own host if it runs in place itself).
  // Only scheduler/join_in_place.cc calls this, after claiming the task.
  void run_in_place_on(FiberBase& host) noexcept {
    host_ = host.host_;
    run();
  }

  // The stack the fiber's code is promised: 0 (the runtime's default) until
  // the scheduler resolves it, before the fiber first runs.
  std::size_t requested_stack_size = 0;

 protected:
  virtual void run() noexcept = 0;

 private:
  static void entry(void* self);
  MachineContext context_;
  Stack stack_;
  FiberBase* host_ = this;  // whose stack and context the code uses
};

template <class R, class F>
class FiberTask final : public FiberBase, public ResultSlot<R> {
 public:
  explicit FiberTask(F fn) : fn_(std::move(fn)) {
    ops_ = &kOps;
    set_result_slot(static_cast<ResultSlot<R>*>(this));
  }

 private:
  static void destroy(TaskHeader* h) { delete static_cast<FiberTask*>(h); }
  static std::exception_ptr* failure(TaskHeader* h) { return &static_cast<FiberTask&>(*h).error_; }
  static constexpr TaskOps kOps{&destroy, &failure};

  void run() noexcept override {
    try {
      if constexpr (std::is_void_v<R>) {
        weft_preemptible::call(fn_);
        this->set_value();
      } else {
        this->set_value(weft_preemptible::call(fn_));
      }
    } catch (...) {
      this->set_error(std::current_exception());
    }
  }
  F fn_;
};

// Called by the running fiber: hands control back to its worker, which acts on
// `reason`. Returns when the fiber is resumed (possibly on another thread).
// Throws TaskCancelled if the task was cancelled meanwhile.
void suspend_current_fiber(SuspendReason reason);
// The check suspend_current_fiber() makes on resuming, for a fiber that went
// on running without a switch (a yield in place, scheduler/yield.h).
void unwind_if_cancelled();
// The same, never throwing: for waits that must first take themselves off a
// wait list (or keep what was handed to them) before honouring a cancel.
void switch_to_worker(SuspendReason reason);

}  // namespace weft::core
