// A listener's multishot accept (io_uring): one request stays armed on one
// worker's ring and posts a CQE per connection; tasks on any worker take
// the connections from this queue.
//
// Protocol:
//   1. A task that finds no connection queued waits in the queue (an Op in
//      waiters_). If no request is armed, it arms one on its own worker's
//      ring (armed_on_) and the queue holds a reference to itself until the
//      request's last CQE (uring_driver.h, step 6).
//   2. Each CQE (ring owner's thread) completes the oldest waiter with the
//      new socket, or queues the socket when nobody waits. Waiters exist
//      only while no socket is queued.
//   3. Bounded: at kCapacity queued sockets the request is cancelled, and
//      the kernel's backlog holds further connections; the next task to
//      find the queue empty arms a new request.
//   4. The request's last CQE: an error (EMFILE, ENFILE, a shut-down
//      listener) goes to every waiter, which decides (accept backs off on a
//      shortage); after a cancel of step 3 they get -EAGAIN and arm again.
//   5. A wait that ends first (deadline, stop token) leaves waiters_; if it
//      is no longer there, a socket is on its way to it and is not lost.
//   6. Closing the listener cancels the request, fails the waiters with
//      -EBADF and closes the sockets nobody took. Lock order: mu_, then the
//      ring's cancel lock; the ring never calls on_cqe holding its lock.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "io/detail/multishot_sink.h"
#include "io/detail/op_source.h"

namespace weft::io::detail {

class AcceptQueue final : public OpSource, public MultishotSink, public std::enable_shared_from_this<AcceptQueue> {
 public:
  static constexpr std::size_t kCapacity = 64;

  explicit AcceptQueue(int listen_fd) : fd_(listen_fd) {}
  ~AcceptQueue();
  AcceptQueue(const AcceptQueue&) = delete;
  AcceptQueue& operator=(const AcceptQueue&) = delete;

  // Whether the kernel has multishot accept (Linux 5.19).
  static bool kernel_supports();

  // ---- OpSource: the waiting task's thread (steps 1 and 5) ----
  void start(Op& op, UringDriver& ring) override;
  bool withdraw(Op& op) override;
  // A queued socket, if any, for callers that do not wait here (plain
  // threads, epoll workers): what the request took is not stranded.
  std::optional<int> try_take();

  // ---- MultishotSink: the ring owner's thread (steps 2 to 4) ----
  void on_cqe(int32_t res, bool more) override;

  // Step 6; any thread, once.
  void close();

  // For tests and diagnostics.
  std::size_t queued();

 private:
  struct Delivery;
  std::optional<int> pop_locked();  // under mu_
  void on_socket(int fd, bool more, Delivery& d);
  void on_last(int32_t res, Delivery& d);

  const int fd_;
  std::mutex mu_;
  std::deque<int> sockets_;
  std::deque<Op*> waiters_;
  UringDriver* armed_on_ = nullptr;
  std::shared_ptr<AcceptQueue> self_;  // while armed: the ring's CQEs name this object
  bool cancelled_when_full_ = false;
  bool closed_ = false;
};

}  // namespace weft::io::detail
