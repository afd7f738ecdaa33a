// JoinHandle<T>: the one owner of a spawned task's result.
//   - join(): from a fiber, parks the fiber; from a plain OS thread, blocks the
//     thread; from a coroutine, throws std::logic_error (co_await it instead:
//     blocking would stall the worker).
//   - co_await handle: from a coroutine, parks the coroutine.
//   - Either returns the task's value or rethrows its exception.
//   - cancel(): asks the task to stop. Its next (or current) weft wait throws
//     TaskCancelled inside it (a fiber) or from co_await (a coroutine); join()
//     then rethrows TaskCancelled unless the task caught it and returned.
//   - wait(WaitOptions): waits for the task to finish without taking its
//     result: {} or kTimedOut / kCancelled (fibers and threads);
//     co_await handle.async_wait(WaitOptions) is the coroutine form.
//   - detach(), or dropping the handle: the task runs on; if it fails, its
//     exception is reported on stderr (Config::on_detached_failure).
// A fiber can wait for a coroutine's handle and a coroutine for a fiber's.
#pragma once

#include <coroutine>
#include <cstdint>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "runtime/core/join.h"
#include "runtime/core/result_slot.h"
#include "runtime/core/error.h"
#include "runtime/core/wait_options.h"
#include "runtime/core/task_header.h"
#include "runtime/core/thread_state.h"
#include "runtime/core/waker.h"
#include "scheduler/park.h"

namespace weft {

namespace detail {
// Blocks the calling fiber or thread until `task` is done.
void wait_for_join(core::TaskHeader* task);
std::error_code wait_for_join(core::TaskHeader* task, const WaitOptions& options);
// The coroutine side: registers `waiter` for the running coroutine task.
// False if the task finished meanwhile (resume at once).
bool suspend_for_join(core::TaskHeader* task, core::JoinWaiter* waiter, std::coroutine_handle<> resume_at);
[[noreturn]] void throw_invalid_handle();

// co_await handle.async_wait(options): the coroutine form of wait().
class JoinWaitAwaiter {
 public:
  JoinWaitAwaiter(core::TaskHeader* task, const WaitOptions& options) : task_(task), options_(options) {}
  JoinWaitAwaiter(const JoinWaitAwaiter&) = delete;
  ~JoinWaitAwaiter();  // only if the awaiting frame is destroyed while suspended here
  bool await_ready() const;
  bool await_suspend(std::coroutine_handle<> awaiting);
  std::error_code await_resume();

 private:
  core::TaskHeader* task_;
  WaitOptions options_;
  core::JoinWaiter waiter_;
  sched::CoroutineWait wait_;
  bool registered_ = false;
};
}  // namespace detail

template <class T>
class [[nodiscard]] JoinHandle {
 public:
  JoinHandle() = default;
  // `task` keeps a core::ResultSlot<T> (TaskHeader::result_slot).
  explicit JoinHandle(core::TaskHeader* task) noexcept : task_(task) {}
  JoinHandle(JoinHandle&& o) noexcept : task_(std::exchange(o.task_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& o) noexcept {
    if (this != &o) {
      release(/*joined=*/false);
      task_ = std::exchange(o.task_, nullptr);
    }
    return *this;
  }
  ~JoinHandle() { release(/*joined=*/false); }

  bool valid() const { return task_ != nullptr; }
  uint64_t id() const { return task_ ? task_->id() : 0; }
  bool is_finished() const { return task_ && core::join_is_done(task_); }

  T join() {
    if (!task_) detail::throw_invalid_handle();
    detail::wait_for_join(task_);
    Releaser done{this};
    return slot()->take();
  }

  void detach() { release(/*joined=*/false); }

  void cancel() {
    if (task_ && !core::join_is_done(task_)) task_->request_cancel();
  }

  [[nodiscard]] std::error_code wait(const WaitOptions& options) {
    if (!task_) detail::throw_invalid_handle();
    return detail::wait_for_join(task_, options);
  }
  // The result stays in the handle: join or co_await it afterwards.
  [[nodiscard]] detail::JoinWaitAwaiter async_wait(const WaitOptions& options) {
    if (!task_) detail::throw_invalid_handle();
    return detail::JoinWaitAwaiter(task_, options);
  }

  class Awaiter {
   public:
    explicit Awaiter(JoinHandle& h) : h_(h) {
      if (!h_.task_) detail::throw_invalid_handle();
    }
    Awaiter(const Awaiter&) = delete;
    ~Awaiter() {
      // Only if the awaiting frame is destroyed while suspended here.
      if (registered_ && h_.task_) core::take_back_joiner(h_.task_, &waiter_);
    }
    bool await_ready() const noexcept { return core::join_is_done(h_.task_); }
    bool await_suspend(std::coroutine_handle<> awaiting) {
      registered_ = detail::suspend_for_join(h_.task_, &waiter_, awaiting);
      return registered_;
    }
    T await_resume() {
      if (registered_ && !core::join_is_done(h_.task_)) {
        // Resumed without the task finishing: our own task was cancelled.
        // Take the waiter back, unless the task finished meanwhile.
        if (core::take_back_joiner(h_.task_, &waiter_)) {
          registered_ = false;
          throw core::TaskCancelled();
        }
      }
      registered_ = false;
      Releaser done{&h_};
      return h_.slot()->take();
    }

   private:
    JoinHandle& h_;
    core::JoinWaiter waiter_;
    bool registered_ = false;
  };
  Awaiter operator co_await() & { return Awaiter(*this); }
  Awaiter operator co_await() && { return Awaiter(*this); }

 private:
  friend class TaskGroup;
  struct Releaser {
    JoinHandle* h;
    ~Releaser() { h->release(/*joined=*/true); }
  };
  // The handle shares one reference with the scheduler (join.h, step 6):
  // after a join the task is done and the reference is ours to drop; a
  // detach drops it only if the task had already finished.
  void release(bool joined) {
    core::TaskHeader* t = std::exchange(task_, nullptr);
    if (t == nullptr) return;
    if (joined || core::detach_join(t)) t->unref();
  }

  core::ResultSlot<T>* slot() const { return task_->result_slot<core::ResultSlot<T>>(); }

  core::TaskHeader* task_ = nullptr;
};

static_assert(sizeof(JoinHandle<int>) == sizeof(void*));

}  // namespace weft
