// BiasedSpinLock's slow side: counting towards a bias, and revoking one
// (protocol in detail/biased_spin_lock.h; the bias is detail/thread_bias.h).
#include "runtime/core/detail/biased_spin_lock.h"

namespace weft::core::detail {

BiasedSpinLock::Bias BiasedSpinLock::bias() const {
  switch (bias_.claim()) {
    case ThreadBias::Claim::kUnclaimed: return Bias::kNone;
    case ThreadBias::Claim::kRevoked: return Bias::kRevoked;
    default: return Bias::kHeld;
  }
}

void BiasedSpinLock::after_inner_acquire(ThreadBias::Self self) {
  ThreadBias::Claim claim = bias_.claim(self);
  if (claim != ThreadBias::Claim::kUnclaimed) {
    // Biased to another thread (the holder itself only comes this way
    // once revoked): step 3.
    if (claim == ThreadBias::Claim::kOthers) bias_.revoke();
    return;
  }
  if (last_ != self) {  // step 1
    last_ = self;
    run_ = 1;
  } else if (++run_ == kBiasAfter) {
    // From the next lock() on, this thread goes the fast way; without
    // membarrier's expedited command, grant() revokes instead (step 4).
    bias_.grant(self);
  }
}

}  // namespace weft::core::detail
