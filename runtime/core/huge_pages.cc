#include "runtime/core/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace weft::core {

namespace {
std::size_t round_up(std::size_t bytes) { return (bytes + kHugePageSize - 1) & ~(kHugePageSize - 1); }
}  // namespace

void* map_huge(std::size_t bytes) {
  const std::size_t size = round_up(bytes);
  // Map one huge page more than needed, then trim both ends to alignment.
  void* raw = mmap(nullptr, size + kHugePageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto lo = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (lo + kHugePageSize - 1) & ~(kHugePageSize - 1);
  if (aligned > lo) munmap(raw, aligned - lo);
  munmap(reinterpret_cast<void*>(aligned + size), lo + kHugePageSize - aligned);
  void* mem = reinterpret_cast<void*>(aligned);
  madvise(mem, size, MADV_HUGEPAGE);  // best effort: THP may be off
  return mem;
}

void unmap_huge(void* p, std::size_t bytes) noexcept { munmap(p, round_up(bytes)); }

}  // namespace weft::core
