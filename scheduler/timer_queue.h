// Each worker's timers: a 4-ary min-heap of deadlines, each with the Waker it
// fires. A heap rather than a hierarchical wheel: deadlines need no rounding
// to a tick (measured in bench/micro_bench.cc, BM_TimerAddFire). Four
// children rather than two (as in Go's timers): 100,000 sleepers are
// log4(1e5) ~ 8 levels instead of 17, and a node's children share one
// 64-byte line, so a pop that sifts down touches half the cold lines.
//
// Deadlines that arrive in order skip the heap: every sleep_for(d) with the
// same d, and most timeouts, only ever add later deadlines. Those go to the
// back of a run, a FIFO whose deadlines never decrease, and fire from its
// front in O(1), reading memory in order; a popped heap root instead sifts a
// hole down through cold lines (BM_TimerQueueInOrder). A deadline earlier
// than the run's last goes to the heap, and the next timer due is the
// earlier of the two fronts.
//
// Protocol (owner thread adds and fires; any thread may cancel):
//   1. add() is called by a task running on the owning worker; it returns a
//      Timer that the waiting frame keeps. Entry has two references: the
//      queue's (heap or run) and the Timer's.
//   2. fire_expired() pops due entries and wakes their Wakers. A wait that
//      already ended finds the token spent: the wake does nothing.
//   3. Timer::cancel() (from wherever the task now runs) moves the entry from
//      pending to cancelled (the queue moves it from pending to fired: one
//      wins); the queue drops it when it reaches the heap's top or the run's
//      front, or all at once (both compacted) when cancelled entries
//      outnumber live ones, so cancelled waits with far deadlines do not
//      pile up.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "runtime/core/huge_pages.h"
#include "runtime/core/waker.h"

namespace weft::sched {

class TimerQueue {
  struct Entry;

 public:
  // The waiting side's handle; cancels on destruction.
  class Timer {
   public:
    Timer() = default;
    Timer(Timer&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
    Timer& operator=(Timer&& o) noexcept {
      if (this != &o) {
        cancel();
        e_ = std::exchange(o.e_, nullptr);
      }
      return *this;
    }
    ~Timer() { cancel(); }
    // True if the queue had already taken the entry: it fired (its deadline
    // has passed, so the waiter need not read the clock to say it timed
    // out), or clear() dropped it at shutdown, when every waiter still
    // parked is being cancelled (park.cc checks that first).
    // Inline for the common case of a wait that had no deadline.
    bool cancel() { return e_ != nullptr && cancel_armed(); }
    explicit operator bool() const { return e_ != nullptr; }

   private:
    friend class TimerQueue;
    bool cancel_armed();
    explicit Timer(Entry* e) : e_(e) {}
    Entry* e_ = nullptr;
  };

  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;
  ~TimerQueue() { clear(); }

  // ---- owner thread only ----
  Timer add(int64_t deadline_ns, core::Waker waker);
  // The earliest live deadline, or INT64_MAX.
  int64_t next_deadline();
  // Wakes every entry due at `now_ns`; returns how many it woke.
  std::size_t fire_expired(int64_t now_ns);
  bool empty() const { return heap_.size() <= kPad && run_head_ == run_.size(); }
  // Drops every entry without firing it (shutdown, after the worker exits).
  void clear();

  static int64_t now_ns();

 private:
  struct Slot {
    int64_t deadline;
    Entry* entry;
  };
  // Logical node k (the root is 0) lives at heap_[k + kPad]: its children
  // 4k+1..4k+4 then sit at 4(k+1)..4(k+1)+3, one aligned 64-byte group.
  static constexpr std::size_t kPad = 3;
  static constexpr std::size_t kArity = 4;
  Slot& at(std::size_t k) { return heap_[k + kPad]; }
  std::size_t count() const { return heap_.size() > kPad ? heap_.size() - kPad : 0; }
  std::size_t run_count() const { return run_.size() - run_head_; }
  // The earlier of the heap's top and the run's front (nullptr: none), and
  // whether it is the run's.
  Slot* front(bool& in_run);
  Slot pop_front(bool in_run);
  void push(Slot s);
  Slot pop();
  void sift_up(std::size_t k, Slot s);
  void sift_down(std::size_t k, Slot s);
  void compact();
  void compact_run();
  bool discard_if_cancelled(Slot s);
  static void release(Entry* e);

  // Huge pages once it is large: 100,000 sleepers are 1.6 MB of slots,
  // first touched as the heap grows. Those buffers are 2 MiB-aligned, so the
  // child groups are line-aligned; a small heap (from operator new, 16-byte
  // aligned) may straddle lines but sits in the cache anyway. Empty, or kPad
  // unused slots and then the heap.
  std::vector<Slot, core::HugePageAllocator<Slot>> heap_;
  // The in-order run: run_[run_head_..] with nondecreasing deadlines. Fired
  // slots before run_head_ are dropped when the run empties, or when they
  // are most of it (so a run that never empties does not grow forever).
  std::vector<Slot, core::HugePageAllocator<Slot>> run_;
  std::size_t run_head_ = 0;
  // Entries cancelled while still queued, in the heap or the run (written by
  // any thread; may dip below zero for a moment between a cancel and the
  // queue's discard).
  std::atomic<int64_t> cancelled_{0};
};

}  // namespace weft::sched
