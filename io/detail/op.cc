#include "io/detail/op.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

namespace weft::io::detail {

Interest interest_of(OpKind kind) {
  switch (kind) {
    case OpKind::kRead:
    case OpKind::kRecv:
    case OpKind::kAccept:
    case OpKind::kRecvMsg:
    case OpKind::kPollIn: return Interest::kRead;
    case OpKind::kWrite:
    case OpKind::kSend:
    case OpKind::kConnect:
    case OpKind::kSendMsg:
    case OpKind::kPollOut: return Interest::kWrite;
    default: return Interest::kNone;
  }
}

namespace {
int ret(ssize_t r) { return r < 0 ? -errno : static_cast<int>(r); }

int connect_once(const OpSpec& s, bool& started) {
  if (!started) {
    started = true;
    int r = ::connect(s.fd, s.addr, s.connect_len);
    if (r == 0) return 0;
    return errno == EINPROGRESS ? -EAGAIN : -errno;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
  return -err;
}
}  // namespace

int try_syscall(const OpSpec& s, bool& connect_started) {
  switch (s.kind) {
    case OpKind::kRead:
      return ret(s.offset == kNoOffset ? ::read(s.fd, s.buf, s.len) : ::pread(s.fd, s.buf, s.len, off_t(s.offset)));
    case OpKind::kWrite:
      return ret(s.offset == kNoOffset ? ::write(s.fd, s.buf, s.len) : ::pwrite(s.fd, s.buf, s.len, off_t(s.offset)));
    case OpKind::kRecv: return ret(::recv(s.fd, s.buf, s.len, s.flags | MSG_DONTWAIT));
    case OpKind::kSend: return ret(::send(s.fd, s.buf, s.len, s.flags | MSG_DONTWAIT | MSG_NOSIGNAL));
    case OpKind::kAccept: return ret(::accept4(s.fd, s.addr, s.addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC));
    case OpKind::kConnect: return connect_once(s, connect_started);
    case OpKind::kRecvMsg: return ret(::recvmsg(s.fd, s.msg, s.flags | MSG_DONTWAIT));
    case OpKind::kSendMsg: return ret(::sendmsg(s.fd, s.msg, s.flags | MSG_DONTWAIT | MSG_NOSIGNAL));
    case OpKind::kFsync: return ret(::fsync(s.fd));
    case OpKind::kPollIn:
    case OpKind::kPollOut:
    case OpKind::kNop: return 0;
  }
  return -EINVAL;
}

void Op::lock() {
  // Held for a few instructions by the waiter and the completing thread.
  while (lock_.test_and_set(std::memory_order_acquire)) __builtin_ia32_pause();
}

bool Op::set_waker(core::Waker w) {
  lock();
  bool pending = !done_;
  if (pending) waker_ = std::move(w);
  unlock();
  return pending;  // `w`, if unused, is dropped outside the lock
}

bool Op::done() {
  lock();
  bool d = done_;
  unlock();
  return d;
}

int32_t Op::result() {
  lock();
  int32_t r = res_;
  unlock();
  return r;
}

void Op::reset_for_retry() {
  lock();
  done_ = false;
  cancel_queued_ = false;
  res_ = 0;
  unlock();
}

bool Op::complete(int32_t res) {
  lock();
  done_ = true;
  res_ = res;
  const bool queued = cancel_queued_;
  core::Waker w = std::move(waker_);
  unlock();
  std::move(w).wake();  // from here on the waiter may free this Op
  return queued;
}

bool Op::mark_cancel_queued() {
  lock();
  const bool pending = !done_;
  if (pending) cancel_queued_ = true;
  unlock();
  return pending;
}

}  // namespace weft::io::detail
