#include "io/detail/uring_driver.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <climits>
#include <utility>

namespace weft::io::detail {

namespace {

constexpr unsigned kEntries = 256;

// Newest first: what the kernel accepts decides (issue 4's fallback order).
constexpr unsigned kFlagChoices[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
    IORING_SETUP_COOP_TASKRUN,
    0,
};

constexpr int kRequiredOps[] = {
    IORING_OP_NOP,     IORING_OP_READ,    IORING_OP_WRITE,        IORING_OP_RECV,
    IORING_OP_SEND,    IORING_OP_ACCEPT,  IORING_OP_CONNECT,      IORING_OP_RECVMSG,
    IORING_OP_SENDMSG, IORING_OP_FSYNC,   IORING_OP_POLL_ADD,     IORING_OP_ASYNC_CANCEL,
};

// The first opcode weft needs that the kernel lacks, or -1.
int missing_opcode(io_uring* ring) {
  io_uring_probe* probe = io_uring_get_probe_ring(ring);
  if (probe == nullptr) return IORING_OP_NOP;
  int missing = -1;
  for (int op : kRequiredOps) {
    if (!io_uring_opcode_supported(probe, op)) {
      missing = op;
      break;
    }
  }
  io_uring_free_probe(probe);
  return missing;
}

}  // namespace

bool UringDriver::supported(std::error_code* why) {
  io_uring ring;
  int r = io_uring_queue_init(4, &ring, 0);
  if (r < 0) {
    if (why) *why = std::error_code(-r, std::system_category());
    return false;
  }
  int missing = missing_opcode(&ring);
  io_uring_queue_exit(&ring);
  if (missing >= 0 && why) *why = std::make_error_code(std::errc::function_not_supported);
  return missing < 0;
}

UringDriver::UringDriver() {
  int r = -EINVAL;
  for (unsigned flags : kFlagChoices) {
    r = io_uring_queue_init(kEntries, &ring_, flags);
    if (r == 0) {
      flags_ = flags;
      break;
    }
  }
  if (r < 0) throw std::system_error(-r, std::system_category(), "weft: io_uring_queue_init");
  eventfd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (eventfd_ < 0) {
    int e = errno;
    io_uring_queue_exit(&ring_);
    throw std::system_error(e, std::system_category(), "weft: eventfd");
  }
}

UringDriver::~UringDriver() {
  if (!closed_) io_uring_queue_exit(&ring_);
  if (eventfd_ >= 0) ::close(eventfd_);
}

void UringDriver::enable_on_owner() {
  if (enabled_) return;
  enabled_ = true;
  // A ring set up disabled takes its single issuer from the thread that
  // enables it: this worker's thread.
  // Debian's liburing 2.3 declares io_uring_enable_rings() but does not
  // export it: make the register call directly.
  if (flags_ & IORING_SETUP_R_DISABLED)
    ::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
}

io_uring_sqe* UringDriver::get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {  // SQ full: flush now rather than wait for the batch
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void UringDriver::prep(io_uring_sqe* sqe, Op& op) {
  const OpSpec& s = op.spec;
  // -1: the file's current position (reads and writes without an offset).
  const uint64_t off = s.offset == kNoOffset ? ~uint64_t{0} : s.offset;
  switch (s.kind) {
    case OpKind::kRead: io_uring_prep_read(sqe, s.fd, s.buf, s.len, off); break;
    case OpKind::kWrite: io_uring_prep_write(sqe, s.fd, s.buf, s.len, off); break;
    case OpKind::kRecv: io_uring_prep_recv(sqe, s.fd, s.buf, s.len, s.flags); break;
    case OpKind::kSend: io_uring_prep_send(sqe, s.fd, s.buf, s.len, s.flags | MSG_NOSIGNAL); break;
    case OpKind::kAccept: io_uring_prep_accept(sqe, s.fd, s.addr, s.addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC); break;
    case OpKind::kConnect: io_uring_prep_connect(sqe, s.fd, s.addr, s.connect_len); break;
    case OpKind::kRecvMsg: io_uring_prep_recvmsg(sqe, s.fd, s.msg, unsigned(s.flags)); break;
    case OpKind::kSendMsg: io_uring_prep_sendmsg(sqe, s.fd, s.msg, unsigned(s.flags | MSG_NOSIGNAL)); break;
    case OpKind::kFsync: io_uring_prep_fsync(sqe, s.fd, 0); break;
    case OpKind::kPollIn: io_uring_prep_poll_add(sqe, s.fd, POLLIN); break;
    case OpKind::kPollOut: io_uring_prep_poll_add(sqe, s.fd, POLLOUT); break;
    case OpKind::kNop: io_uring_prep_nop(sqe); break;
  }
  io_uring_sqe_set_data(sqe, &op);
}

void UringDriver::submit(Op& op) {
  enable_on_owner();
  if (closed_) {
    op.complete(-ECANCELED);
    return;
  }
  prep(get_sqe(), op);
  track(op);
}

void UringDriver::track(Op& op) {
  op.prev_inflight = nullptr;
  op.next_inflight = inflight_;
  if (inflight_) inflight_->prev_inflight = &op;
  inflight_ = &op;
  ++inflight_count_;
}

void UringDriver::untrack(Op& op) {
  if (op.prev_inflight) {
    op.prev_inflight->next_inflight = op.next_inflight;
  } else {
    inflight_ = op.next_inflight;
  }
  if (op.next_inflight) op.next_inflight->prev_inflight = op.prev_inflight;
  op.prev_inflight = op.next_inflight = nullptr;
  --inflight_count_;
}

void UringDriver::submit_multishot_accept(int listen_fd, MultishotSink& sink) {
  enable_on_owner();
  if (closed_) {
    sink.on_cqe(-ECANCELED, false);
    return;
  }
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_multishot_accept(sqe, listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, tag_of(sink));
  multishots_.push_back(&sink);
}

void UringDriver::cancel(Op& op) {
  {
    std::lock_guard lock(cancel_mu_);
    if (!op.mark_cancel_queued()) return;  // its CQE was reaped: nothing to cancel
    queue_cancel(tag_of(op));
  }
  unpark();
}

void UringDriver::cancel(MultishotSink& sink) {
  {
    // The sink's owner calls this only while the request is armed (step 6).
    std::lock_guard lock(cancel_mu_);
    queue_cancel(tag_of(sink));
  }
  unpark();
}

void UringDriver::queue_cancel(uint64_t tag) {
  cancels_.push_back(tag);
  // release: pairs with submit_cancels()'s acquire.
  cancels_pending_.store(true, std::memory_order_release);
}

void UringDriver::forget_cancel(uint64_t tag) {
  // Compares tags only: the Op may be gone already. No later Op at the
  // same address can be in flight here yet: only this thread submits.
  std::lock_guard lock(cancel_mu_);
  std::erase(cancels_, tag);
}

void UringDriver::submit_cancels() {
  if (!cancels_pending_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(cancel_mu_);
  for (uint64_t tag : cancels_) {
    // Still queued means not yet reaped (steps 3 and 6): the tag is still its.
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel64(sqe, tag, 0);
    io_uring_sqe_set_data64(sqe, kCancelTag);
  }
  cancels_.clear();
  cancels_pending_.store(false, std::memory_order_relaxed);
}

void UringDriver::arm_wake_read() {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_read(sqe, eventfd_, &wake_buf_, sizeof(wake_buf_), 0);
  io_uring_sqe_set_data64(sqe, kWakeTag);
  wake_armed_ = true;
}

std::size_t UringDriver::reap() {
  unsigned head;
  unsigned seen = 0;
  std::size_t woke = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    const uint64_t tag = cqe->user_data;
    if (tag == kWakeTag) {
      wake_armed_ = false;
    } else if (tag & kMultishotBit) {
      reap_multishot(tag, cqe->res, cqe->flags);
      ++woke;
    } else if (tag != kCancelTag && tag != 0) {
      Op* op = reinterpret_cast<Op*>(static_cast<uintptr_t>(tag));
      untrack(*op);
      if (op->complete(cqe->res)) forget_cancel(tag);  // step 3: that cancel is void now
      ++woke;
    }
  }
  io_uring_cq_advance(&ring_, seen);
  return woke;
}

void UringDriver::reap_multishot(uint64_t tag, int32_t res, unsigned flags) {
  auto* sink = reinterpret_cast<MultishotSink*>(static_cast<uintptr_t>(tag & ~kMultishotBit));
  const bool more = (flags & IORING_CQE_F_MORE) != 0;
  if (more) {
    sink->on_cqe(res, true);
    return;
  }
  std::erase(multishots_, sink);
  sink->on_cqe(res, false);  // may free the sink: only the tag is used below
  // After on_cqe: the sink queues no cancel once it knows the request ended.
  forget_cancel(tag);
}

std::size_t UringDriver::poll() {
  enable_on_owner();
  const bool queued = io_uring_sq_ready(&ring_) > 0;
  if (inflight_count_ == 0 && multishots_.empty() && !queued && !cancels_pending_.load(std::memory_order_relaxed))
    return 0;
  submit_cancels();
  io_uring_submit_and_get_events(&ring_);
  return reap();
}

void UringDriver::park(int64_t deadline_ns) {
  enable_on_owner();
  if (!token_.begin_park()) {  // an unpark came first
    poll();
    return;
  }
  submit_cancels();
  if (!wake_armed_) arm_wake_read();
  io_uring_cqe* cqe = nullptr;
  if (deadline_ns == INT64_MAX) {
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, nullptr, nullptr);
  } else if (timespec left; sched::detail::time_left(deadline_ns, &left)) {
    __kernel_timespec ts{left.tv_sec, left.tv_nsec};
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  } else {
    io_uring_submit_and_get_events(&ring_);
  }
  token_.end_park();
  submit_cancels();  // a cancel that woke us: submit it now, not next time
  reap();
}

void UringDriver::unpark() {
  if (token_.notify()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(eventfd_, &one, sizeof(one));
  }
}

void UringDriver::shutdown() {
  if (closed_) return;
  closed_ = true;
  io_uring_queue_exit(&ring_);
  {
    std::lock_guard lock(cancel_mu_);
    cancels_.clear();
    cancels_pending_.store(false, std::memory_order_relaxed);
  }
  while (Op* op = inflight_) {
    untrack(*op);
    op->complete(-ECANCELED);
  }
  for (MultishotSink* sink : std::exchange(multishots_, {})) sink->on_cqe(-ECANCELED, false);
}

}  // namespace weft::io::detail
