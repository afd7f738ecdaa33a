// A Waker ends one particular wait of one task or thread. It usually owns a
// reference to what it wakes, so a late (stale) wake is harmless: the token
// no longer matches and nothing happens.
//
// A borrowed Waker owns no reference. It is for the one place where none is
// needed: the Waker in a primitive's queued Waiter (runtime/sync/detail/
// waiter.h), used only under the primitive's lock while the Waiter is
// linked, when the waiter cannot have finished its wait. That saves two
// atomic operations per wait on the channel and mutex hot paths. Whatever
// may outlive the wait (a timer, a stop callback, a wake after the lock is
// released) takes an owning clone() or to_owned().
#pragma once

#include <cassert>
#include <cstdint>
#include <utility>

#include "runtime/core/task_header.h"
#include "runtime/core/thread_parker.h"

namespace weft::core {

class Waker {
 public:
  Waker() = default;
  // For the current wait of whatever is running on this thread: the running
  // task if there is one, otherwise the OS thread itself.
  static Waker for_current();
  static Waker for_task(TaskHeader* task) {
    task->ref();
    return Waker(task, nullptr, task->wait_token());
  }
  static Waker for_thread(ThreadParker* parker) {
    parker->ref();
    return Waker(nullptr, parker, parker->wait_token());
  }
  // Borrowed (see above): for the current wait of the running task, or of
  // the OS thread itself.
  static Waker borrowed_for_current();
  static Waker borrowed_for_task(TaskHeader* task) { return Waker(task, nullptr, task->wait_token(), false); }
  // Makes an empty Waker a borrowed one for `task`'s current wait: the same
  // as assigning borrowed_for_task(task), without releasing what an empty
  // Waker does not hold (a coroutine's wait, every time it parks).
  void set_borrowed(TaskHeader* task) {
    assert(!*this && "set_borrowed() on a Waker that holds a wait");
    task_ = task;
    token_ = task->wait_token();
    owned_ = false;
  }
  // A borrowed copy of this Waker, for the same wait.
  Waker borrow() const { return Waker(task_, parker_, token_, false); }

  Waker(Waker&& o) noexcept
      : task_(std::exchange(o.task_, nullptr)),
        parker_(std::exchange(o.parker_, nullptr)),
        token_(o.token_),
        owned_(o.owned_) {}
  Waker& operator=(Waker&& o) noexcept {
    if (this != &o) {
      reset();
      task_ = std::exchange(o.task_, nullptr);
      parker_ = std::exchange(o.parker_, nullptr);
      token_ = o.token_;
      owned_ = o.owned_;
    }
    return *this;
  }
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;
  // Nothing to clear on the way out, only a reference to drop: a queued
  // Waiter's borrowed Waker dies on every wait.
  ~Waker() {
    if (owned_) release(task_, parker_);
  }

  // A second Waker for the same wait (a timer and a stop callback each hold
  // one beside the primitive's): whichever fires first ends the wait, the
  // others find the token spent and do nothing. Always owning.
  Waker clone() const {
    if (task_) task_->ref();
    if (parker_) parker_->ref();
    return Waker(task_, parker_, token_);
  }
  // The same Waker, owning a reference from now on (a no-op if it already
  // does): for a Waker that will be woken after the lock that kept its
  // waiter alive is released.
  Waker to_owned() && {
    if (!owned_) {
      if (task_) task_->ref();
      if (parker_) parker_->ref();
      owned_ = true;
    }
    return std::move(*this);
  }

  explicit operator bool() const { return task_ != nullptr || parker_ != nullptr; }
  TaskHeader* task() const { return task_; }
  uint32_t token() const { return token_; }

  // Ends the wait (if it is still the one this Waker was made for).
  void wake() && {
    TaskHeader* t = std::exchange(task_, nullptr);
    ThreadParker* p = std::exchange(parker_, nullptr);
    if (t) {
      t->wake(token_);
      if (owned_) t->unref();
    } else if (p) {
      p->wake(token_);
      if (owned_) p->unref();
    }
  }

 private:
  Waker(TaskHeader* t, ThreadParker* p, uint32_t token, bool owned = true)
      : task_(t), parker_(p), token_(token), owned_(owned) {}
  void reset() {
    TaskHeader* t = std::exchange(task_, nullptr);
    ThreadParker* p = std::exchange(parker_, nullptr);
    if (owned_) release(t, p);
  }
  static void release(TaskHeader* t, ThreadParker* p) {
    if (t) t->unref();
    if (p) p->unref();
  }

  TaskHeader* task_ = nullptr;
  ThreadParker* parker_ = nullptr;
  uint32_t token_ = 0;
  bool owned_ = true;  // holds a reference (packs beside token_)
};

}  // namespace weft::core
