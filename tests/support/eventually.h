// eventually(): polls a condition from a plain thread until it holds or a
// limit passes. For tests that wait on something the runtime does in its own
// time (an idle worker refilling, a spare taking over, a pool thread
// exiting): the limit only bounds a failing test, it is not a timing
// assertion, so it is generous.
#pragma once

#include <chrono>
#include <thread>

namespace weft::testing {

// True once `done()` holds; false if `limit` passes first (checked once more
// at the end, so a condition that turns true at the last moment counts).
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(30),
                std::chrono::milliseconds poll = std::chrono::milliseconds(1)) {
  for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
    if (done()) return true;
    std::this_thread::sleep_for(poll);
  }
  return done();
}

}  // namespace weft::testing
