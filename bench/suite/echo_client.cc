// The echo workload's load: one thread, epoll, a closed loop per connection.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/suite/cell.h"

namespace weft::suite {

namespace {

struct Conn {
  int fd = -1;
  std::size_t sent = 0, got = 0;
  bool done = false;
};

int connect_loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int tries = 0; tries < 300; ++tries) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::fcntl(fd, F_SETFL, O_NONBLOCK);
      return fd;
    }
    ::close(fd);
    usleep(10000);  // the server is still starting
  }
  return -1;
}

// Moves one connection as far as it can go without blocking; returns the
// round trips it completed.
uint64_t pump(Conn& c, const char* msg, char* buf, uint64_t& remaining) {
  uint64_t completed = 0;
  for (;;) {
    while (c.sent < kEchoBytes) {
      ssize_t w = ::send(c.fd, msg + c.sent, kEchoBytes - c.sent, MSG_NOSIGNAL);
      if (w <= 0) return completed;
      c.sent += std::size_t(w);
    }
    ssize_t r = ::recv(c.fd, buf + c.got, kEchoBytes - c.got, 0);
    if (r <= 0) return completed;
    c.got += std::size_t(r);
    if (c.got < kEchoBytes) continue;
    if (std::memcmp(buf, msg, kEchoBytes) != 0) {
      std::fputs("echo client: the echo differs from what was sent\n", stderr);
      std::abort();  // a wrong echo is a bug in the server under test: fail loudly
    }
    ++completed;
    c.sent = c.got = 0;
    if (remaining == 0 || --remaining == 0) c.done = true;
    if (c.done) return completed;
  }
}

}  // namespace

bool run_echo_client(uint16_t port, std::size_t connections, uint64_t total) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(connections);
  char msg[kEchoBytes];
  for (std::size_t i = 0; i < kEchoBytes; ++i) msg[i] = char('a' + i % 26);
  for (std::size_t i = 0; i < connections; ++i) {
    conns[i].fd = connect_loopback(port);
    if (conns[i].fd < 0) {
      std::fprintf(stderr, "echo client: cannot connect to port %u\n", unsigned(port));
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  uint64_t remaining = total, completed = 0;
  std::vector<char> bufs(connections * kEchoBytes);
  epoll_event events[256];
  bool ok = true;
  while (completed < total) {
    int n = ::epoll_wait(ep, events, 256, 5000);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::fprintf(stderr, "echo client: no progress for 5 s (%llu of %llu round trips)\n",
                   static_cast<unsigned long long>(completed), static_cast<unsigned long long>(total));
      ok = false;  // the server is stuck
      break;
    }
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[e].data.u64];
      if (c.done) continue;
      completed += pump(c, msg, &bufs[events[e].data.u64 * kEchoBytes], remaining);
    }
  }
  for (Conn& c : conns) ::close(c.fd);
  ::close(ep);
  return ok;
}

}  // namespace weft::suite
