// Runs one OpSpec to completion on whatever is calling: a fiber or a plain
// thread (perform), or a coroutine (co_await async_perform). Under io_uring
// the Op is submitted to the current worker's ring; under epoll it is tried
// non-blocking and waits for readiness; on a thread outside any runtime it
// waits in poll(2). Every path honours the deadline and stop token in
// `options`: a wait they end comes back as Errc::kTimedOut / kCancelled, and
// nothing the kernel completed is lost (a result that raced the cancel wins).
// A cancelled task gets TaskCancelled.
#pragma once

#include "io/detail/op.h"
#include "io/detail/op_source.h"
#include "runtime/core/coroutine.h"
#include "runtime/core/result.h"
#include "runtime/core/wait_options.h"

namespace weft::io::detail {

// Fibers and threads. A coroutine must use async_perform (std::logic_error).
Result<int> perform(const OpSpec& spec, const WaitOptions& options);

// Coroutine tasks.
core::Task<Result<int>> async_perform(OpSpec spec, WaitOptions options);

// Waits for an Op that `source` completes (a listener's multishot accept
// queue), with the same deadline, stop token and cancellation rules. Only
// on a worker whose reactor is io_uring (on_uring_worker()).
Result<int> perform_from(OpSource& source, const WaitOptions& options);
core::Task<Result<int>> async_perform_from(OpSource& source, WaitOptions options);
bool on_uring_worker();

// Waits `d` (less if the options' deadline comes first): a back-off between
// retries. Errc::kTimedOut once the options' deadline has passed,
// kCancelled if their stop token fired, {} otherwise.
std::error_code pause(Clock::duration d, const WaitOptions& options);
core::Task<std::error_code> async_pause(Clock::duration d, WaitOptions options);

}  // namespace weft::io::detail
