// Which sanitizer this translation unit is built with, for gcc and clang.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define WEFT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TSAN 1
#endif
#endif

#ifndef WEFT_ASAN
#define WEFT_ASAN 0
#endif
#ifndef WEFT_TSAN
#define WEFT_TSAN 0
#endif

namespace weft::core {
inline constexpr bool kTsan = WEFT_TSAN;
}  // namespace weft::core

// For the functions on a fiber's path that never return (the entry
// trampoline, the fiber's entry, the final switch): ThreadSanitizer would
// push a shadow frame for each and never pop it, and since fiber identities
// are recycled, those frames would pile up across fibers.
#if WEFT_TSAN
#define WEFT_NO_TSAN_FRAME __attribute__((no_sanitize("thread")))
#else
#define WEFT_NO_TSAN_FRAME
#endif
