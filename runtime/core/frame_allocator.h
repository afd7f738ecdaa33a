// Where coroutine frames, fiber objects and timer entries come from.
//
// Frames are carved from 2 MiB slabs, aligned to their size and advised
// MADV_HUGEPAGE: on a VM each 4 KiB page's first touch costs microseconds
// (README.md, "Memory on this VM"), and a program that spawns 100,000 tasks
// before joining any touches its frames' memory for the first time. Classes
// are 16 bytes apart up to 1 KiB, and a frame has no header: its slab is its
// address rounded down to the slab size.
//
// Protocol:
//   1. Each thread carves frames from its own current slab (bump pointer) and
//      keeps freed frames in per-size-class free lists (at most 1 MiB of
//      frames per class).
//   2. A frame freed on any thread joins that thread's free list; past the
//      list's cap it is returned to its slab instead.
//   3. A slab counts the frames handed out and not returned. When its owner
//      moves on to a new slab it marks the old one retired; whichever side
//      sees "retired and zero live frames" last unmaps it. The count and the
//      retired bit share one atomic word, so exactly one side does.
// Under AddressSanitizer frames go straight to ::operator new, so that
// use-after-free of a frame is still caught.
#pragma once

#include <cstddef>

namespace weft::core::frame_allocator {

void* allocate(std::size_t size);
void deallocate(void* p, std::size_t size) noexcept;

}  // namespace weft::core::frame_allocator
