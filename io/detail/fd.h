// An owned file descriptor: closed once, through forget_fd() (epoll_driver.h
// step 3) so a reactor never wakes anyone for a closed fd.
#pragma once

#include <system_error>
#include <utility>

namespace weft::io::detail {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { close(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  std::error_code close();

 private:
  int fd_ = -1;
};

// errno as a std::error_code.
inline std::error_code last_error() { return {errno, std::system_category()}; }

}  // namespace weft::io::detail
