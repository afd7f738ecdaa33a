// The OS models: a process per unit (fork, results through pipes), a thread
// per unit (std::thread with std::mutex / std::condition_variable), and a
// fixed thread pool. Plain blocking code, the way people write the toy
// versions of these comparisons.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <initializer_list>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bench/suite/cell.h"

namespace weft::suite {

namespace {

// ------------------------------------------------------------ thread pool

class Pool {
 public:
  explicit Pool(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~Pool() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(std::function<void()> f) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        f = std::move(queue_.front());
        queue_.pop_front();
      }
      f();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// Counts finished units; wait() returns when all have.
class Countdown {
 public:
  explicit Countdown(uint64_t n) : left_(n) {}
  void done() {
    std::lock_guard lock(mu_);
    if (--left_ == 0) cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return left_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t left_;
};

// A gate that units wait at until it opens.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// ------------------------------------------------------------ processes

// Forks `n` children running `child` (which must only make syscalls) and
// waits for them all; true if every child exited 0.
bool wait_children(const std::vector<pid_t>& pids) {
  bool ok = true;
  for (pid_t p : pids) {
    int status = 0;
    if (p < 0 || ::waitpid(p, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ok = false;
  }
  return ok;
}

// In a child: closes every descriptor but `keep` (a forked child holds
// copies of all its parent's, which would keep the peer's EOF from coming).
void close_all_but(std::initializer_list<int> keep) {
  for (int fd = 3; fd < 4096; ++fd) {
    if (std::find(keep.begin(), keep.end(), fd) == keep.end()) ::close(fd);
  }
}

template <class F>
std::vector<pid_t> fork_n(uint64_t n, F child) {
  std::vector<pid_t> pids;
  pids.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    pid_t p = ::fork();
    if (p == 0) _exit(child() ? 0 : 1);
    pids.push_back(p);
    if (p < 0) break;
  }
  return pids;
}

bool process_spawn(const Cell& c) {
  int go[2];
  if (::pipe(go) < 0) return false;
  auto pids = fork_n(c.size, [&] {
    ::close(go[1]);
    char b;
    return ::read(go[0], &b, 1) == 0;  // blocks until the parent closes: all alive
  });
  if (c.at_peak) c.at_peak();
  ::close(go[1]);
  ::close(go[0]);
  return wait_children(pids);
}

bool process_pingpong(const Cell& c) {
  int ping[2], pong[2];
  if (::pipe(ping) < 0 || ::pipe(pong) < 0) return false;
  auto pids = fork_n(1, [&] {
    close_all_but({ping[0], pong[1]});
    char b;
    while (::read(ping[0], &b, 1) == 1) {
      ++b;
      if (::write(pong[1], &b, 1) != 1) return false;
    }
    return true;
  });
  ::close(ping[0]);
  ::close(pong[1]);
  char b = 0;
  bool ok = true;
  for (uint64_t i = 0; i < c.size && ok; ++i) {
    char sent = b;
    ok = ::write(ping[1], &b, 1) == 1 && ::read(pong[0], &b, 1) == 1 && b == char(sent + 1);
  }
  ::close(ping[1]);
  ::close(pong[0]);
  return wait_children(pids) && ok;
}

bool process_sleep(const Cell& c) {
  return wait_children(fork_n(c.size, [] {
    std::this_thread::sleep_for(kSleep);
    return true;
  }));
}

bool process_cpu(const Cell& c) {
  int results[2];
  if (::pipe(results) < 0) return false;
  auto pids = fork_n(c.size, [&] {
    uint64_t v = fib(kFibN);
    return ::write(results[1], &v, sizeof v) == sizeof v;  // atomic: below PIPE_BUF
  });
  ::close(results[1]);
  uint64_t sum = 0, v = 0;
  while (::read(results[0], &v, sizeof v) == sizeof v) sum += v;
  ::close(results[0]);
  return wait_children(pids) && sum == c.size * fib(kFibN);
}

// ------------------------------------------------------------ threads / pool

template <class Run>
bool spawn_units(const Cell& c, Run&& run) {
  if (c.model == Model::kPool) {
    Pool pool(c.workers);
    Countdown left(c.size);
    for (uint64_t i = 0; i < c.size; ++i) pool.submit([&] { run(), left.done(); });
    left.wait();
    return true;
  }
  std::vector<std::thread> ts;
  ts.reserve(c.size);
  for (uint64_t i = 0; i < c.size; ++i) ts.emplace_back(run);
  for (auto& t : ts) t.join();
  return true;
}

bool thread_spawn(const Cell& c) {
  if (c.model == Model::kPool) {  // queued closures: they cannot all wait at a gate
    std::atomic<uint64_t> n{0};
    spawn_units(c, [&] { n.fetch_add(1, std::memory_order_relaxed); });
    return n == c.size;
  }
  Gate gate;
  std::atomic<uint64_t> alive{0};
  std::vector<std::thread> ts;
  ts.reserve(c.size);
  for (uint64_t i = 0; i < c.size; ++i) ts.emplace_back([&] {
      alive.fetch_add(1);
      gate.wait();
    });
  while (alive.load() < c.size) std::this_thread::yield();
  if (c.at_peak) c.at_peak();
  gate.open();
  for (auto& t : ts) t.join();
  return true;
}

bool thread_pingpong(const Cell& c) {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t turn = 0;  // even: ping's move, odd: pong's
  auto player = [&](uint64_t parity) {
    for (uint64_t i = 0; i < c.size; ++i) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return turn % 2 == parity; });
      ++turn;
      cv.notify_one();
    }
  };
  if (c.model == Model::kPool) {
    Pool pool(std::max<std::size_t>(2, c.workers));
    Countdown left(2);
    pool.submit([&] { player(0), left.done(); });
    pool.submit([&] { player(1), left.done(); });
    left.wait();
  } else {
    std::thread a(player, 0), b(player, 1);
    a.join();
    b.join();
  }
  return turn == 2 * c.size;
}

bool thread_sleep(const Cell& c) { return spawn_units(c, [] { std::this_thread::sleep_for(kSleep); }); }

bool thread_cpu(const Cell& c) {
  std::atomic<uint64_t> sum{0};
  spawn_units(c, [&] { sum.fetch_add(fib(kFibN)); });
  return sum == c.size * fib(kFibN);
}

// ------------------------------------------------------------ echo servers

// Blocking echo of one connection until the peer closes.
void echo_blocking(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::send(fd, buf + off, size_t(n - off), MSG_NOSIGNAL);
      if (w <= 0) return (void)::close(fd);
      off += w;
    }
  }
  ::close(fd);
}

int listen_loopback(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(fd, 1024) < 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) < 0)
    return -1;
  *port = ntohs(a.sin_port);
  return fd;
}

bool os_echo(const Cell& c) {
  uint16_t port = 0;
  int lfd = listen_loopback(&port);
  if (lfd < 0) return false;
  // The pool serves at most `workers` connections at once (each one holds a
  // pool thread while it blocks): tools/suite.py caps the connections.
  const std::size_t conns = c.model == Model::kPool ? c.workers : kEchoConnections;
  std::vector<pid_t> pids;
  std::vector<std::thread> threads;
  std::optional<Pool> pool;
  if (c.model == Model::kPool) pool.emplace(c.workers);
  std::thread acceptor([&] {
    for (std::size_t i = 0; i < conns; ++i) {
      int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      if (c.model == Model::kProcess) {
        pid_t p = ::fork();
        if (p == 0) {
          close_all_but({fd});
          echo_blocking(fd);
          _exit(0);
        }
        ::close(fd);
        pids.push_back(p);
      } else if (c.model == Model::kThread) {
        threads.emplace_back(echo_blocking, fd);
      } else {
        pool->submit([fd] { echo_blocking(fd); });
      }
    }
  });
  bool ok = run_echo_client(port, conns, c.size);
  acceptor.join();
  for (auto& t : threads) t.join();
  pool.reset();
  ::close(lfd);
  return wait_children(pids) && ok;
}

}  // namespace

bool run_os(const Cell& c) {
  const bool process = c.model == Model::kProcess;
  switch (c.workload) {
    case Workload::kSpawn: return process ? process_spawn(c) : thread_spawn(c);
    case Workload::kPingPong: return process ? process_pingpong(c) : thread_pingpong(c);
    case Workload::kSleep: return process ? process_sleep(c) : thread_sleep(c);
    case Workload::kCpu: return process ? process_cpu(c) : thread_cpu(c);
    case Workload::kEcho: return os_echo(c);
  }
  return false;
}

uint64_t fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

}  // namespace weft::suite
