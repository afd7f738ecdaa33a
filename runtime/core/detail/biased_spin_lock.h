// The sync primitives' lock (runtime/sync/detail/waiter.h): a SpinLock that
// a thread which takes it over and over, with nobody else in between, comes
// to take without a locked instruction.
//
// On one worker a channel's two tasks take its lock from the same thread
// every time, and each `xchg` costs as much as the rest of the critical
// section (it waits for the store buffer to drain): 4 of a ping-pong round
// trip's 8 locked instructions are the channel's. A ThreadBias lets one
// thread, the bias holder, skip them; anyone else first revokes the bias for
// good.
//
// Protocol (the bias itself is detail/thread_bias.h's):
//   1. Unbiased, every thread takes the inner spin lock (`locked_`). Under
//      it the lock counts how many acquisitions in a row came from one
//      thread; the kBiasAfter-th grants that thread the bias.
//   2. The bias holder's lock() is ThreadBias::try_enter(): in, it holds
//      the lock without touching locked_. unlock() is leave().
//   3. Any other thread takes the inner lock, then revokes the bias (which
//      waits for the holder to leave). Revocations are made under the inner
//      lock, so the holder, once revoked, finds the lock free only after.
//   4. A revoked lock stays revoked (the inner lock alone, as SpinLock).
//      So a lock pays at most one membarrier, and only after kBiasAfter
//      acquisitions by one thread, which bounds its cost spread over them to
//      about one xchg each. A lock used from two threads in turn is never
//      biased.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/core/detail/spin_lock.h"
#include "runtime/core/detail/thread_bias.h"
#include "runtime/core/thread_state.h"

namespace weft::core::detail {

class BiasedSpinLock {
 public:
  static constexpr uint32_t kBiasAfter = 8192;
  enum class Bias : uint8_t { kNone, kHeld, kRevoked };

  // As SpinLock's: the fiber is not preempted while it holds one, and the
  // ThreadState& forms spare a call to the accessor.
  void lock() { lock(core::this_thread()); }
  void lock(core::ThreadState& ts) {
    ++ts.preempt_off;
    const ThreadBias::Self self = this_thread_id();
    if (bias_.try_enter(self)) return;
    lock_inner(self);
  }
  void unlock() { unlock(core::this_thread()); }
  void unlock(core::ThreadState& ts) {
    if (bias_.entered_by(this_thread_id())) {
      bias_.leave();  // step 2
    } else {
      release_spin(locked_);
    }
    --ts.preempt_off;
  }

  // For tests and dumps.
  Bias bias() const;
  // Whether this process can bias locks at all (ThreadBias::available()).
  static bool biasing_available() { return ThreadBias::available(); }

 private:
  void lock_inner(ThreadBias::Self self) {
    acquire_spin(locked_);
    // Not revoked: still counting (a lock shared by threads in turn stays
    // here), or biased to another thread.
    if (bias_.claim(self) != ThreadBias::Claim::kRevoked) after_inner_acquire(self);
  }
  // Under the inner lock, while not revoked: steps 1 and 3.
  void after_inner_acquire(ThreadBias::Self self);

  ThreadBias bias_;  // granted and revoked only under the inner lock
  ThreadBias::Self last_ = nullptr;  // step 1, under the inner lock
  uint32_t run_ = 0;
  std::atomic<bool> locked_{false};
};

}  // namespace weft::core::detail
