// Where coroutine frames, fiber objects and timer entries come from: 16-byte
// aligned, never overlapping, reused through the thread's free lists, and
// safe to free on another thread than the one that allocated; slabs taken
// from and given back to a bounded reserve that refills what was taken.
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

// Frames of 1008 bytes (the largest class but one): 2,080 to a slab, whose
// first 64 bytes are its header.
constexpr std::size_t kBigFrame = 1008;
constexpr std::size_t kBigFramesPerSlab = (kHugePageSize - 64) / kBigFrame;

// Allocates `n` big frames on a thread of its own and, if `free_them`,
// frees them there too; the thread's exit retires its slabs.
std::vector<void*> on_a_new_thread(std::size_t n, bool free_them) {
  std::vector<void*> frames;
  std::thread t([&] {
    for (std::size_t i = 0; i < n; ++i) frames.push_back(frame_allocator::allocate(kBigFrame));
    if (free_them) {
      for (void* p : frames) frame_allocator::deallocate(p, kBigFrame);
      frames.clear();
    }
  });
  t.join();
  return frames;
}

TEST(FrameReserve, RefillsExactlyWhatWasTaken) {
  if (WEFT_ASAN) GTEST_SKIP() << "under ASan frames come from operator new: no slabs";
  frame_allocator::release_reserve();
  EXPECT_FALSE(frame_allocator::refill_reserve()) << "nothing was taken, nothing is owed";
  // Three slabs carved: three owed.
  std::vector<void*> held = on_a_new_thread(2 * kBigFramesPerSlab + 1, /*free_them=*/false);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(frame_allocator::refill_reserve()) << i;
  EXPECT_FALSE(frame_allocator::refill_reserve());
  EXPECT_EQ(frame_allocator::reserve_size(), 3u);
  // The next slab comes from the reserve, which is owed it again.
  std::vector<void*> one = on_a_new_thread(1, /*free_them=*/false);
  EXPECT_EQ(frame_allocator::reserve_size(), 2u);
  EXPECT_TRUE(frame_allocator::refill_reserve());
  EXPECT_EQ(frame_allocator::reserve_size(), 3u);
  // Every frame is usable.
  for (void* p : held) std::memset(p, 0xcd, kBigFrame);
  for (void* p : held) frame_allocator::deallocate(p, kBigFrame);
  for (void* p : one) frame_allocator::deallocate(p, kBigFrame);
  frame_allocator::release_reserve();
  EXPECT_EQ(frame_allocator::reserve_size(), 0u);
}

TEST(FrameReserve, EmptiedSlabsComeBackUpToTheBound) {
  if (WEFT_ASAN) GTEST_SKIP() << "under ASan frames come from operator new: no slabs";
  frame_allocator::release_reserve();
  // Three slabs, all freed on their own thread: each empties once retired
  // and is kept, touched, instead of unmapped.
  on_a_new_thread(2 * kBigFramesPerSlab + 1, /*free_them=*/true);
  EXPECT_EQ(frame_allocator::reserve_size(), 3u);
  EXPECT_FALSE(frame_allocator::refill_reserve()) << "the returned slabs paid what was owed";
  // Past the bound they are unmapped.
  on_a_new_thread((frame_allocator::kReserveSlabs + 4) * kBigFramesPerSlab, /*free_them=*/true);
  EXPECT_EQ(frame_allocator::reserve_size(), frame_allocator::kReserveSlabs);
  frame_allocator::release_reserve();
  EXPECT_EQ(frame_allocator::reserve_size(), 0u);
}

// A thread counts its returns to one slab and subtracts them together (step
// 2): when it moves on to another slab, when it goes idle, when it exits.
TEST(FrameReserve, ReturnsToOneSlabAreSubtractedTogether) {
  if (WEFT_ASAN) GTEST_SKIP() << "under ASan frames come from operator new: no slabs";
  // Three slabs carved on a thread whose exit retired them all; the frames
  // are still live.
  std::vector<void*> held = on_a_new_thread(2 * kBigFramesPerSlab + 1, /*free_them=*/false);
  frame_allocator::release_reserve();  // nothing kept, nothing owed
  std::thread t([&] {
    // The first 1 MiB of frames stays in this thread's free list, so slab 1
    // stays in use; the rest of slab 1, all of slab 2 and slab 3's frame go
    // back to their slabs.
    for (void* p : held) frame_allocator::deallocate(p, kBigFrame);
    EXPECT_EQ(frame_allocator::reserve_size(), 1u) << "slab 2, subtracted when slab 3's run began";
    EXPECT_FALSE(frame_allocator::refill_reserve()) << "nothing is owed";
    EXPECT_EQ(frame_allocator::reserve_size(), 2u) << "going idle subtracted slab 3's frame";
  });
  t.join();
  EXPECT_EQ(frame_allocator::reserve_size(), 3u) << "the thread's exit returned its free list: slab 1";
  frame_allocator::release_reserve();
  EXPECT_EQ(frame_allocator::reserve_size(), 0u);
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

// grow_for_push: doubling below the threshold, then whole huge pages, and
// the elements survive each move.
TEST(HugePages, GrowForPushFillsWholeHugePages) {
  std::vector<uint64_t, HugePageAllocator<uint64_t>> v;
  const std::size_t per_huge_page = kHugePageSize / sizeof(uint64_t);
  std::size_t last_capacity = 0;
  for (std::size_t i = 0; i < per_huge_page + 1; ++i) {
    grow_for_push(v);
    v.push_back(i * 3);
    const std::size_t bytes = v.capacity() * sizeof(uint64_t);
    if (v.capacity() != last_capacity && bytes >= HugePageAllocator<uint64_t>::kThreshold) {
      EXPECT_EQ(bytes % kHugePageSize, 0u) << "capacity " << v.capacity();
      EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % kHugePageSize, 0u);
    }
    last_capacity = v.capacity();
  }
  EXPECT_EQ(v.capacity(), 2 * per_huge_page);  // 64 KiB -> 2 MiB -> 4 MiB
  for (std::size_t i = 0; i < v.size(); i += 1021) ASSERT_EQ(v[i], i * 3);
  EXPECT_EQ(v.back(), per_huge_page * 3);
}

}  // namespace
}  // namespace weft::core
