// Fiber stacks: mmap'ed with a PROT_NONE guard page below, committed lazily by
// the kernel (MAP_NORESERVE: a 256 KiB stack that touches two pages costs two
// pages), and recycled through a pool so a warm spawn makes no system call.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

namespace weft::core {

struct Stack {
  void* mapping = nullptr;     // start of the mmap, the guard page
  std::size_t mapping_size = 0;
  void* lo = nullptr;          // lowest usable byte (just above the guard)
  std::size_t size = 0;        // usable bytes

  bool valid() const { return mapping != nullptr; }
  // True if `addr` lies in the guard page or a little below it (a large frame
  // can skip past one page): both mean this stack overflowed.
  bool is_overflow_address(const void* addr) const;
};

// 256 KiB: deep enough for libc calls such as getaddrinfo and printf with room
// to spare, and with lazy commit 100,000 idle fibers cost ~25 GiB of address
// space but only the pages they touched (typically 8 KiB each).
inline constexpr std::size_t kDefaultStackSize = 256 * 1024;

class StackPool {
 public:
  // Stacks of `default_size` are recycled, up to `max_cached` of them.
  explicit StackPool(std::size_t default_size = kDefaultStackSize, std::size_t max_cached = 1024);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  // Throws std::system_error (ENOMEM and friends) if the kernel refuses.
  Stack acquire(std::size_t size = 0);
  void release(Stack stack);

  std::size_t default_size() const { return default_size_; }

  // Makes a finished fiber's stack fit for the next fiber (under ASan: clears
  // the poisoned redzones of frames that never returned). Every path that
  // recycles a stack calls it.
  static void prepare_for_reuse(const Stack& stack);

  // Stacks mmap'ed and not yet unmapped, process-wide (for leak checks).
  static long mapped_stacks();

  static std::size_t page_size();
  static std::size_t round_to_pages(std::size_t bytes);

 private:
  static Stack map(std::size_t size);
  static void unmap(const Stack& stack);

  const std::size_t default_size_;
  const std::size_t max_cached_;
  std::mutex mu_;
  std::vector<Stack> free_;  // guarded by mu_
};

}  // namespace weft::core
