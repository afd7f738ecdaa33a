#include "io/detail/fd.h"

#include <unistd.h>

#include <cerrno>

#include "io/detail/epoll_driver.h"

namespace weft::io::detail {

std::error_code Fd::close() {
  if (fd_ < 0) return {};
  const int fd = std::exchange(fd_, -1);
  forget_fd(fd);
  // Linux frees the fd even when close fails (EINTR included): never retry.
  return ::close(fd) == 0 ? std::error_code{} : last_error();
}

}  // namespace weft::io::detail
