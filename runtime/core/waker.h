// A Waker ends one particular wait of one task or thread. It owns a reference
// to what it wakes, so a late (stale) wake is harmless: the token no longer
// matches and nothing happens.
#pragma once

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

  Waker(Waker&& o) noexcept
      : task_(std::exchange(o.task_, nullptr)), parker_(std::exchange(o.parker_, nullptr)), token_(o.token_) {}
  Waker& operator=(Waker&& o) noexcept {
    if (this != &o) {
      reset();
      task_ = std::exchange(o.task_, nullptr);
      parker_ = std::exchange(o.parker_, nullptr);
      token_ = o.token_;
    }
    return *this;
  }
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;
  ~Waker() { reset(); }

  // A second Waker for the same wait (a timer and a stop callback each hold
  // one beside the primitive's): whichever fires first ends the wait, the
  // others find the token spent and do nothing.
  Waker clone() const {
    if (task_) task_->ref();
    if (parker_) parker_->ref();
    return Waker(task_, parker_, token_);
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
      t->unref();
    } else if (p) {
      p->wake(token_);
      p->unref();
    }
  }

 private:
  Waker(TaskHeader* t, ThreadParker* p, uint32_t token) : task_(t), parker_(p), token_(token) {}
  void reset() {
    if (task_) std::exchange(task_, nullptr)->unref();
    if (parker_) std::exchange(parker_, nullptr)->unref();
  }

  TaskHeader* task_ = nullptr;
  ThreadParker* parker_ = nullptr;
  uint32_t token_ = 0;
};

}  // namespace weft::core
