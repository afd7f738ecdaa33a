// Where coroutine frames and fiber objects come from.
//
// Frames are carved from 1 MiB slabs that are mmap'ed pre-faulted
// (MAP_POPULATE): a program that spawns a million tasks before joining any
// would otherwise spend most of its time in malloc growing a worker thread's
// arena one mprotect at a time, and in the page faults that follow.
//
// Protocol:
//   1. Each thread carves frames from its own current slab (bump pointer) and
//      keeps freed frames in per-size-class free lists (64-byte classes up to
//      1 KiB, at most 1 MiB of frames per class).
//   2. A frame freed on any thread joins that thread's free list; past the
//      list's cap it is returned to its slab instead (the slab's address sits
//      in a 16-byte header before the frame).
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
