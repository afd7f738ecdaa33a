// Two fibers passing a baton back and forth through raw Wakers: every
// hand-off is a park on one side and a wake from the other (across workers
// when they run on different ones). Used by the scheduler stress tests and
// the cross-worker hand-off benchmark.
#pragma once

#include <cstdint>
#include <mutex>
#include <utility>

#include "runtime/core/fiber.h"
#include "runtime/core/waker.h"

namespace weft::testing {

struct Baton {
  std::mutex mu;
  int turn = 0;
  core::Waker waiting[2];
};

// Called by fiber `me` (0 or 1): takes the baton `rounds` times, handing it
// to the other fiber after each.
inline void pass_baton(Baton& b, int me, int64_t rounds) {
  for (int64_t i = 0; i < rounds; ++i) {
    for (;;) {
      std::unique_lock lock(b.mu);
      if (b.turn == me) break;
      b.waiting[me] = core::Waker::for_current();
      lock.unlock();
      core::suspend_current_fiber(core::SuspendReason::kPark);
    }
    core::Waker other;
    {
      std::lock_guard lock(b.mu);
      b.turn = 1 - me;
      other = std::move(b.waiting[1 - me]);
    }
    if (other) std::move(other).wake();
  }
}

}  // namespace weft::testing
