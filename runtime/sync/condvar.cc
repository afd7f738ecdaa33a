#include "runtime/sync/condvar.h"

namespace weft {

std::error_code CondVar::wait(Mutex& m, const WaitOptions& options) {
  sync::detail::Waiter w;
  Op op{this, &m};
  std::error_code ec;
  try {
    ec = sync::detail::block(op, w, options);
  } catch (...) {
    if (op.released) m.lock();  // cancelled: still hand the mutex back locked
    throw;
  }
  // An early exit (already expired or stopped) never released the mutex.
  if (op.released) m.lock();
  return ec;
}

core::Task<std::error_code> CondVar::async_wait(Mutex& m) { return async_wait(m, kWaitForever); }

core::Task<std::error_code> CondVar::async_wait(Mutex& m, WaitOptions options) {
  std::error_code ec;
  {
    sync::detail::OpAwaiter<Op> wait(Op{this, &m}, options);
    ec = co_await wait;
    if (!wait.op().released) co_return ec;
  }
  co_await m.async_lock();
  co_return ec;
}

void CondVar::notify_one() {
  sync::detail::WakeList wake;
  lock_.lock();
  if (sync::detail::Waiter* w = waiters_.pop_front()) wake.add(w, sync::detail::Outcome::kGranted);
  lock_.unlock();
}

void CondVar::notify_all() {
  sync::detail::WakeList wake;
  lock_.lock();
  while (sync::detail::Waiter* w = waiters_.pop_front()) wake.add(w, sync::detail::Outcome::kGranted);
  lock_.unlock();
}

}  // namespace weft
