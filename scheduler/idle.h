// Which workers are asleep and how many are searching for work (after Tokio's
// multi_thread::Idle and Go's nmspinning/npidle).
//
// Park / unpark protocol:
//   1. A worker that found nothing in its own queues becomes a searcher, but
//      only while fewer than half the workers already search
//      (transition_worker_to_searching).
//   2. A searcher that finds work stops searching before it runs it; if it
//      was the last searcher it wakes another sleeper, because where there was
//      one task there may be more (transition_worker_from_searching).
//   3. A worker about to sleep registers as parked. If it was the last
//      searcher it re-checks every queue and wakes a worker if any has work:
//      between its last look and its registration a task may have arrived
//      whose pusher saw a searcher and therefore woke nobody. With stealing
//      off (one worker, thread-per-core) nobody searches, so every parking
//      worker re-checks for itself.
//   4. Whoever makes work available (a push to a local queue or the inject
//      queue) calls notify_should_wakeup(): true when nobody searches and
//      someone sleeps; it then pops one sleeper, counts it as searching, and
//      unparks it. The check begins with a seq_cst fence, paired with one
//      after step 3's registration, so that the push before it and the
//      parking worker's re-check cannot both miss each other (the store-load
//      race). Two exceptions. A wake into the running worker's empty LIFO
//      slot checks nothing: nobody can steal that slot, so a woken worker
//      would find nothing (as in Tokio; monitor.h step 4 frees a slot whose
//      worker got stuck). And a worker pushing onto its own ring that
//      already held tasks may skip the check, at most 15 times in a row
//      (Worker::should_notify_after_push). Nothing is lost by it: the pusher
//      runs whatever nobody steals, the tasks already there were covered by
//      an earlier check, and the 16th push checks again; at worst a sleeper
//      wakes 15 pushes later than it could have. Go and Tokio check on every
//      push.
//   5. A woken worker asks is_parked(): if it is no longer in the sleeper set
//      it was woken by step 4 and searches; otherwise the wake was for its
//      own pinned/remote queue (or spurious) and it looks there.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace weft::sched {

class Idle {
 public:
  explicit Idle(uint32_t num_workers);

  bool transition_worker_to_searching();
  bool transition_worker_from_searching();  // true: this was the last searcher
  bool transition_worker_to_parked(uint32_t worker, bool is_searching);  // true: was the last searcher
  // Removes `worker` from the sleepers if it is still there (it found work on
  // its own). False: someone already woke it, counting it as a searcher.
  bool unpark_worker_by_id(uint32_t worker);
  bool is_parked(uint32_t worker);

  bool notify_should_wakeup() const;
  // Pops a sleeper to wake (counted as searching), if one should be woken.
  std::optional<uint32_t> worker_to_notify();

 private:
  static constexpr uint32_t kShift = 16;
  static constexpr uint32_t kMask = (1u << kShift) - 1;
  // [unparked:16][searching:16]
  mutable std::atomic<uint32_t> state_;
  const uint32_t num_workers_;
  std::mutex mu_;
  std::vector<uint32_t> sleepers_;  // guarded by mu_
};

}  // namespace weft::sched
