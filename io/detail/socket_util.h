// Small helpers shared by tcp.cc and udp.cc.
#pragma once

#include "io/address.h"
#include "io/detail/fd.h"
#include "io/detail/op.h"
#include "runtime/core/result.h"

namespace weft::io::detail {

// A non-blocking, close-on-exec socket.
Result<Fd> open_socket(int family, int type);
Result<SocketAddress> socket_name(int fd, bool peer);
inline Result<size_t> to_size(Result<int> r) {
  if (!r) return r.error();
  return static_cast<size_t>(*r);
}
inline OpSpec io_spec(OpKind kind, int fd, const void* buf, size_t len) {
  OpSpec s;
  s.kind = kind;
  s.fd = fd;
  s.buf = const_cast<void*>(buf);
  s.len = len > 0x7ffff000u ? 0x7ffff000u : static_cast<uint32_t>(len);  // Linux's per-call cap
  return s;
}
// Accept failures that mean "out of descriptors or memory": back off.
bool is_resource_shortage(const std::error_code& ec);

}  // namespace weft::io::detail
