// BiasedSpinLock's slow side: counting towards a bias, and revoking one
// (protocol in detail/biased_spin_lock.h).
#include "runtime/core/detail/biased_spin_lock.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/core/detail/sanitizers.h"

namespace weft::core::detail {
namespace {

long membarrier(int cmd) { return syscall(__NR_membarrier, cmd, 0u, 0); }

// Registration is once per process and must precede the first expedited
// barrier; a kernel or filter without the command says so here.
bool register_expedited() {
  if (kTsan) return false;
  long cmds = membarrier(MEMBARRIER_CMD_QUERY);
  if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

}  // namespace

bool BiasedSpinLock::biasing_available() {
  static const bool available = register_expedited();
  return available;
}

BiasedSpinLock::Bias BiasedSpinLock::bias() const {
  const void* b = bias_.load(std::memory_order_relaxed);
  return b == nullptr ? Bias::kNone : b == revoked() ? Bias::kRevoked : Bias::kHeld;
}

void BiasedSpinLock::after_inner_acquire(const core::ThreadState& ts) {
  const void* b = bias_.load(std::memory_order_relaxed);
  if (b != nullptr) {
    // Biased to another thread (the holder itself only comes this way
    // once revoked): step 3.
    if (b != &ts) revoke();
    return;
  }
  if (last_ != &ts) {  // step 1
    last_ = &ts;
    run_ = 1;
  } else if (++run_ == kBiasAfter) {
    // Published by the inner lock's release; from the next lock() on, this
    // thread goes the fast way.
    if (biasing_available()) bias_.store(&ts, std::memory_order_relaxed);
    else bias_.store(revoked(), std::memory_order_relaxed);  // never again: step 4
  }
}

void BiasedSpinLock::revoke() {
  bias_.store(revoked(), std::memory_order_relaxed);
  // The kernel's barriers around the IPIs order the store above before the
  // load below on this side, and the holder's step-2 store before its load
  // on the other.
  membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
  for (int spins = 0; fast_holder_.load(std::memory_order_acquire) != nullptr; ++spins) spin_backoff(spins);
}

}  // namespace weft::core::detail
