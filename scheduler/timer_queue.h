// Each worker's timers: a binary min-heap of deadlines, each with the Waker it
// fires. A heap rather than a hierarchical wheel: 100,000 sleepers cost
// log2(1e5) ~ 17 sift steps per insert and pop, and deadlines need no
// rounding to a tick (measured in bench/micro_bench.cc, BM_TimerAddFire).
//
// Protocol (owner thread adds and fires; any thread may cancel):
//   1. add() is called by a task running on the owning worker; it returns a
//      Timer that the waiting frame keeps. Entry has two references: the
//      heap's and the Timer's.
//   2. fire_expired() pops due entries and wakes their Wakers. A wait that
//      already ended finds the token spent: the wake does nothing.
//   3. Timer::cancel() (from wherever the task now runs) moves the entry from
//      pending to cancelled (the heap moves it from pending to fired: one
//      wins); the heap drops it when it reaches the top, or all at once
//      when cancelled entries outnumber live ones, so cancelled waits with
//      far deadlines do not pile up.
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
    // True if the heap had already taken the entry: it fired (its deadline
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
  bool empty() const { return heap_.empty(); }
  // Drops every entry without firing it (shutdown, after the worker exits).
  void clear();

  static int64_t now_ns();

 private:
  struct Slot {
    int64_t deadline;
    Entry* entry;
  };
  void push(Slot s);
  Slot pop();
  void compact();
  static void release(Entry* e);

  // Huge pages once it is large: 100,000 sleepers are 1.6 MB of slots,
  // first touched as the heap grows.
  std::vector<Slot, core::HugePageAllocator<Slot>> heap_;
  // Entries cancelled while still in the heap (written by any thread; may
  // dip below zero for a moment between a cancel and the heap's discard).
  std::atomic<int64_t> cancelled_{0};
};

}  // namespace weft::sched
