// A worker's epoll reactor: the fallback where io_uring cannot be set up
// (ENOSYS, EPERM under a seccomp profile, kernel.io_uring_disabled), or when
// WEFT_IO=epoll asks for it.
//
// Protocol (readiness, edge-triggered, as Tokio's and Go's netpollers):
//   1. An operation first runs its syscall non-blocking. Only on EAGAIN does
//      it register: under the fd's slot lock it checks that no readiness
//      arrived since it read the slot's sequence number (else it retries at
//      once), then leaves a Waker in the slot.
//   2. The fd joins the epoll set of the worker where it first waited
//      (EPOLLET, in|out|rdhup); whichever worker polls that set wakes the
//      waiters, which run wherever the scheduler puts them.
//   3. Events carry fd and the slot's generation; closing an fd through weft
//      (forget_fd) bumps the generation, so a late event for a closed fd, or
//      for an fd number since reused, is dropped.
//   4. Parking and unpark() are as in uring_driver.h, with an eventfd in the
//      epoll set.
//   5. Shutdown (the worker thread has exited): the waiters on fds in this
//      set are woken, so the runtime can cancel them.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "io/detail/op.h"
#include "scheduler/detail/park_token.h"
#include "scheduler/driver.h"

namespace weft::io::detail {

class EpollDriver final : public sched::Driver {
 public:
  EpollDriver();  // throws std::system_error
  ~EpollDriver() override;

  sched::DriverKind kind() const override { return sched::DriverKind::kEpoll; }
  void park(int64_t deadline_ns) override;
  std::size_t poll() override;
  void unpark() override;
  bool notified() const override { return token_.notified(); }
  void shutdown() override;

  // Step 1. `seen` is the sequence read before the syscall that said EAGAIN.
  // False: readiness arrived in between (retry now); `waker` is dropped.
  bool wait_ready(int fd, Interest interest, uint32_t seen, core::Waker waker);
  // A wait that ended without readiness (deadline, stop): drop its Waker.
  static void stop_waiting(int fd, Interest interest, const core::TaskHeader* task, uint32_t token);
  static uint32_t ready_seq(int fd, Interest interest);

 private:
  std::size_t wait(const struct timespec* timeout);

  int epfd_ = -1;
  int eventfd_ = -1;
  sched::detail::ParkToken token_;
  std::atomic<uint32_t> registered_{0};
  std::mutex fds_mu_;
  std::vector<int> fds_;  // registered here (duplicates possible); guarded by fds_mu_
};

// Step 3: called by every weft close. Wakes anyone still waiting on `fd`.
void forget_fd(int fd);

}  // namespace weft::io::detail
