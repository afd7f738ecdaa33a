#include "runtime/core/frame_allocator.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>

#include "runtime/core/detail/sanitizers.h"
#include "runtime/core/huge_pages.h"

namespace weft::core::frame_allocator {

namespace {

// 16-byte classes keep frames 16-byte aligned and waste at most 15 bytes a
// frame: 100,000 sleeping tasks are 100,000 frames, and on this VM memory
// costs most the first time it is touched (README.md, "Memory on this VM").
constexpr std::size_t kGranule = 16;
constexpr std::size_t kClasses = 64;                  // frames up to 1 KiB
constexpr std::size_t kSlabSize = kHugePageSize;      // 2 MiB: one transparent huge page
constexpr std::size_t kFreeListBytes = 1 << 20;       // per class per thread
constexpr int64_t kRetired = int64_t(1) << 62;

// Protocol step 3. Until its owner retires it, `word` is minus the frames
// returned so far (at most 0, so never kRetired + 1); retire() adds kRetired
// plus the frames carved, which only the owner counted, in plain arithmetic:
// from then on it is kRetired plus the live frames.
struct Slab {
  std::atomic<int64_t> word{0};
};

struct FreeFrame {
  FreeFrame* next;
};

// Protocol steps 4-6. Slabs are taken and given once per 2 MiB of frames,
// so a mutex is cheap here.
class Reserve {
 public:
  void* take() {
    owe();
    std::lock_guard lock(mu_);
    return count_ > 0 ? slabs_[--count_] : nullptr;
  }
  // Keeps a released slab if there is room (it pays a debt); false: the
  // caller unmaps it.
  bool give(void* slab) {
    if (!keep(slab)) return false;
    claim_owed();
    return true;
  }
  bool refill_one() {
    if (!claim_owed()) return false;  // the idle path's usual answer: one load
    if (size() == kReserveSlabs) {
      owed_.store(0, std::memory_order_relaxed);  // full: released slabs paid
      return false;
    }
    void* slab;
    try {
      slab = map_huge(kSlabSize);
    } catch (const std::bad_alloc&) {
      return false;  // the allocating thread will map its own and report it
    }
    // A store to every 4 KiB page: one fault if the kernel backs the slab
    // with a huge page, one per page if it does not.
    for (std::size_t at = 0; at < kSlabSize; at += 4096) static_cast<volatile char*>(slab)[at] = 0;
    if (!keep(slab)) unmap_huge(slab, kSlabSize);
    return true;
  }
  void release_all() {
    void* out[kReserveSlabs];
    std::size_t n;
    {
      std::lock_guard lock(mu_);
      n = std::exchange(count_, 0);
      std::copy(slabs_, slabs_ + n, out);
    }
    owed_.store(0, std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i) unmap_huge(out[i], kSlabSize);
  }
  std::size_t size() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  bool keep(void* slab) {
    std::lock_guard lock(mu_);
    if (count_ == kReserveSlabs) return false;
    slabs_[count_++] = slab;
    return true;
  }
  // owed_ is a plain counter: the slabs themselves are handed over under mu_.
  void owe() {
    int owed = owed_.load(std::memory_order_relaxed);
    while (owed < int(kReserveSlabs) && !owed_.compare_exchange_weak(owed, owed + 1, std::memory_order_relaxed)) {}
  }
  bool claim_owed() {
    int owed = owed_.load(std::memory_order_relaxed);
    while (owed > 0 && !owed_.compare_exchange_weak(owed, owed - 1, std::memory_order_relaxed)) {}
    return owed > 0;
  }

  std::mutex mu_;
  void* slabs_[kReserveSlabs] = {};  // guarded by mu_
  std::size_t count_ = 0;            // guarded by mu_
  std::atomic<int> owed_{0};
};

// Never destroyed: threads may release slabs while the process exits.
Reserve& reserve() {
  static Reserve* r = new Reserve;
  return *r;
}

// A slab aligned to its size, so that the kernel can back it with one huge
// page (huge_pages.h): a million frames would otherwise touch thousands of
// fresh 4 KiB pages.
void* take_slab() {
  if (void* slab = reserve().take()) return slab;
  return map_huge(kSlabSize);
}
void release(Slab* slab) {
  if (!reserve().give(slab)) unmap_huge(slab, kSlabSize);
}

// Protocol step 3, both sides. acq_rel on both: whichever side releases the
// slab must see the other side's last writes to its frames.
void retire(Slab* slab, int64_t carved) {
  if (slab != nullptr && slab->word.fetch_add(kRetired + carved, std::memory_order_acq_rel) + carved == 0) release(slab);
}
void return_to_slab(Slab* slab, int64_t frames) {
  if (slab->word.fetch_sub(frames, std::memory_order_acq_rel) == kRetired + frames) release(slab);
}

struct Cache {
  FreeFrame* head[kClasses] = {};
  std::size_t count[kClasses] = {};
  Slab* slab = nullptr;
  char* bump = nullptr;
  char* end = nullptr;
  int64_t carved = 0;  // frames carved from `slab`: only this thread counts them
  // Step 2: frames given back to `returning` and not yet subtracted from it.
  Slab* returning = nullptr;
  int64_t returned = 0;

  ~Cache() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (FreeFrame* f = head[c]) {
        head[c] = f->next;
        return_frame(f);
      }
    }
    flush_returns();
    retire(slab, carved);
  }

  // Frames freed one after another mostly share a slab (a batch joined in
  // the order it was spawned): one subtraction per run, not per frame.
  void return_frame(void* frame) {
    Slab* s = slab_of(frame);
    if (s != returning) {
      flush_returns();
      returning = s;
    }
    ++returned;
  }
  void flush_returns() {
    if (returning != nullptr) return_to_slab(returning, returned);
    returning = nullptr;
    returned = 0;
  }

  // Slabs are aligned to their size, so a frame's slab is its address
  // rounded down: no per-frame header.
  static Slab* slab_of(void* frame) {
    return reinterpret_cast<Slab*>(reinterpret_cast<uintptr_t>(frame) & ~(kSlabSize - 1));
  }

  void* carve(std::size_t c) {
    const std::size_t bytes = (c + 1) * kGranule;
    if (bump == nullptr || bump + bytes > end) {
      void* mem = take_slab();
      retire(slab, carved);
      slab = new (mem) Slab();
      carved = 0;
      bump = static_cast<char*>(mem) + 64;
      end = static_cast<char*>(mem) + kSlabSize;
    }
    void* frame = bump;
    bump += bytes;
    ++carved;  // no locked instruction per frame (step 3)
    return frame;
  }
};

// Allocation and deallocation never span a fiber switch, so reading the
// thread's cache here is migration-safe; noinline and noipa keep it that way
// (thread_state.h says why both).
[[gnu::noinline, gnu::noipa]] Cache& cache() {
  thread_local Cache c;
  return c;
}

std::size_t size_class(std::size_t size) { return (size + kGranule - 1) / kGranule - 1; }

}  // namespace

bool refill_reserve() {
  cache().flush_returns();
  return reserve().refill_one();
}
void release_reserve() {
  cache().flush_returns();
  reserve().release_all();
}
std::size_t reserve_size() { return reserve().size(); }

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
    cache_.return_frame(p);
    return;
  }
  auto* f = static_cast<FreeFrame*>(p);
  f->next = cache_.head[c];
  cache_.head[c] = f;
  ++cache_.count[c];
}

}  // namespace weft::core::frame_allocator
