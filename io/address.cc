#include "io/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace weft::io {

namespace {
Result<SocketAddress> invalid() { return std::make_error_code(std::errc::invalid_argument); }
}  // namespace

Result<SocketAddress> SocketAddress::parse(std::string_view s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return invalid();
  std::string host(s.substr(0, colon));
  std::string_view port_text = s.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 || port_text.empty())
    return invalid();
  SocketAddress a;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6->sin6_addr) != 1) return invalid();
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(uint16_t(port));
    a.len_ = sizeof(sockaddr_in6);
    return a;
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) != 1) return invalid();
  v4->sin_family = AF_INET;
  v4->sin_port = htons(uint16_t(port));
  a.len_ = sizeof(sockaddr_in);
  return a;
}

SocketAddress SocketAddress::loopback(uint16_t port) {
  SocketAddress a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(port);
  v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.len_ = sizeof(sockaddr_in);
  return a;
}

SocketAddress SocketAddress::any(uint16_t port) {
  SocketAddress a = loopback(port);
  reinterpret_cast<sockaddr_in*>(&a.storage_)->sin_addr.s_addr = htonl(INADDR_ANY);
  return a;
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

std::string SocketAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(port());
  }
  return "(unset)";
}

}  // namespace weft::io
