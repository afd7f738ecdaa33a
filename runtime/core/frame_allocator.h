// Where coroutine frames come from: per-thread caches of free frames by size
// class (64-byte steps up to 1 KiB), in front of ::operator new. A program
// that spawns a million tasks before joining any overflows malloc's own
// per-thread cache; this one keeps up to 4096 frames per class per thread.
// A frame freed on another thread (after migration) joins that thread's cache.
// Under AddressSanitizer frames go straight to ::operator new, so
// use-after-free of a frame is still caught.
#pragma once

#include <cstddef>

namespace weft::core::frame_allocator {

void* allocate(std::size_t size);
void deallocate(void* p, std::size_t size) noexcept;

}  // namespace weft::core::frame_allocator
