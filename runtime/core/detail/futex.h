// Thin wrappers over the futex system call, for the two parkers (a thread
// waiting on a weft primitive, and an idle worker). Synchronisation itself goes
// through the std::atomic, so sanitizers see every ordering edge.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <ctime>

namespace weft::core::detail {

// Sleeps while *word == expected, for at most `timeout` (null: forever).
// Returns on wake, timeout, signal or a changed value; callers re-check.
inline void futex_wait(std::atomic<uint32_t>* word, uint32_t expected, const timespec* timeout) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, timeout, nullptr, 0);
}

inline void futex_wake(std::atomic<uint32_t>* word, int count) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

}  // namespace weft::core::detail
