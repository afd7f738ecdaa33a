#include "runtime/core/stack.h"

#include "runtime/core/detail/sanitizers.h"
#if WEFT_ASAN
#include <sanitizer/asan_interface.h>
#endif

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

namespace weft::core {

namespace {
std::atomic<long> g_mapped{0};  // only touched on mmap/munmap, never on a warm spawn

// How far below the guard page a fault still counts as this stack's overflow.
constexpr std::size_t kOverflowSlack = 64 * 1024;
}  // namespace

bool Stack::is_overflow_address(const void* addr) const {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  auto guard_lo = reinterpret_cast<std::uintptr_t>(mapping);
  auto usable_lo = reinterpret_cast<std::uintptr_t>(lo);
  std::uintptr_t floor = guard_lo > kOverflowSlack ? guard_lo - kOverflowSlack : 0;
  return a >= floor && a < usable_lo;
}

std::size_t StackPool::page_size() {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

std::size_t StackPool::round_to_pages(std::size_t bytes) {
  const std::size_t page = page_size();
  if (bytes < 4 * page) bytes = 4 * page;
  return (bytes + page - 1) / page * page;
}

StackPool::StackPool(std::size_t default_size, std::size_t max_cached)
    : default_size_(round_to_pages(default_size == 0 ? kDefaultStackSize : default_size)),
      max_cached_(max_cached) {}

StackPool::~StackPool() {
  for (const Stack& s : free_) unmap(s);
}

Stack StackPool::map(std::size_t size) {
  const std::size_t guard = page_size();
  const std::size_t total = size + guard;
  void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "weft: mmap of a fiber stack");
  if (mprotect(p, guard, PROT_NONE) != 0) {
    int err = errno;
    munmap(p, total);
    throw std::system_error(err, std::generic_category(), "weft: mprotect of a stack guard page");
  }
  g_mapped.fetch_add(1, std::memory_order_relaxed);
  return Stack{p, total, static_cast<char*>(p) + guard, size};
}

void StackPool::unmap(const Stack& stack) {
  munmap(stack.mapping, stack.mapping_size);
  g_mapped.fetch_sub(1, std::memory_order_relaxed);
}

long StackPool::mapped_stacks() { return g_mapped.load(std::memory_order_relaxed); }

Stack StackPool::acquire(std::size_t size) {
  size = size == 0 ? default_size_ : round_to_pages(size);
  if (size == default_size_) {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      Stack s = free_.back();
      free_.pop_back();
      return s;
    }
  }
  return map(size);
}

void StackPool::prepare_for_reuse(const Stack& stack) {
#if WEFT_ASAN
  // A finished fiber's outermost frames never returned, so their redzones are
  // still poisoned; the next fiber on this stack would trip over them.
  __asan_unpoison_memory_region(stack.lo, stack.size);
#else
  (void)stack;
#endif
}

void StackPool::release(Stack stack) {
  if (!stack.valid()) return;
  prepare_for_reuse(stack);
  if (stack.size == default_size_) {
    std::lock_guard lock(mu_);
    if (free_.size() < max_cached_) {
      free_.push_back(stack);
      return;
    }
  }
  unmap(stack);
}

}  // namespace weft::core
