// A claim by one thread, the bias holder, to update some shared words with
// plain loads and stores instead of locked instructions, for as long as no
// other thread needs them. Biased locking, as the HotSpot JVM had it for
// Java monitors; used by BiasedSpinLock (a lock taken over and over by one
// thread) and by a one-worker scheduler's task states (task_header.h).
//
// Protocol:
//   1. Unclaimed at first. grant() makes one thread the holder; where the
//      process cannot revoke cheaply (see the end), it revokes instead.
//   2. The holder's section is Dekker's entry with the CPU fence taken out:
//      it stores itself in inside_, then (compiler barrier only) reads
//      holder_. Still itself: it is in, and may update the guarded words
//      with a load and a store. Otherwise it clears inside_ and takes the
//      shared way (a CAS, a lock). leave() clears inside_ (release).
//   3. Any other thread revokes before its first shared-way update:
//      holder_ becomes kRevoking, membarrier(MEMBARRIER_CMD_PRIVATE_
//      EXPEDITED) runs a full barrier on every CPU running one of our
//      threads, it waits for inside_ to be empty (acquire: pairs with step
//      2's leave()), then stores kRevoked (release). Dekker's argument:
//      either the holder's read of holder_ came after that barrier and sees
//      kRevoking (it backs off), or its store to inside_ came before it and
//      is seen here (the revoker waits). A thread that is not running passed
//      a full barrier when it was switched out. A thread that finds
//      kRevoking waits for kRevoked (acquire: pairs with that store), so
//      nobody's shared-way update overlaps the holder's last section.
//   4. Revoked is for good: each bias pays at most one membarrier (35-55 us
//      on this VM with the other vCPU busy).
// Where membarrier's expedited command is missing (kernel < 4.14, a
// seccomp filter), and under ThreadSanitizer (which cannot see an
// asymmetric barrier), nothing is ever biased: grant() revokes.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/core/thread_state.h"

namespace weft::core::detail {

// Who the calling thread is, for a bias: its thread pointer (the TCB's
// address, %fs:0 on x86-64), unique among live threads. Read afresh at every
// call, never cached across a fiber switch (volatile asm), and without the
// call this_thread() costs; elsewhere, this_thread()'s address.
inline const void* this_thread_id() {
#if defined(__x86_64__)
  const void* tp;
  asm volatile("mov %%fs:0, %0" : "=r"(tp));
  return tp;
#else
  return &this_thread();
#endif
}

class ThreadBias {
 public:
  using Self = const void*;  // this_thread_id()

  enum class Claim : uint8_t { kUnclaimed, kMine, kOthers, kRevoked };

  // acquire: as is_revoked()'s, for a caller that finds kRevoked.
  Claim claim(Self self) const {
    const void* h = holder_.load(std::memory_order_acquire);
    if (h == self) return Claim::kMine;
    return h == nullptr ? Claim::kUnclaimed : h == revoked() ? Claim::kRevoked : Claim::kOthers;
  }
  // For tests and dumps: kMine reads as kOthers here.
  Claim claim() const;

  // Step 1. False if it was claimed already, or could not be biased.
  bool grant(Self self);

  // Step 2: true if the caller is the holder and is in (leave()
  // afterwards). Any other thread gets false and takes the shared way.
  bool try_enter(Self self) {
    if (holder_.load(std::memory_order_relaxed) != self) return false;
    inside_.store(self, std::memory_order_relaxed);
    // Compiler barrier only: revoke()'s membarrier() is the CPU fence this
    // store-then-load pairs with (step 3).
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (holder_.load(std::memory_order_relaxed) == self) return true;
    inside_.store(nullptr, std::memory_order_relaxed);
    return false;
  }
  void leave() { inside_.store(nullptr, std::memory_order_release); }  // pairs with revoke()'s acquire
  bool entered_by(Self self) const { return inside_.load(std::memory_order_relaxed) == self; }

  // The holder, for good (a thread about to exit: another thread could
  // later be given its identity).
  void give_up(Self self) {
    const void* expected = self;
    holder_.compare_exchange_strong(expected, revoked(), std::memory_order_release, std::memory_order_relaxed);
  }

  // acquire: pairs with step 3's store of kRevoked, so the holder's last
  // plain update happens before whatever the caller does next.
  bool is_revoked() const { return holder_.load(std::memory_order_acquire) == revoked(); }

  // Step 3, by any thread but a holder still in: returns once nobody
  // updates the guarded words the plain way any more. Cheap once revoked.
  void revoke() {
    if (!is_revoked()) revoke_slow();
  }

  // Whether this process can bias at all (see the protocol's end).
  static bool available();

 private:
  void revoke_slow();
  static const void* revoked() { return reinterpret_cast<const void*>(uintptr_t(1)); }
  static const void* revoking() { return reinterpret_cast<const void*>(uintptr_t(2)); }

  // nullptr (unclaimed), the holder's Self, revoking() or revoked().
  std::atomic<const void*> holder_{nullptr};
  std::atomic<Self> inside_{nullptr};  // the holder, while in (step 2)
};

}  // namespace weft::core::detail
