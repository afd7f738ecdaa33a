#include "io/detail/socket_util.h"

#include <cerrno>

namespace weft::io::detail {

Result<Fd> open_socket(int family, int type) {
  int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_error();
  return Fd(fd);
}

Result<SocketAddress> socket_name(int fd, bool peer) {
  SocketAddress a;
  *a.size_ptr() = SocketAddress::capacity();
  int r = peer ? ::getpeername(fd, a.data(), a.size_ptr()) : ::getsockname(fd, a.data(), a.size_ptr());
  if (r < 0) return last_error();
  return a;
}

bool is_resource_shortage(const std::error_code& ec) {
  if (ec.category() != std::system_category()) return false;
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

}  // namespace weft::io::detail
