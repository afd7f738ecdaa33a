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

}  // namespace
}  // namespace weft::core
