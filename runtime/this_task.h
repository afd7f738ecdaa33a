// What the running task can ask about itself, and yield_now().
#pragma once

#include <coroutine>
#include <cstdint>
#include <string_view>
#include <utility>

namespace weft {

// Lets other runnable tasks run first. With none ready on its worker the
// task goes on at once, without a switch (as sched_yield() does).
//   - In a fiber: yields right away (the result need not be awaited).
//   - In a coroutine: `co_await weft::yield_now();` (forgetting the co_await
//     is reported on stderr).
//   - On a plain OS thread: std::this_thread::yield().
class YieldAwaiter {
 public:
  explicit YieldAwaiter(bool done) : done_(done) {}
  YieldAwaiter(YieldAwaiter&& o) noexcept : done_(std::exchange(o.done_, true)) {}
  YieldAwaiter(const YieldAwaiter&) = delete;
  ~YieldAwaiter();
  bool await_ready() const noexcept { return done_; }
  bool await_suspend(std::coroutine_handle<> h);
  void await_resume() noexcept {}

 private:
  bool done_;
};

YieldAwaiter yield_now();

namespace this_task {
// 0 when not called from a weft task.
uint64_t id();
// Empty when unnamed or not in a task.
std::string_view name();
// True inside a weft fiber (blocking-style calls park it).
bool is_fiber();
}  // namespace this_task

}  // namespace weft
