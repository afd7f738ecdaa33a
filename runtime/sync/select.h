// weft::select: wait for the first of several channel operations, like Go's
// select statement.
//
//   Channel<int>::RecvCase a(ch1);  Channel<std::string>::SendCase b(ch2, msg);
//   Result<std::size_t> i = weft::select({&a, &b});   // or co_await async_select(cases)
//   if (i && *i == 0) use(*a.value());   // a.closed(): ch1 was closed
//
// Exactly one case completes: the others leave their channels untouched (a
// SendCase that did not win still holds its value).
//
// Protocol:
//   1. Poll each case under its own channel's lock, from a random start.
//   2. Take every channel's lock (in address order, each once), poll again,
//      then queue one Waiter per case, all sharing one winner word and clones
//      of one Waker.
//   3. A counterpart claims a select Waiter by CAS on the winner word (-1 ->
//      its case index) before completing it under that channel's lock, so at
//      most one case completes.
//   4. On wake, take every lock again, close the winner word (-1 -> -2) so no
//      late claim succeeds, unlink every Waiter still queued, and report the
//      winner, or why the wait ended without one.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <system_error>

#include "runtime/core/result.h"
#include "runtime/sync/detail/select_case.h"
#include "scheduler/park.h"

namespace weft {

using SelectCase = sync::detail::SelectCase;

namespace sync::detail {

struct SelectRun {
  static constexpr std::size_t kMaxCases = 16;
  explicit SelectRun(std::span<SelectCase* const> cases);
  SelectRun(const SelectRun&) = delete;
  int poll_each();         // step 1: an index, or -1
  int poll_locked();       // step 2, under lock_all()
  void lock_all();
  void unlock_all();
  void enqueue_all(const core::Waker& base);  // step 2, under lock_all()
  int finish();            // step 4: the winner, or -1
  Result<std::size_t> ready(int i);

  SelectCase* cases[kMaxCases];
  Lock* locks[kMaxCases];
  std::size_t n = 0;
  std::size_t nlocks = 0;
  std::size_t start = 0;
  std::atomic<int> winner{-1};
};

}  // namespace sync::detail

Result<std::size_t> select(std::initializer_list<SelectCase*> cases, const WaitOptions& options = kWaitForever);
// kWouldBlock if no case can complete at once.
Result<std::size_t> try_select(std::initializer_list<SelectCase*> cases);

class SelectAwaiter {
 public:
  SelectAwaiter(std::span<SelectCase* const> cases, const WaitOptions& options)
      : run_(cases), options_(options) {}
  SelectAwaiter(const SelectAwaiter&) = delete;
  ~SelectAwaiter();
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h);
  Result<std::size_t> await_resume();

 private:
  enum State : uint8_t { kReady, kSuspended, kResumed, kTaskCancelled };
  sync::detail::SelectRun run_;
  WaitOptions options_;
  core::Waker base_;
  sched::CoroutineWait wait_;
  Result<std::size_t> result_{Errc::kWouldBlock};
  State state_ = kReady;
};

// Coroutines pass a named array: gcc 12 cannot keep an initializer_list's
// array alive across a co_await ("array used as initializer").
//   SelectCase* cases[] = {&a, &b};  auto i = co_await weft::async_select(cases);
inline SelectAwaiter async_select(std::span<SelectCase* const> cases, const WaitOptions& options = kWaitForever) {
  return SelectAwaiter(cases, options);
}

}  // namespace weft
