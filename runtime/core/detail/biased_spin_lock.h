// The sync primitives' lock (runtime/sync/detail/waiter.h): a SpinLock that
// a thread which takes it over and over, with nobody else in between, comes
// to take without a locked instruction.
//
// On one worker a channel's two tasks take its lock from the same thread
// every time, and each `xchg` costs as much as the rest of the critical
// section (it waits for the store buffer to drain): 4 of a ping-pong round
// trip's 8 locked instructions are the channel's. Biased locking, as the
// HotSpot JVM had it for Java monitors, lets one thread, the bias holder,
// skip them; anyone else first revokes the bias for good, with
// the asymmetric barrier the membarrier(2) man page describes: a compiler
// barrier on the fast side, membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) on
// the slow side.
//
// Protocol:
//   1. Unbiased, every thread takes the inner spin lock (`locked_`). Under
//      it the lock counts how many acquisitions in a row came from one
//      thread; the kBiasAfter-th makes that thread the bias holder (bias_).
//   2. The bias holder's lock() is Dekker's entry with the CPU fence taken
//      out: it stores itself in fast_holder_, then (compiler barrier only)
//      reads bias_. Still itself: it holds the lock, without touching
//      locked_. Otherwise it clears fast_holder_ and goes the inner way.
//      unlock() clears fast_holder_ (release).
//   3. Any other thread takes the inner lock, then revokes: bias_ becomes
//      kRevoked, membarrier() runs a full barrier on every CPU running one
//      of our threads, then it waits for fast_holder_ to be empty (acquire:
//      pairs with step 2's unlock). Dekker's argument: either the holder's
//      read of bias_ came after that barrier and sees kRevoked (it backs
//      off), or its store to fast_holder_ came before it and is seen here
//      (the revoker waits). A thread that is not running passed a full
//      barrier when it was switched out.
//   4. A revoked lock stays revoked (the inner lock alone, as SpinLock).
//      So a lock pays at most one membarrier (35-55 us on this VM with the
//      other vCPU busy), and only after kBiasAfter acquisitions by one
//      thread, which bounds its cost spread over them to about one xchg
//      each. A lock used from two threads in turn is never biased.
// Where membarrier's expedited command is missing (kernel < 4.14, a
// seccomp filter), and under ThreadSanitizer (which cannot see an
// asymmetric barrier), no lock is ever biased: step 1 only.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/core/detail/spin_lock.h"
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
    if (bias_.load(std::memory_order_relaxed) == &ts && enter_biased(ts)) return;
    lock_inner(ts);
  }
  void unlock() { unlock(core::this_thread()); }
  void unlock(core::ThreadState& ts) {
    if (fast_holder_.load(std::memory_order_relaxed) == &ts) {
      fast_holder_.store(nullptr, std::memory_order_release);  // step 2; pairs with revoke()'s acquire
    } else {
      release_spin(locked_);
    }
    --ts.preempt_off;
  }

  // For tests and dumps.
  Bias bias() const;
  // Whether this process can bias locks at all (see the protocol's end).
  static bool biasing_available();

 private:
  bool enter_biased(core::ThreadState& ts) {  // step 2
    fast_holder_.store(&ts, std::memory_order_relaxed);
    // Compiler barrier only: revoke()'s membarrier() is the CPU fence this
    // store-then-load pairs with (step 3).
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (bias_.load(std::memory_order_relaxed) == &ts) return true;
    fast_holder_.store(nullptr, std::memory_order_relaxed);
    return false;
  }
  void lock_inner(core::ThreadState& ts) {
    acquire_spin(locked_);
    // Not revoked: still counting (a lock shared by threads in turn stays
    // here), or biased to another thread.
    if (bias_.load(std::memory_order_relaxed) != revoked()) after_inner_acquire(ts);
  }
  // Under the inner lock, while not revoked: steps 1 and 3.
  void after_inner_acquire(const core::ThreadState& ts);
  void revoke();

  static const void* revoked() { return reinterpret_cast<const void*>(uintptr_t(1)); }

  // nullptr (unbiased), the bias holder's ThreadState, or revoked(). Written
  // only under the inner lock; read by the holder without it (step 2).
  std::atomic<const void*> bias_{nullptr};
  std::atomic<const core::ThreadState*> fast_holder_{nullptr};  // the holder, while in via step 2
  const core::ThreadState* last_ = nullptr;  // step 1, under the inner lock
  uint32_t run_ = 0;
  std::atomic<bool> locked_{false};
};

}  // namespace weft::core::detail
