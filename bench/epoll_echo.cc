// The baseline for weft's echo server: a plain single-threaded epoll echo
// loop, as a C programmer would write it without any runtime.
//   epoll_echo <port>      runs until SIGTERM, then exits 0.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>

namespace {

volatile sig_atomic_t stop = 0;

int listen_on(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(fd, 1024) < 0) return -1;
  return fd;
}

// Bytes a connection could not write yet (the peer was slow to read).
std::unordered_map<int, std::string> pending;

void close_conn(int ep, int fd) {
  ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
  pending.erase(fd);
  ::close(fd);
}

void want_out(int ep, int fd, bool on) {
  epoll_event ev{};
  ev.events = on ? EPOLLIN | EPOLLOUT : EPOLLIN;
  ev.data.fd = fd;
  ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

void flush(int ep, int fd) {
  std::string& p = pending[fd];
  while (!p.empty()) {
    ssize_t n = ::send(fd, p.data(), p.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) return;
      close_conn(ep, fd);
      return;
    }
    p.erase(0, size_t(n));
  }
  want_out(ep, fd, false);
}

void on_readable(int ep, int fd) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return close_conn(ep, fd);
    if (n < 0) return;
    std::string& p = pending[fd];
    if (!p.empty()) {
      p.append(buf, size_t(n));
      continue;
    }
    ssize_t w = ::send(fd, buf, size_t(n), MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) return close_conn(ep, fd);
    if (w < n) {
      p.append(buf + (w < 0 ? 0 : w), size_t(n - (w < 0 ? 0 : w)));
      want_out(ep, fd, true);
    }
  }
}

void on_accept(int ep, int lfd) {
  for (;;) {
    int c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return;
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = c;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: epoll_echo <port>\n", stderr);
    return 2;
  }
  signal(SIGTERM, [](int) { stop = 1; });
  int lfd = listen_on(std::atoi(argv[1]));
  if (lfd < 0) {
    std::perror("epoll_echo: listen");
    return 1;
  }
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  epoll_event events[256];
  while (!stop) {
    int n = ::epoll_wait(ep, events, 256, 100);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        on_accept(ep, lfd);
      } else if (events[i].events & EPOLLOUT) {
        flush(ep, fd);
      } else {
        on_readable(ep, fd);
      }
    }
  }
  return 0;
}
