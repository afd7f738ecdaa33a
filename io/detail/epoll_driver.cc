#include "io/detail/epoll_driver.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

namespace weft::io::detail {

namespace {

// One slot per fd number (protocol step 3): found from an event without a
// pointer that could dangle. Chunks are allocated on first use and live as
// long as the process, like the kernel's own fd table.
// Waiters taken from a slot under its lock, woken when this goes out of
// scope: declared before the lock, so after it is released.
struct Woken {
  std::vector<core::Waker> lists[2];
  std::size_t size() const { return lists[0].size() + lists[1].size(); }
  ~Woken() {
    for (auto& list : lists)
      for (core::Waker& w : list) std::move(w).wake();
  }
};

struct Slot {
  std::mutex mu;
  uint32_t gen = 0;
  bool registered = false;
  int epfd = -1;             // the epoll set it is registered in
  uint32_t seq[2] = {0, 0};  // readiness events seen, per Interest
  std::vector<core::Waker> waiters[2];

  // ---- under mu ----
  void take(int interest, Woken& out) { out.lists[interest].swap(waiters[interest]); }
  // A readiness event (or a close) for `interest`: counted, its waiters taken.
  void ready(int interest, Woken& out) {
    ++seq[interest];
    take(interest, out);
  }
  void unregister() {
    registered = false;
    epfd = -1;
  }
};

class FdTable {
 public:
  static FdTable& get() {
    static FdTable* table = new FdTable;  // never destroyed: events may race exit
    return *table;
  }
  Slot* find(int fd) {
    if (fd < 0 || size_t(fd) >= kChunk * kChunks) return nullptr;
    return chunk(size_t(fd) / kChunk, /*create=*/false, fd);
  }
  Slot& at(int fd) { return *chunk(size_t(fd) / kChunk, /*create=*/true, fd); }

 private:
  static constexpr size_t kChunk = 1024, kChunks = 4096;  // fds below 4M
  Slot* chunk(size_t c, bool create, int fd) {
    Slot* base = chunks_[c].load(std::memory_order_acquire);  // pairs with the release below
    if (base == nullptr) {
      if (!create) return nullptr;
      std::lock_guard lock(grow_mu_);
      base = chunks_[c].load(std::memory_order_relaxed);
      if (base == nullptr) {
        base = new Slot[kChunk];
        chunks_[c].store(base, std::memory_order_release);
      }
    }
    return &base[size_t(fd) % kChunk];
  }
  std::atomic<Slot*> chunks_[kChunks] = {};
  std::mutex grow_mu_;
};

uint64_t event_key(int fd, uint32_t gen) { return (uint64_t(gen) << 32) | uint32_t(fd); }

constexpr uint64_t kWakeKey = ~uint64_t{0};

}  // namespace

EpollDriver::EpollDriver() {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::system_error(errno, std::system_category(), "weft: epoll_create1");
  eventfd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeKey;
  if (eventfd_ < 0 || ::epoll_ctl(epfd_, EPOLL_CTL_ADD, eventfd_, &ev) < 0) {
    int e = errno;
    if (eventfd_ >= 0) ::close(eventfd_);
    ::close(epfd_);
    throw std::system_error(e, std::system_category(), "weft: eventfd for epoll");
  }
}

EpollDriver::~EpollDriver() {
  ::close(eventfd_);
  ::close(epfd_);
}

uint32_t EpollDriver::ready_seq(int fd, Interest interest) {
  // A closed object's -1: the operation itself fails with EBADF, no wait.
  if (fd < 0) return 0;
  Slot& s = FdTable::get().at(fd);
  std::lock_guard lock(s.mu);
  return s.seq[int(interest)];
}

bool EpollDriver::wait_ready(int fd, Interest interest, uint32_t seen, core::Waker waker) {
  if (fd < 0) return false;  // retry: it fails with EBADF
  Slot& s = FdTable::get().at(fd);
  std::lock_guard lock(s.mu);
  if (s.seq[int(interest)] != seen) return false;
  if (!s.registered) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = event_key(fd, s.gen);
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST) return false;  // retry: it will fail
    s.registered = true;
    s.epfd = epfd_;
    registered_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard fds_lock(fds_mu_);
    fds_.push_back(fd);
  }
  s.waiters[int(interest)].push_back(std::move(waker));
  return true;
}

void EpollDriver::stop_waiting(int fd, Interest interest, const core::TaskHeader* task, uint32_t token) {
  Slot* s = FdTable::get().find(fd);
  if (s == nullptr) return;
  core::Waker dropped;
  std::lock_guard lock(s->mu);
  auto& ws = s->waiters[int(interest)];
  auto it = std::find_if(ws.begin(), ws.end(), [&](const core::Waker& w) { return w.task() == task && w.token() == token; });
  if (it == ws.end()) return;
  dropped = std::move(*it);
  ws.erase(it);
}

void forget_fd(int fd) {
  Slot* s = FdTable::get().find(fd);
  if (s == nullptr) return;
  Woken woken;  // they retry, and see EBADF
  std::lock_guard lock(s->mu);
  ++s->gen;
  s->unregister();
  s->ready(0, woken);
  s->ready(1, woken);
}

std::size_t EpollDriver::wait(const timespec* timeout) {
  epoll_event events[64];
  int n = ::epoll_pwait2(epfd_, events, 64, timeout, nullptr);
  std::size_t woke = 0;
  for (int i = 0; i < n; ++i) {
    const uint64_t key = events[i].data.u64;
    if (key == kWakeKey) {
      uint64_t v;
      [[maybe_unused]] ssize_t r = ::read(eventfd_, &v, sizeof(v));
      continue;
    }
    Slot* s = FdTable::get().find(int(uint32_t(key)));
    if (s == nullptr) continue;
    const uint32_t ev = events[i].events;
    Woken woken;
    std::lock_guard lock(s->mu);
    if (s->gen != uint32_t(key >> 32)) continue;  // step 3: a closed fd's event
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s->ready(int(Interest::kRead), woken);
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) s->ready(int(Interest::kWrite), woken);
    woke += woken.size();
  }
  return woke;
}

std::size_t EpollDriver::poll() {
  if (registered_.load(std::memory_order_relaxed) == 0) return 0;
  timespec zero{0, 0};
  return wait(&zero);
}

void EpollDriver::park(int64_t deadline_ns) {
  if (!token_.begin_park()) {  // an unpark came first
    poll();
    return;
  }
  if (deadline_ns == INT64_MAX) {
    wait(nullptr);
  } else {
    timespec left{0, 0};  // a passed deadline: just poll
    sched::detail::time_left(deadline_ns, &left);
    wait(&left);
  }
  token_.end_park();
}

void EpollDriver::shutdown() {
  // Step 5: our epoll set goes away with us. Waiters on its fds are woken
  // (the runtime then cancels them), so none is left holding its task.
  std::vector<int> fds;
  {
    std::lock_guard lock(fds_mu_);
    fds.swap(fds_);
  }
  for (int fd : fds) {
    Slot* s = FdTable::get().find(fd);
    if (s == nullptr) continue;
    Woken woken;
    std::lock_guard lock(s->mu);
    if (s->epfd != epfd_) continue;  // closed since, maybe reused elsewhere
    s->unregister();
    s->take(0, woken);
    s->take(1, woken);
  }
}

void EpollDriver::unpark() {
  if (token_.notify()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(eventfd_, &one, sizeof(one));
  }
}

}  // namespace weft::io::detail
