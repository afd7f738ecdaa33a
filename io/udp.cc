#include "io/udp.h"

#include <sys/uio.h>

#include "io/detail/perform.h"
#include "io/detail/socket_util.h"

namespace weft::io {

using detail::OpKind;
using detail::OpSpec;

namespace {

// The msghdr and iovec live in the caller's frame or stack until the
// operation completes: perform() and async_perform() wait for that.
struct Message {
  iovec iov;
  msghdr msg{};
  Message(int fd, const void* buf, size_t len, SocketAddress* addr, bool sending, OpSpec& spec) {
    iov.iov_base = const_cast<void*>(buf);
    iov.iov_len = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (addr) {
      msg.msg_name = addr->data();
      msg.msg_namelen = sending ? addr->size() : SocketAddress::capacity();
    }
    spec.kind = sending ? OpKind::kSendMsg : OpKind::kRecvMsg;
    spec.fd = fd;
    spec.msg = &msg;
  }
};

}  // namespace

Result<UdpSocket> UdpSocket::bind(const SocketAddress& at) {
  Result<detail::Fd> fd = detail::open_socket(at.family(), SOCK_DGRAM);
  if (!fd) return fd.error();
  if (::bind(fd->get(), at.data(), at.size()) < 0) return detail::last_error();
  return UdpSocket(std::move(*fd));
}

Result<size_t> UdpSocket::send_to(const void* buf, size_t len, const SocketAddress& to, const WaitOptions& options) {
  SocketAddress dest = to;
  OpSpec spec;
  Message m(fd_.get(), buf, len, &dest, /*sending=*/true, spec);
  return detail::to_size(detail::perform(spec, options));
}

core::Task<Result<size_t>> UdpSocket::async_send_to(const void* buf, size_t len, SocketAddress to,
                                                    WaitOptions options) {
  OpSpec spec;
  Message m(fd_.get(), buf, len, &to, /*sending=*/true, spec);
  co_return detail::to_size(co_await detail::async_perform(spec, options));
}

Result<size_t> UdpSocket::recv_from(void* buf, size_t len, SocketAddress* from, const WaitOptions& options) {
  OpSpec spec;
  Message m(fd_.get(), buf, len, from, /*sending=*/false, spec);
  Result<size_t> r = detail::to_size(detail::perform(spec, options));
  if (r && from) *from->size_ptr() = m.msg.msg_namelen;
  return r;
}

core::Task<Result<size_t>> UdpSocket::async_recv_from(void* buf, size_t len, SocketAddress* from,
                                                      WaitOptions options) {
  OpSpec spec;
  Message m(fd_.get(), buf, len, from, /*sending=*/false, spec);
  Result<size_t> r = detail::to_size(co_await detail::async_perform(spec, options));
  if (r && from) *from->size_ptr() = m.msg.msg_namelen;
  co_return r;
}

Result<SocketAddress> UdpSocket::local_address() const { return detail::socket_name(fd_.get(), false); }

}  // namespace weft::io
