#include "runtime/core/frame_allocator.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <new>

#include "runtime/core/detail/sanitizers.h"

namespace weft::core::frame_allocator {

namespace {

constexpr std::size_t kGranule = 64;
constexpr std::size_t kClasses = 16;                  // frames up to 1 KiB
constexpr std::size_t kHeader = 16;                   // keeps frames 16-byte aligned
constexpr std::size_t kSlabSize = 1 << 20;            // 1 MiB
constexpr std::size_t kFreeListBytes = 1 << 20;       // per class per thread
constexpr uint32_t kRetired = 0x80000000u;

struct Slab {
  std::atomic<uint32_t> word{0};  // [retired:1][live frames:31]
};

struct Header {
  Slab* slab;
  std::size_t size_class;
};

struct FreeFrame {
  FreeFrame* next;
};

void unmap(Slab* slab) { munmap(slab, kSlabSize); }

// Protocol step 3, both sides.
void retire(Slab* slab) {
  if (slab != nullptr && (slab->word.fetch_or(kRetired, std::memory_order_acq_rel) & ~kRetired) == 0) unmap(slab);
}
void return_to_slab(Slab* slab) {
  if (slab->word.fetch_sub(1, std::memory_order_acq_rel) == (kRetired | 1)) unmap(slab);
}

struct Cache {
  FreeFrame* head[kClasses] = {};
  std::size_t count[kClasses] = {};
  Slab* slab = nullptr;
  char* bump = nullptr;
  char* end = nullptr;

  ~Cache() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (FreeFrame* f = head[c]) {
        head[c] = f->next;
        return_to_slab(header_of(f)->slab);
      }
    }
    retire(slab);
  }

  static Header* header_of(void* frame) { return reinterpret_cast<Header*>(static_cast<char*>(frame) - kHeader); }

  void* carve(std::size_t c) {
    const std::size_t bytes = (c + 1) * kGranule + kHeader;
    if (bump == nullptr || bump + bytes > end) {
      void* mem = mmap(nullptr, kSlabSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
      if (mem == MAP_FAILED) throw std::bad_alloc();
      retire(slab);
      slab = new (mem) Slab();
      bump = static_cast<char*>(mem) + 64;
      end = static_cast<char*>(mem) + kSlabSize;
    }
    auto* h = reinterpret_cast<Header*>(bump);
    bump += bytes;
    h->slab = slab;
    h->size_class = c;
    slab->word.fetch_add(1, std::memory_order_relaxed);  // only the owner adds
    return reinterpret_cast<char*>(h) + kHeader;
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
  return cache_.carve(c);
}

void deallocate(void* p, std::size_t size) noexcept {
  std::size_t c = size_class(size);
  if (WEFT_ASAN || c >= kClasses) {
    ::operator delete(p, size);
    return;
  }
  Cache& cache_ = cache();
  if (cache_.count[c] * (c + 1) * kGranule >= kFreeListBytes) {
    return_to_slab(Cache::header_of(p)->slab);
    return;
  }
  auto* f = static_cast<FreeFrame*>(p);
  f->next = cache_.head[c];
  cache_.head[c] = f;
  ++cache_.count[c];
}

}  // namespace weft::core::frame_allocator
