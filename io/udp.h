// UDP datagrams, in the blocking (fiber/thread) and co_await forms; errors as
// in tcp.h.
#pragma once

#include <cstddef>

#include "io/address.h"
#include "io/detail/fd.h"
#include "runtime/core/coroutine.h"
#include "runtime/core/result.h"
#include "runtime/core/wait_options.h"

namespace weft::io {

class UdpSocket {
 public:
  UdpSocket() = default;
  // Port 0 picks a free port (see local_address()).
  static Result<UdpSocket> bind(const SocketAddress& at);

  Result<size_t> send_to(const void* buf, size_t len, const SocketAddress& to, const WaitOptions& options = kWaitForever);
  core::Task<Result<size_t>> async_send_to(const void* buf, size_t len, SocketAddress to, WaitOptions options = {});
  // One datagram (truncated to `len`); `from`, if given, gets the sender.
  Result<size_t> recv_from(void* buf, size_t len, SocketAddress* from, const WaitOptions& options = kWaitForever);
  core::Task<Result<size_t>> async_recv_from(void* buf, size_t len, SocketAddress* from, WaitOptions options = {});

  Result<SocketAddress> local_address() const;
  std::error_code close() { return fd_.close(); }
  int native_handle() const { return fd_.get(); }

 private:
  explicit UdpSocket(detail::Fd fd) : fd_(std::move(fd)) {}
  detail::Fd fd_;
};

}  // namespace weft::io
