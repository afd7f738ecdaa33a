// weft::TaskGroup: a scope for child tasks (structured concurrency).
//
//   weft::TaskGroup g;
//   g.spawn(fetch(a));  g.spawn_fiber([&] { parse(b); });
//   g.wait();                 // fiber/thread; co_await g.async_wait() in a coroutine
//
// - wait() joins every child, including those spawned while it waits, then
//   rethrows the first child exception.
// - The first child to fail requests stop on the group (children can watch
//   g.stop_token()) and cancels its siblings: their current or next weft wait
//   throws TaskCancelled, which the group does not count as a failure.
// - Leaving the scope without waiting cancels the children; the destructor
//   then joins them from a fiber or thread, and detaches them from a coroutine
//   (which cannot block).
#pragma once

#include <deque>
#include <exception>
#include <mutex>
#include <stop_token>
#include <utility>
#include <vector>

#include "runtime/join_handle.h"
#include "runtime/spawn.h"
#include "runtime/task.h"

namespace weft {

class TaskGroup {
 public:
  TaskGroup() = default;
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  template <class T>
  void spawn(Task<T> task) {
    add(weft::spawn(run_child<T>(std::move(task), this)));
  }
  template <class F>
  void spawn_fiber(F&& fn) {
    add(weft::spawn_fiber([fn = std::forward<F>(fn), this]() mutable {
      try {
        (void)fn();
      } catch (const TaskCancelled&) {
      } catch (...) {
        fail(std::current_exception());
      }
    }));
  }

  void wait();
  Task<void> async_wait();
  void cancel();
  std::stop_token stop_token() const { return stop_.get_token(); }

 private:
  template <class T>
  static Task<void> run_child(Task<T> task, TaskGroup* g) {
    try {
      (void)co_await std::move(task);
    } catch (const TaskCancelled&) {
    } catch (...) {
      g->fail(std::current_exception());
    }
  }
  void add(JoinHandle<void> h);
  void fail(std::exception_ptr e);
  JoinHandle<void>* child(std::size_t i);
  void rethrow_failure();

  std::mutex mu_;
  // A deque: push_back keeps references valid, so wait() joins a child
  // outside the lock while others are added. Only the waiter touches these.
  std::deque<JoinHandle<void>> children_;  // the container guarded by mu_
  // One reference per child, for cancel() (which must not touch handles
  // that a waiter may be joining).
  std::vector<core::TaskHeader*> tasks_;  // guarded by mu_
  std::exception_ptr first_;              // guarded by mu_
  std::stop_source stop_;
};

// Coroutines: runs every task concurrently and returns their values in order
// (the first exception is rethrown once all have finished). The tasks are
// taken from the vector.
template <class T>
Task<std::vector<T>> when_all(std::vector<Task<T>>& tasks) {
  std::vector<JoinHandle<T>> hs;
  for (auto& t : tasks) hs.push_back(weft::spawn(std::move(t)));
  tasks.clear();
  std::vector<T> out;
  std::exception_ptr first;
  for (auto& h : hs) {
    try {
      out.push_back(co_await h);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
  co_return out;
}

// Coroutines: the index and value of the first task to finish; the others are
// cancelled and joined before it returns. If the first to finish failed, its
// exception is rethrown.
template <class T>
Task<std::pair<std::size_t, T>> when_any(std::vector<Task<T>>& tasks);

}  // namespace weft

#include "runtime/detail/when_any.h"
