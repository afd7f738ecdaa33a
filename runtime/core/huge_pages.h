// Memory in 2 MiB-aligned runs advised MADV_HUGEPAGE, for what a program
// touches for the first time in bulk: coroutine frame slabs, a worker's
// timer heap. On a VM each fresh 4 KiB page costs microseconds to touch
// (README.md, "Memory on this VM"); a huge page is one fault.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace weft::core {

inline constexpr std::size_t kHugePageSize = std::size_t(2) << 20;

// `bytes` rounded up to whole huge pages, aligned to kHugePageSize.
// Throws std::bad_alloc if the kernel refuses.
void* map_huge(std::size_t bytes);
void unmap_huge(void* p, std::size_t bytes) noexcept;

// A std::allocator for a large, growing array (a worker's timer heap, the
// task registry's shards): a buffer of kThreshold bytes or more is its own
// huge-page mapping; smaller ones come from operator new as usual. Below the
// threshold glibc serves large buffers from fresh mmaps too, 4 KiB a fault,
// so it is low: 64 KiB.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr std::size_t kThreshold = std::size_t(64) << 10;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kThreshold) return std::allocator<T>().allocate(n);
    return static_cast<T*>(map_huge(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kThreshold) return std::allocator<T>().deallocate(p, n);
    unmap_huge(p, n * sizeof(T));
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

// Call before each push_back to `v`: past the threshold, `v` grows into whole
// huge pages (from 64 KiB straight to 2 MiB), so no byte of its mapping is
// unused and it copies itself as seldom as it can; below, it doubles as a
// vector does. Inline: the usual answer is one comparison.
template <class T>
void grow_for_push(std::vector<T, HugePageAllocator<T>>& v) {
  if (v.size() < v.capacity()) return;
  std::size_t bytes = std::max<std::size_t>(16, 2 * v.capacity()) * sizeof(T);
  if (bytes >= HugePageAllocator<T>::kThreshold) bytes = (bytes + kHugePageSize - 1) & ~(kHugePageSize - 1);
  v.reserve(bytes / sizeof(T));
}

}  // namespace weft::core
