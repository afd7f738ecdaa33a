// A stackful fiber: a TaskHeader, a machine context and a stack. The stack is
// taken from the pool when the fiber first runs (a queued fiber that has not
// started costs no stack) and returned when it exits.
//
// Who starts a fiber. A task that joins a fiber which has not started may
// run it itself, next on its own worker, instead of leaving it in a queue
// while the joiner's own stack waits (depth-first, as Cilk and TBB run a
// joined child): a tree of fibers then keeps a path's worth of stacks
// alive, not a level's. The spawn's queue entry cannot be taken out of the
// queue it is in, so it goes stale instead:
//   1. Each fiber's start word begins kPending. A worker about to run a
//      queue entry of a fiber in kPending CASes it to kFromQueue: that run
//      starts it, and the word is not looked at again.
//   2. A joiner (scheduler/park.h, run_joined_next) first takes a reference
//      for the entry, then CASes kPending -> kClaimed, and its worker runs
//      the fiber next, not through any queue. A lost CAS gives the
//      reference back: the fiber has started elsewhere.
//   3. While the word is kClaimed there is one entry too many: the first
//      worker to come to any entry of the fiber CASes kClaimed ->
//      kEntryDropped, skips that entry and drops step 2's reference (the
//      fiber may have finished and been joined: that frees it). Whichever
//      entry it was, the fiber keeps exactly one per time it is runnable.
//      A CAS, because two entries may be popped at once (the stale one and
//      one from a wake).
//   4. Shutdown puts entries through the same check before it cancels
//      what they hold.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
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
  bool started() const { return stack_.valid(); }
  const Stack& stack() const { return stack_; }
  MachineContext& context() { return context_; }

  std::size_t requested_stack_size = 0;  // 0: the runtime's default

  // ---- who starts it (the protocol above) ----
  enum class Start : uint8_t { kPending, kFromQueue, kClaimed, kEntryDropped };
  // Step 2, by a joiner that has taken a reference for the stale entry.
  bool transition_to_claimed() {
    Start expected = Start::kPending;
    // acq_rel: pairs with step 1's and step 3's CAS, so exactly one side
    // starts the fiber and the dropped entry's reference is ours to drop.
    return start_.compare_exchange_strong(expected, Start::kClaimed, std::memory_order_acq_rel);
  }
  // Steps 1 and 3, for a queue entry. False: the entry is stale; the caller
  // skips it and then drops a reference (after which the fiber may be gone).
  bool admit_queue_entry() {
    Start s = start_.load(std::memory_order_acquire);
    if (s == Start::kFromQueue || s == Start::kEntryDropped) return true;  // started: one load
    if (s == Start::kPending && start_.compare_exchange_strong(s, Start::kFromQueue, std::memory_order_acq_rel))
      return true;
    if (s == Start::kClaimed && start_.compare_exchange_strong(s, Start::kEntryDropped, std::memory_order_acq_rel))
      return false;
    return true;  // another entry was dropped just now
  }

 protected:
  virtual void run() noexcept = 0;

 private:
  static void entry(void* self);
  MachineContext context_;
  Stack stack_;
  std::atomic<Start> start_{Start::kPending};
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
