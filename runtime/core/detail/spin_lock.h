// The short spin lock that guards the scheduler's task registry, and the
// spinning both it and BiasedSpinLock (biased_spin_lock.h, the sync
// primitives' lock) use: critical sections of a few stores, where a
// futex-based mutex costs two locked instructions and, when the other worker
// holds it for a moment, a system call on each side.
#pragma once

#include <sched.h>

#include <atomic>

#include "runtime/core/thread_state.h"

namespace weft::core::detail {

// One turn of waiting for another thread to leave a short critical section:
// a pause at first, the CPU yielded after a while in case that thread was
// descheduled. `spins` counts the turns so far.
inline void spin_backoff(int spins) {
  if (spins < 64) {
    __builtin_ia32_pause();
  } else {
    sched_yield();
  }
}

// Test-and-test-and-set on `flag`. acquire: pairs with release_spin()'s
// release.
inline void acquire_spin(std::atomic<bool>& flag) {
  while (flag.exchange(true, std::memory_order_acquire)) {
    for (int spins = 0; flag.load(std::memory_order_relaxed); ++spins) spin_backoff(spins);
  }
}
inline void release_spin(std::atomic<bool>& flag) { flag.store(false, std::memory_order_release); }

// Held only for a few list operations, never across a park.
class SpinLock {
 public:
  // While one is held its fiber is not preempted (ThreadState::preempt_off):
  // a preempted holder would leave the others spinning on its lock. The
  // ThreadState& forms are for callers that already hold it and cannot
  // switch before unlocking (a coroutine's await_suspend): one call to the
  // non-inlined accessor instead of three.
  void lock() { lock(core::this_thread()); }
  void lock(core::ThreadState& ts) {
    ++ts.preempt_off;
    acquire_spin(locked_);
  }
  void unlock() { unlock(core::this_thread()); }
  void unlock(core::ThreadState& ts) {
    release_spin(locked_);
    --ts.preempt_off;
  }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace weft::core::detail
