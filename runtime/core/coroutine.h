// weft::Task<T>: a lazy C++20 coroutine.
//   - Lazy: the body starts when the Task is awaited or spawned.
//   - co_await of another Task hands control over by symmetric transfer (no
//     stack growth however deep the chain), and back the same way at the end.
//   - The frame is freed exactly once: by the Task that owns it, or, once
//     spawned, by the last reference to its task header.
//   - An exception leaves the body into the promise and is rethrown to the
//     awaiter (or the joiner).
// Every promise begins with a TaskHeader: a spawned Task is its own task, with
// no allocation beyond its frame.
#pragma once

#include <coroutine>
#include <exception>
#include <utility>

#include "runtime/core/frame_allocator.h"
#include "runtime/core/result_slot.h"
#include "runtime/core/task_header.h"

namespace weft::core {

template <class T = void>
class Task;

namespace detail {

class PromiseBase : public TaskHeader {
 public:
  PromiseBase() noexcept : TaskHeader(TaskKind::kCoroutine) {}

  // Frames come from frame_allocator.h's per-thread caches.
  static void* operator new(std::size_t size) { return frame_allocator::allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { frame_allocator::deallocate(p, size); }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      PromiseBase& p = h.promise();
      if (p.continuation_) return p.continuation_;
      // A spawned top-level task: its worker finishes it after resume returns.
      p.suspend_reason = SuspendReason::kExit;
      return std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  std::coroutine_handle<> continuation_;
};

template <class T>
class Promise final : public PromiseBase, public ResultSlot<T> {
 public:
  Promise() noexcept {
    ops_ = &kOps;
    set_result_slot(static_cast<ResultSlot<T>*>(this));
  }
  Task<T> get_return_object() noexcept;
  void unhandled_exception() noexcept { this->set_error(std::current_exception()); }
  template <class U = T>
  void return_value(U&& v) {
    this->set_value(std::forward<U>(v));
  }

 private:
  static void destroy(TaskHeader* h) {
    std::coroutine_handle<Promise>::from_promise(static_cast<Promise&>(*h)).destroy();
  }
  static std::exception_ptr* failure(TaskHeader* h) { return &static_cast<Promise&>(*h).error_; }
  static constexpr TaskOps kOps{&destroy, &failure};
};

template <>
class Promise<void> final : public PromiseBase, public ResultSlot<void> {
 public:
  Promise() noexcept {
    ops_ = &kOps;
    set_result_slot(static_cast<ResultSlot<void>*>(this));
  }
  Task<void> get_return_object() noexcept;
  void unhandled_exception() noexcept { this->set_error(std::current_exception()); }
  void return_void() noexcept {}

 private:
  static void destroy(TaskHeader* h) {
    std::coroutine_handle<Promise>::from_promise(static_cast<Promise&>(*h)).destroy();
  }
  static std::exception_ptr* failure(TaskHeader* h) { return &static_cast<Promise&>(*h).error_; }
  static constexpr TaskOps kOps{&destroy, &failure};
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using value_type = T;

  Task() = default;
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  ~Task() {
    if (h_) h_.destroy();
  }

  bool valid() const { return static_cast<bool>(h_); }

  struct Awaiter {
    std::coroutine_handle<promise_type> h;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      h.promise().continuation_ = awaiting;
      return h;  // symmetric transfer into the child
    }
    T await_resume() { return h.promise().take(); }
  };
  Awaiter operator co_await() & noexcept { return Awaiter{h_}; }
  Awaiter operator co_await() && noexcept { return Awaiter{h_}; }

  // Gives up ownership of the frame, for spawn(): the task header inside it
  // now decides when it is destroyed.
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, nullptr); }

 private:
  std::coroutine_handle<promise_type> h_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace weft::core
