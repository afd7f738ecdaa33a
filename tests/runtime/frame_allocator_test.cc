// Where coroutine frames, fiber objects and timer entries come from: 16-byte
// aligned, never overlapping, reused through the thread's free lists, and
// safe to free on another thread than the one that allocated.
#include "runtime/core/frame_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/core/detail/sanitizers.h"
#include "runtime/core/huge_pages.h"

namespace weft::core {
namespace {

TEST(FrameAllocator, FramesAreAlignedAndDisjoint) {
  std::vector<std::pair<char*, std::size_t>> frames;
  for (std::size_t size = 1; size <= 2048; size += 37) {
    auto* p = static_cast<char*>(frame_allocator::allocate(size));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << size;
    std::memset(p, 0xab, size);  // every byte is usable
    frames.emplace_back(p, size);
  }
  std::vector<std::pair<char*, std::size_t>> sorted = frames;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 1; i < sorted.size(); ++i)
    EXPECT_LE(sorted[i - 1].first + sorted[i - 1].second, sorted[i].first);
  for (auto [p, size] : frames) frame_allocator::deallocate(p, size);
}

TEST(FrameAllocator, AFreedFrameIsReusedForItsSizeClass) {
  if (WEFT_ASAN) GTEST_SKIP() << "under ASan frames come from operator new, which quarantines them";
  void* a = frame_allocator::allocate(296);
  frame_allocator::deallocate(a, 296);
  void* b = frame_allocator::allocate(290);  // same 16-byte class
  EXPECT_EQ(a, b);
  frame_allocator::deallocate(b, 290);
}

TEST(FrameAllocator, FramesFreedOnAnotherThreadAreReturned) {
  // More than one slab's worth, so slabs retire while another thread still
  // holds their frames; the last frame back unmaps each (ASan/LSan check).
  std::vector<void*> frames;
  std::thread producer([&] {
    for (int i = 0; i < 20000; ++i) frames.push_back(frame_allocator::allocate(320));
  });
  producer.join();
  std::thread consumer([&] {
    for (void* p : frames) frame_allocator::deallocate(p, 320);
  });
  consumer.join();
}

// Huge-page runs are aligned to 2 MiB and usable to their rounded-up end.
TEST(HugePages, MappingsAreAlignedAndWholePages) {
  for (std::size_t bytes : {std::size_t(1), kHugePageSize, kHugePageSize + 1}) {
    auto* p = static_cast<char*>(map_huge(bytes));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kHugePageSize, 0u) << bytes;
    const std::size_t whole = (bytes + kHugePageSize - 1) / kHugePageSize * kHugePageSize;
    p[0] = 1;
    p[whole - 1] = 2;
    unmap_huge(p, bytes);
  }
}

// A vector on HugePageAllocator (the timer heap's) keeps its elements as it
// grows from operator new into its own huge-page mappings, and back.
TEST(HugePages, GrowingVectorKeepsItsElements) {
  std::vector<uint64_t, HugePageAllocator<uint64_t>> v;
  const std::size_t n = 3 * kHugePageSize / sizeof(uint64_t);  // well past the threshold
  for (std::size_t i = 0; i < n; ++i) v.push_back(i * 7);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % kHugePageSize, 0u);
  for (std::size_t i = 0; i < n; i += 4099) ASSERT_EQ(v[i], i * 7);
  EXPECT_EQ(v.back(), (n - 1) * 7);
  v.resize(10);
  v.shrink_to_fit();  // back below the threshold: an ordinary allocation
  EXPECT_EQ(v[9], 63u);
}

}  // namespace
}  // namespace weft::core
