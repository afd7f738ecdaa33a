// when_any: each task runs in a wrapper that reports (index, outcome) on a
// channel; the first report wins and the rest are cancelled.
#pragma once

#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "runtime/join_handle.h"
#include "runtime/spawn.h"
#include "runtime/task.h"
#include "weft/sync/channel.h"

namespace weft {

namespace detail {
template <class T>
struct AnyReport {
  std::size_t index;
  std::optional<T> value;
  std::exception_ptr error;
};

template <class T>
Task<void> report_to(Task<T> task, std::size_t index, Channel<AnyReport<T>>* out) {
  AnyReport<T> r{index, std::nullopt, nullptr};
  try {
    r.value.emplace(co_await std::move(task));
  } catch (...) {
    r.error = std::current_exception();
  }
  (void)out->try_send(std::move(r));  // unbounded: never blocks
}
}  // namespace detail

template <class T>
Task<std::pair<std::size_t, T>> when_any(std::vector<Task<T>>& tasks) {
  if (tasks.empty()) throw std::invalid_argument("weft::when_any: no tasks");
  Channel<detail::AnyReport<T>> reports(Channel<detail::AnyReport<T>>::kUnbounded);
  std::vector<JoinHandle<void>> hs;
  for (std::size_t i = 0; i < tasks.size(); ++i) hs.push_back(weft::spawn(detail::report_to(std::move(tasks[i]), i, &reports)));
  tasks.clear();
  Result<detail::AnyReport<T>> first = co_await reports.async_recv();
  for (auto& h : hs) h.cancel();
  for (auto& h : hs) {
    try {
      co_await h;
    } catch (...) {  // a cancelled loser: expected
    }
  }
  detail::AnyReport<T>& r = *first;
  if (r.error) std::rethrow_exception(r.error);
  co_return std::pair<std::size_t, T>(r.index, std::move(*r.value));
}

}  // namespace weft
