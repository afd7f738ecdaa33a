// An IPv4 or IPv6 socket address: "127.0.0.1:8080", "[::1]:8080".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/core/result.h"

namespace weft::io {

class SocketAddress {
 public:
  SocketAddress() = default;
  // std::errc::invalid_argument for anything but a numeric host and a port.
  static Result<SocketAddress> parse(std::string_view host_port);
  static SocketAddress loopback(uint16_t port);  // 127.0.0.1
  static SocketAddress any(uint16_t port);       // 0.0.0.0

  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  std::string to_string() const;

  const sockaddr* data() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* data() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const { return len_; }
  socklen_t* size_ptr() { return &len_; }
  static constexpr socklen_t capacity() { return sizeof(sockaddr_storage); }

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

}  // namespace weft::io
