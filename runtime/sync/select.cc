#include "runtime/sync/select.h"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "runtime/sync/detail/wait.h"

namespace weft {

namespace sync::detail {

namespace {
// Out of line and out of interprocedural analysis, like every TLS accessor
// (core/thread_state.h): nothing may carry the generator's address across a
// switch in a caller it would otherwise be inlined into.
[[gnu::noinline, gnu::noipa]] std::size_t random_start(std::size_t n) {
  // Read once, before any switch (runtime TLS rule): fairness needs no more.
  thread_local std::minstd_rand rng(std::random_device{}());
  return n ? rng() % n : 0;
}
}  // namespace

SelectRun::SelectRun(std::span<SelectCase* const> list) {
  if (list.size() == 0 || list.size() > kMaxCases)
    throw std::invalid_argument("weft::select: between 1 and 16 cases");
  for (SelectCase* c : list) {
    if (c == nullptr) throw std::invalid_argument("weft::select: null case");
    cases[n] = c;
    locks[n] = &c->lock();
    ++n;
  }
  std::sort(locks, locks + n);
  nlocks = static_cast<std::size_t>(std::unique(locks, locks + n) - locks);
  start = random_start(n);
}

int SelectRun::poll_each() {
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (start + k) % n;
    cases[i]->lock().lock();
    Try t = cases[i]->try_now();
    cases[i]->lock().unlock();
    if (t != Try::kWait) return static_cast<int>(i);
  }
  return -1;
}

int SelectRun::poll_locked() {
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (start + k) % n;
    if (cases[i]->try_now() != Try::kWait) return static_cast<int>(i);
  }
  return -1;
}

void SelectRun::lock_all() {
  for (std::size_t i = 0; i < nlocks; ++i) locks[i]->lock();
}

void SelectRun::unlock_all() {
  for (std::size_t i = nlocks; i-- > 0;) locks[i]->unlock();
}

void SelectRun::enqueue_all(const core::Waker& base) {
  winner.store(-1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    Waiter& w = cases[i]->waiter;
    w.publish(Outcome::kPending);
    w.select_winner = &winner;
    w.select_index = static_cast<int>(i);
    w.waker = base.clone();
    cases[i]->enqueue();
  }
}

int SelectRun::finish() {
  lock_all();
  int none = -1;
  winner.compare_exchange_strong(none, -2, std::memory_order_acq_rel);
  for (std::size_t i = 0; i < n; ++i) {
    Waiter& w = cases[i]->waiter;
    if (w.linked) cases[i]->dequeue();
    w.waker = core::Waker();
    w.select_winner = nullptr;
  }
  int win = winner.load(std::memory_order_acquire);
  if (win >= 0) cases[win]->closed_ = cases[win]->waiter.read_outcome() == Outcome::kClosed;
  unlock_all();
  return win;
}

}  // namespace sync::detail

Result<std::size_t> try_select(std::initializer_list<SelectCase*> cases) {
  sync::detail::SelectRun run(std::span<SelectCase* const>(cases.begin(), cases.size()));
  int i = run.poll_each();
  if (i < 0) return Errc::kWouldBlock;
  return static_cast<std::size_t>(i);
}

Result<std::size_t> select(std::initializer_list<SelectCase*> cases, const WaitOptions& options) {
  sync::detail::SelectRun run(std::span<SelectCase* const>(cases.begin(), cases.size()));
  for (;;) {
    if (int i = run.poll_each(); i >= 0) return static_cast<std::size_t>(i);
    run.lock_all();
    if (int i = run.poll_locked(); i >= 0) {
      run.unlock_all();
      return static_cast<std::size_t>(i);
    }
    if (std::error_code ec = sync::detail::check_before_wait(options)) {
      run.unlock_all();
      return ec;
    }
    core::Waker base = core::Waker::for_current();
    run.enqueue_all(base);
    run.unlock_all();
    sched::WakeCause cause = sched::park_current(core::WaitReason::kChannel, base, options);
    if (int win = run.finish(); win >= 0) return static_cast<std::size_t>(win);
    sched::spend_wait(base);
    if (cause != sched::WakeCause::kWoken) return sync::detail::to_error(cause);
  }
}

SelectAwaiter::~SelectAwaiter() {
  if (state_ == kSuspended) run_.finish();  // frame destroyed while waiting
}

bool SelectAwaiter::await_suspend(std::coroutine_handle<> h) {
  core::TaskHeader* self = sync::detail::current_coroutine("co_await async_select");
  if (int i = run_.poll_each(); i >= 0) {
    result_ = static_cast<std::size_t>(i);
    return false;
  }
  run_.lock_all();
  if (int i = run_.poll_locked(); i >= 0) {
    run_.unlock_all();
    result_ = static_cast<std::size_t>(i);
    return false;
  }
  if (self->cancel_requested.load(std::memory_order_seq_cst)) {
    run_.unlock_all();
    state_ = kTaskCancelled;
    return false;
  }
  if (std::error_code ec = sync::detail::check_before_wait(options_)) {
    run_.unlock_all();
    result_ = ec;
    return false;
  }
  base_ = core::Waker::for_task(self);
  run_.enqueue_all(base_);
  state_ = kSuspended;
  wait_.arm(self, base_, options_, core::WaitReason::kChannel, h);
  run_.unlock_all();
  return true;
}

Result<std::size_t> SelectAwaiter::await_resume() {
  if (state_ == kTaskCancelled) throw core::TaskCancelled();
  if (state_ != kSuspended) return std::move(result_);
  state_ = kResumed;
  sched::WakeCause cause = wait_.disarm();
  if (int win = run_.finish(); win >= 0) return static_cast<std::size_t>(win);
  sched::spend_wait(base_);
  if (cause == sched::WakeCause::kWoken) return Errc::kCancelled;
  return sync::detail::to_error(cause);
}

}  // namespace weft
