#include "runtime/task_group.h"

#include "runtime/core/thread_state.h"

namespace weft {

TaskGroup::~TaskGroup() {
  bool unjoined = false;
  {
    std::lock_guard lock(mu_);
    for (auto& h : children_) unjoined |= h.valid();
  }
  if (unjoined) cancel();
  core::TaskHeader* self = core::this_thread().task;
  const bool can_block = self == nullptr || self->kind() == core::TaskKind::kFiber;
  for (auto& h : children_) {
    if (!h.valid()) continue;
    if (!can_block) {
      h.detach();
      continue;
    }
    try {
      h.join();
    } catch (...) {  // cancelled children, or our own cancellation: we are unwinding
    }
  }
  for (core::TaskHeader* t : tasks_) t->unref();
}

void TaskGroup::add(JoinHandle<void> h) {
  core::TaskHeader* t = h.task_;
  t->ref();
  if (stop_.stop_requested()) t->request_cancel();  // spawned after a failure
  std::lock_guard lock(mu_);
  tasks_.push_back(t);
  children_.push_back(std::move(h));
}

void TaskGroup::fail(std::exception_ptr e) {
  {
    std::lock_guard lock(mu_);
    if (first_) return;
    first_ = std::move(e);
  }
  cancel();
}

void TaskGroup::cancel() {
  stop_.request_stop();
  std::lock_guard lock(mu_);
  for (core::TaskHeader* t : tasks_) {
    if (!core::join_is_done(t)) t->request_cancel();
  }
}

JoinHandle<void>* TaskGroup::child(std::size_t i) {
  std::lock_guard lock(mu_);
  return i < children_.size() ? &children_[i] : nullptr;
}

void TaskGroup::rethrow_failure() {
  std::exception_ptr e;
  {
    std::lock_guard lock(mu_);
    e = first_;
  }
  if (e) std::rethrow_exception(e);
}

void TaskGroup::wait() {
  for (std::size_t i = 0; JoinHandle<void>* h = child(i); ++i) {
    try {
      h->join();
    } catch (const TaskCancelled&) {  // cancelled before it could start
    }
  }
  rethrow_failure();
}

Task<void> TaskGroup::async_wait() {
  for (std::size_t i = 0; JoinHandle<void>* h = child(i); ++i) {
    try {
      co_await *h;
    } catch (const TaskCancelled&) {
    }
  }
  rethrow_failure();
}

}  // namespace weft
