// One I/O operation: what to do (OpSpec) and the slot its completion lands in
// (Op). The same Op backs a fiber's blocking call and a coroutine's co_await,
// under either backend:
//   io_uring: the Op's address is the SQE's user_data; the ring's owner reaps
//             the CQE and calls complete(), which wakes the waiter through the
//             scheduler's one wake path (core::Waker).
//   epoll:    try_syscall() runs the operation non-blocking; on EAGAIN the
//             waiter parks until the fd is ready and tries again.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "runtime/core/waker.h"

namespace weft::io::detail {

class UringDriver;

enum class OpKind : uint8_t {
  kRead,     // pread at `offset` (files) or read (offset == kNoOffset)
  kWrite,
  kRecv,
  kSend,     // with MSG_NOSIGNAL: a closed peer is EPIPE, never SIGPIPE
  kAccept,
  kConnect,
  kRecvMsg,  // recv_from
  kSendMsg,  // send_to
  kFsync,
  kPollIn,   // readiness only (io_uring's fallback when an op says EAGAIN)
  kPollOut,
  kNop,
};

enum class Interest : uint8_t { kRead = 0, kWrite = 1, kNone = 2 };

inline constexpr uint64_t kNoOffset = ~uint64_t{0};

struct OpSpec {
  OpKind kind = OpKind::kNop;
  int fd = -1;
  void* buf = nullptr;
  uint32_t len = 0;
  uint64_t offset = kNoOffset;
  int flags = 0;
  sockaddr* addr = nullptr;         // accept: out; connect: in
  socklen_t* addrlen = nullptr;     // accept: in/out
  socklen_t connect_len = 0;        // connect: length of *addr
  msghdr* msg = nullptr;            // recv_from / send_to
};

// Which readiness an operation needs when it cannot complete at once.
Interest interest_of(OpKind kind);

// Runs the operation once without blocking: the result (>= 0) or -errno
// (-EAGAIN: not ready). `connect_started`: connect's second call, which
// reads SO_ERROR instead of connecting again.
int try_syscall(const OpSpec& spec, bool& connect_started);

class Op {
 public:
  explicit Op(const OpSpec& s) : spec(s) {}
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

  OpSpec spec;

  // ---- the waiter ----
  // Who to wake on completion; false if it has completed already.
  bool set_waker(core::Waker w);
  bool done();
  int32_t result();
  void reset_for_retry();  // before submitting the same Op again

  // ---- the ring's owner thread ----
  // Returns whether a cancel was queued for it (see mark_cancel_queued).
  bool complete(int32_t res);

  // ---- UringDriver bookkeeping (see uring_driver.h, step 3) ----
  // Any thread: false if the Op has completed (nothing left to cancel).
  bool mark_cancel_queued();
  Op* prev_inflight = nullptr;  // owner thread only
  Op* next_inflight = nullptr;

 private:
  void lock();
  void unlock() { lock_.clear(std::memory_order_release); }  // pairs with lock()'s acquire
  std::atomic_flag lock_ = ATOMIC_FLAG_INIT;
  bool done_ = false;
  bool cancel_queued_ = false;
  int32_t res_ = 0;
  core::Waker waker_;
};

}  // namespace weft::io::detail
