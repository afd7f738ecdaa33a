// The short spin lock that guards a sync primitive's wait lists and the
// scheduler's task registry: critical sections of a few stores, where a
// futex-based mutex costs two locked instructions and, when the other worker
// holds it for a moment, a system call on each side.
#pragma once

#include <sched.h>

#include <atomic>

#include "runtime/core/thread_state.h"

namespace weft::core::detail {

// Test-and-test-and-set. Held only for a few list operations, never across a
// park; yields the CPU after a while in case the holder was descheduled.
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
    // acquire: pairs with unlock()'s release.
    while (locked_.exchange(true, std::memory_order_acquire)) {
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64) {
          __builtin_ia32_pause();
        } else {
          sched_yield();
        }
      }
    }
  }
  bool try_lock() {
    if (!locked_.exchange(true, std::memory_order_acquire)) {
      ++core::this_thread().preempt_off;
      return true;
    }
    return false;
  }
  void unlock() { unlock(core::this_thread()); }
  void unlock(core::ThreadState& ts) {
    locked_.store(false, std::memory_order_release);
    --ts.preempt_off;
  }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace weft::core::detail
