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
//      list's cap it is returned to its slab instead. The thread counts a
//      run of returns to one slab itself and subtracts the run in one go
//      when it returns a frame of another slab, goes idle
//      (refill_reserve()) or exits: a slab is released at most that late.
//   3. A slab counts the frames handed out and not returned. When its owner
//      moves on to a new slab it marks the old one retired; whichever side
//      sees "retired and zero live frames" last releases it (step 6). The
//      count and the retired bit share one atomic word, so exactly one side
//      does. Only returns touch the word before retirement: the owner counts
//      what it carves in a plain field and adds it when it retires the slab,
//      so carving a frame costs no locked instruction (whose wait for the
//      new frame's stores to fresh memory was most of a spawn's cost).
//   4. A thread that needs a new slab takes one from a small process-wide
//      reserve of slabs already mapped and touched, else maps a fresh one;
//      either way the reserve is owed one slab (at most kReserveSlabs owed).
//   5. An idle worker pays one owed slab back (refill_reserve()): it maps the
//      slab and touches every page, so the page faults and the kernel's
//      zeroing happen on a core with nothing to do rather than on the one
//      spawning (on this VM a fresh 2 MiB costs 0.1-2 ms: README.md, "Memory
//      on this VM"). One slab per call, so a worker looks for work again
//      after each.
//   6. A released slab goes back to the reserve while it has room (it is
//      touched already, and it pays a debt), else it is unmapped. A runtime's
//      shutdown unmaps the reserve (release_reserve()).
// Under AddressSanitizer frames go straight to ::operator new, so that
// use-after-free of a frame is still caught.
#pragma once

#include <cstddef>

namespace weft::core::frame_allocator {

void* allocate(std::size_t size);
void deallocate(void* p, std::size_t size) noexcept;

// The reserve's bound: 16 MiB of slabs mapped ahead of need, at most.
inline constexpr std::size_t kReserveSlabs = 8;
// Protocol step 5: maps and touches one owed slab; false if none is owed.
// First it subtracts the frames this thread returned and has not yet
// subtracted (step 2), so an idle thread holds no slab back. With nothing
// pending and nothing owed it costs the thread-cache lookup and one relaxed
// load. Any thread; meant for idle workers.
bool refill_reserve();
// Unmaps every slab in the reserve and forgets what is owed (shutdown),
// after subtracting this thread's pending returns as refill_reserve() does.
void release_reserve();
// Slabs in the reserve now (tests, the task dump).
std::size_t reserve_size();

}  // namespace weft::core::frame_allocator
