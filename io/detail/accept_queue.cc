#include "io/detail/accept_queue.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <utility>
#include <vector>

#include "io/detail/op.h"
#include "io/detail/uring_driver.h"

namespace weft::io::detail {

// What a CQE or close() decided under mu_, carried out after it: waking a
// task or cancelling a request under the lock would hold it across a wake.
struct AcceptQueue::Delivery {
  std::vector<std::pair<Op*, int32_t>> complete;
  UringDriver* cancel_on = nullptr;
  std::shared_ptr<AcceptQueue> release;  // the last reference may be this

  void run(AcceptQueue& q) {
    if (cancel_on != nullptr) cancel_on->cancel(static_cast<MultishotSink&>(q));
    for (auto [op, res] : complete) op->complete(res);
    release.reset();  // `q` may be gone from here on
  }
};

AcceptQueue::~AcceptQueue() {
  for (int fd : sockets_) ::close(fd);
}

bool AcceptQueue::kernel_supports() {
  static const bool yes = [] {
    utsname u{};
    int major = 0, minor = 0;
    if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return major > 5 || (major == 5 && minor >= 19);
  }();
  return yes;
}

std::optional<int> AcceptQueue::pop_locked() {
  if (sockets_.empty()) return std::nullopt;
  int fd = sockets_.front();
  sockets_.pop_front();
  return fd;
}

void AcceptQueue::start(Op& op, UringDriver& ring) {
  std::unique_lock lock(mu_);
  // Closing empties the queue (step 6): a closed queue has no socket.
  std::optional<int32_t> now = closed_ ? std::optional<int32_t>(-EBADF) : pop_locked();
  if (now) {
    lock.unlock();
    op.complete(*now);
    return;
  }
  waiters_.push_back(&op);  // step 1
  if (armed_on_ != nullptr) return;
  armed_on_ = &ring;
  self_ = shared_from_this();
  lock.unlock();
  // Only this thread reaps `ring`: no CQE can come before the request is in.
  ring.submit_multishot_accept(fd_, *this);
}

bool AcceptQueue::withdraw(Op& op) {
  std::lock_guard lock(mu_);
  auto it = std::find(waiters_.begin(), waiters_.end(), &op);
  if (it == waiters_.end()) return false;  // step 5: a socket is on its way
  waiters_.erase(it);
  return true;
}

std::optional<int> AcceptQueue::try_take() {
  std::lock_guard lock(mu_);
  return pop_locked();
}

void AcceptQueue::on_cqe(int32_t res, bool more) {
  Delivery d;
  {
    std::lock_guard lock(mu_);
    if (res >= 0) {
      on_socket(res, more, d);
    } else if (more && !waiters_.empty()) {
      d.complete.emplace_back(waiters_.front(), res);  // the caller decides (ECONNABORTED: again)
      waiters_.pop_front();
    }
    if (!more) on_last(res, d);
  }
  d.run(*this);
}

void AcceptQueue::on_socket(int fd, bool more, Delivery& d) {
  if (closed_) {
    ::close(fd);  // step 6: nobody will take it
  } else if (!waiters_.empty()) {
    d.complete.emplace_back(waiters_.front(), fd);  // step 2
    waiters_.pop_front();
  } else {
    sockets_.push_back(fd);
    if (more && sockets_.size() >= kCapacity && !cancelled_when_full_) {  // step 3
      cancelled_when_full_ = true;
      d.cancel_on = armed_on_;
    }
  }
}

void AcceptQueue::on_last(int32_t res, Delivery& d) {
  // Step 4. A shutting-down ring passes -ECANCELED too: unless this queue
  // cancelled for room, that is what the waiters get (not a re-arm).
  int32_t to_waiters = res;
  if (closed_) {
    to_waiters = -EBADF;
  } else if (res >= 0 || (res == -ECANCELED && cancelled_when_full_)) {
    to_waiters = -EAGAIN;
  }
  for (Op* op : waiters_) d.complete.emplace_back(op, to_waiters);
  waiters_.clear();
  armed_on_ = nullptr;
  cancelled_when_full_ = false;
  d.release = std::move(self_);
}

void AcceptQueue::close() {
  Delivery d;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    for (Op* op : waiters_) d.complete.emplace_back(op, -EBADF);
    waiters_.clear();
    for (int fd : sockets_) ::close(fd);
    sockets_.clear();
    // Step 6's lock order: the cancel is queued under mu_, so the request's
    // last CQE (which clears armed_on_ under mu_ first) cannot slip between.
    if (armed_on_ != nullptr) armed_on_->cancel(static_cast<MultishotSink&>(*this));
  }
  d.run(*this);
}

std::size_t AcceptQueue::queued() {
  std::lock_guard lock(mu_);
  return sockets_.size();
}

}  // namespace weft::io::detail
