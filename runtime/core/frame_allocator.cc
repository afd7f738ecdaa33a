#include "runtime/core/frame_allocator.h"

#include <new>

#include "runtime/core/detail/sanitizers.h"

namespace weft::core::frame_allocator {

namespace {

constexpr std::size_t kGranule = 64;
constexpr std::size_t kClasses = 16;  // up to 1 KiB
constexpr std::size_t kMaxPerClass = 4096;

struct FreeFrame {
  FreeFrame* next;
};

struct Cache {
  FreeFrame* head[kClasses] = {};
  std::size_t count[kClasses] = {};
  ~Cache() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (FreeFrame* f = head[c]) {
        head[c] = f->next;
        ::operator delete(f, (c + 1) * kGranule);
      }
    }
  }
};

// Allocation and deallocation never span a fiber switch, so reading the
// thread's cache here is migration-safe; noinline keeps it that way.
[[gnu::noinline]] Cache& cache() {
  thread_local Cache c;
  return c;
}

std::size_t size_class(std::size_t size) { return (size + kGranule - 1) / kGranule - 1; }

}  // namespace

void* allocate(std::size_t size) {
  std::size_t c = size_class(size);
  if (WEFT_ASAN || c >= kClasses) return ::operator new(size);
  Cache& cache_ = cache();
  if (FreeFrame* f = cache_.head[c]) {
    cache_.head[c] = f->next;
    --cache_.count[c];
    return f;
  }
  return ::operator new((c + 1) * kGranule);
}

void deallocate(void* p, std::size_t size) noexcept {
  std::size_t c = size_class(size);
  if (WEFT_ASAN || c >= kClasses) {
    ::operator delete(p, size);
    return;
  }
  Cache& cache_ = cache();
  if (cache_.count[c] >= kMaxPerClass) {
    ::operator delete(p, (c + 1) * kGranule);
    return;
  }
  auto* f = static_cast<FreeFrame*>(p);
  f->next = cache_.head[c];
  cache_.head[c] = f;
  ++cache_.count[c];
}

}  // namespace weft::core::frame_allocator
