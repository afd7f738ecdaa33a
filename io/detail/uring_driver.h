// A worker's io_uring reactor.
//
// Protocol (one ring per worker, SINGLE_ISSUER: only the owner submits):
//   1. A task on this worker queues an SQE whose user_data is its Op; nothing
//      enters the kernel yet. The worker flushes queued SQEs when it runs out
//      of tasks (park) and every 61 ticks (poll), or when the SQ is full.
//   2. The owner reaps CQEs in poll() and park() and calls Op::complete(),
//      which wakes the task wherever it now runs: a task may migrate after
//      submitting.
//   3. Cancelling (a deadline or stop token ended the wait first): the owner
//      submits IORING_OP_ASYNC_CANCEL at once; another thread queues the Op
//      under cancel_mu_ and unparks the owner, which submits it. An Op whose
//      CQE is reaped leaves that queue first (under the same mutex), so a
//      cancel can never hit a later Op at the same address. The waiter
//      always waits for the Op's own CQE: its buffers stay alive until then.
//   4. Parking (sched::detail::ParkToken): kEmpty -> kParked, then io_uring_enter waits for
//      one CQE or the worker's next timer. unpark() sets kNotified and, if
//      the owner was parked, writes the eventfd that a READ on the ring waits
//      for.
//   5. Shutdown (after the owner thread exited): the ring is closed and every
//      Op still in flight completes with -ECANCELED.
//   6. Multishot requests (a listener's accept): the user_data is the
//      MultishotSink's address with bit 0 set (Ops are aligned, so bit 0 is
//      theirs to lose). Each CQE goes to the sink; the one without
//      IORING_CQE_F_MORE is its last, after which the ring forgets the sink
//      and any cancel still queued for it (as in step 3). The sink keeps
//      itself alive until then. Shutdown gives each a last -ECANCELED.
#pragma once

#include <liburing.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

#include "io/detail/multishot_sink.h"
#include "io/detail/op.h"
#include "scheduler/detail/park_token.h"
#include "scheduler/driver.h"

namespace weft::io::detail {

class UringDriver final : public sched::Driver {
 public:
  // Sets up a ring (created disabled; the owner enables it on first use, so
  // SINGLE_ISSUER names the worker thread). Throws std::system_error.
  UringDriver();
  ~UringDriver() override;

  sched::DriverKind kind() const override { return sched::DriverKind::kUring; }
  void park(int64_t deadline_ns) override;
  std::size_t poll() override;
  void unpark() override;
  bool notified() const override { return token_.notified(); }
  void shutdown() override;

  // ---- owner thread ----
  void submit(Op& op);
  // SOCK_NONBLOCK | SOCK_CLOEXEC sockets, one CQE each (step 6).
  void submit_multishot_accept(int listen_fd, MultishotSink& sink);
  // ---- any thread ----
  void cancel(Op& op);
  void cancel(MultishotSink& sink);

  // What set-up settled on, for diagnostics and tests.
  unsigned setup_flags() const { return flags_; }
  static bool supported(std::error_code* why);

 private:
  static constexpr uint64_t kWakeTag = 1, kCancelTag = 2, kMultishotBit = 1;
  static uint64_t tag_of(Op& op) { return reinterpret_cast<uintptr_t>(&op); }
  static uint64_t tag_of(MultishotSink& s) { return reinterpret_cast<uintptr_t>(&s) | kMultishotBit; }
  void enable_on_owner();
  io_uring_sqe* get_sqe();
  void prep(io_uring_sqe* sqe, Op& op);
  void arm_wake_read();
  void submit_cancels();
  void queue_cancel(uint64_t tag);  // under cancel_mu_
  void forget_cancel(uint64_t tag);
  void reap_multishot(uint64_t tag, int32_t res, unsigned flags);
  std::size_t reap();
  void track(Op& op);
  void untrack(Op& op);

  io_uring ring_{};
  unsigned flags_ = 0;
  bool enabled_ = false;
  bool closed_ = false;
  bool wake_armed_ = false;
  int eventfd_ = -1;
  uint64_t wake_buf_ = 0;
  sched::detail::ParkToken token_;
  Op* inflight_ = nullptr;  // owner-only intrusive list
  std::size_t inflight_count_ = 0;
  std::mutex cancel_mu_;
  std::vector<uint64_t> cancels_;  // user_data to cancel; guarded by cancel_mu_
  std::vector<MultishotSink*> multishots_;  // armed (step 6); owner only
  std::atomic<bool> cancels_pending_{false};
};

}  // namespace weft::io::detail
