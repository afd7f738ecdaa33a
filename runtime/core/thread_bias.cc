// ThreadBias's slow side: granting, and revoking with membarrier(2)
// (protocol in detail/thread_bias.h).
#include "runtime/core/detail/thread_bias.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/core/detail/sanitizers.h"
#include "runtime/core/detail/spin_lock.h"

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

bool ThreadBias::available() {
  static const bool available = register_expedited();
  return available;
}

ThreadBias::Claim ThreadBias::claim() const {
  const void* h = holder_.load(std::memory_order_relaxed);
  if (h == nullptr) return Claim::kUnclaimed;
  return h == revoked() || h == revoking() ? Claim::kRevoked : Claim::kOthers;
}

bool ThreadBias::grant(Self self) {
  const void* expected = nullptr;
  // Relaxed: the holder is the thread granting itself, and step 3's
  // revoker needs only the value to find there is someone to wait for.
  if (!available()) {
    holder_.compare_exchange_strong(expected, revoked(), std::memory_order_relaxed);
    return false;
  }
  return holder_.compare_exchange_strong(expected, self, std::memory_order_relaxed);
}

void ThreadBias::revoke_slow() {
  const void* h = holder_.load(std::memory_order_acquire);
  for (int spins = 0;; ++spins) {
    if (h == revoked()) return;
    if (h == revoking()) {  // another thread's step 3: wait for its end
      spin_backoff(spins);
      h = holder_.load(std::memory_order_acquire);
      continue;
    }
    if (h == nullptr) {
      // Nobody holds it: no barrier needed, only no grant from now on.
      if (holder_.compare_exchange_weak(h, revoked(), std::memory_order_acquire)) return;
      continue;
    }
    if (holder_.compare_exchange_weak(h, revoking(), std::memory_order_acquire)) break;
  }
  // The kernel's barriers around the IPIs order the store above before the
  // load below on this side, and the holder's step-2 store before its load
  // on the other.
  membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
  for (int spins = 0; inside_.load(std::memory_order_acquire) != nullptr; ++spins) spin_backoff(spins);
  holder_.store(revoked(), std::memory_order_release);
}

}  // namespace weft::core::detail
