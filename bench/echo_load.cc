// A small load generator for echo servers:
//   echo_load <port> <connections> <message bytes> <seconds> [server pid]
// Each connection sends one message, waits for all of it to come back,
// records the round trip, and sends the next (a closed loop). Prints one
// line: value = messages per second, with p50/p99 round-trip microseconds
// and, given the server's pid, the server's CPU time per message.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  size_t sent = 0, got = 0;
  Clock::time_point start;
};

// utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14, 15).
long cpu_ticks(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t p = s.rfind(')');
  if (p == std::string::npos) return -1;
  std::vector<std::string> fields;
  size_t i = p + 2;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    fields.push_back(s.substr(i, j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  if (fields.size() < 13) return -1;
  return std::atol(fields[11].c_str()) + std::atol(fields[12].c_str());  // fields 14 and 15
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int tries = 0; ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0; ++tries) {
    if (tries > 200) return -1;  // the server did not come up within 2 s
    ::close(fd);
    usleep(10000);
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || argc > 6) {
    std::fputs("usage: echo_load <port> <connections> <message bytes> <seconds> [server pid]\n", stderr);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int nconn = std::atoi(argv[2]);
  const size_t size = size_t(std::atol(argv[3]));
  const double seconds = std::atof(argv[4]);
  const long pid = argc == 6 ? std::atol(argv[5]) : 0;
  if (port <= 0 || nconn <= 0 || size == 0 || size > (1 << 20) || seconds <= 0) {
    std::fputs("echo_load: bad arguments\n", stderr);
    return 2;
  }
  std::vector<Conn> conns(static_cast<size_t>(nconn));
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<char> msg(size, 'x'), buf(65536);
  for (int i = 0; i < nconn; ++i) {
    conns[i].fd = connect_to(port);
    if (conns[i].fd < 0) {
      std::fprintf(stderr, "echo_load: cannot connect to port %d\n", port);
      return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u32 = uint32_t(i);
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  std::vector<double> rtts;
  rtts.reserve(1 << 20);
  const long cpu0 = pid ? cpu_ticks(pid) : 0;
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration<double>(seconds);
  for (Conn& c : conns) c.start = Clock::now();
  epoll_event events[512];
  while (Clock::now() < until) {
    int n = ::epoll_wait(ep, events, 512, 10);
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[e].data.u32];
      for (bool progress = true; progress;) {
        progress = false;
        while (c.sent < size) {
          ssize_t w = ::send(c.fd, msg.data() + c.sent, size - c.sent, MSG_NOSIGNAL);
          if (w <= 0) break;
          c.sent += size_t(w);
        }
        ssize_t r;
        while (c.got < size && (r = ::recv(c.fd, buf.data(), std::min(buf.size(), size - c.got), 0)) > 0)
          c.got += size_t(r);
        if (c.got == size) {
          auto now = Clock::now();
          rtts.push_back(std::chrono::duration<double, std::micro>(now - c.start).count());
          c.sent = c.got = 0;
          c.start = now;
          progress = true;  // send the next one now: the edge will not repeat
        }
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const long cpu1 = pid ? cpu_ticks(pid) : 0;
  if (rtts.empty()) {
    std::fputs("echo_load: no message completed\n", stderr);
    return 1;
  }
  std::sort(rtts.begin(), rtts.end());
  auto pct = [&](double p) { return rtts[std::min(rtts.size() - 1, size_t(p * double(rtts.size())))]; };
  std::printf("name=echo value=%.0f unit=msg/s p50_us=%.1f p99_us=%.1f connections=%d bytes=%zu", rtts.size() / elapsed,
              pct(0.50), pct(0.99), nconn, size);
  if (pid) {
    const double cpu_s = double(cpu1 - cpu0) / double(sysconf(_SC_CLK_TCK));
    std::printf(" server_cpu_us_per_msg=%.2f", cpu_s * 1e6 / double(rtts.size()));
  }
  std::printf("\n");
  return 0;
}
