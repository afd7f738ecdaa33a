#include "io/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <optional>

#include "io/detail/accept_queue.h"
#include "io/detail/perform.h"
#include "io/detail/socket_util.h"

namespace weft::io {

using detail::async_perform;
using detail::io_spec;
using detail::OpKind;
using detail::OpSpec;
using detail::perform;
using detail::to_size;

namespace {

OpSpec connect_spec(int fd, const SocketAddress& to) {
  OpSpec s;
  s.kind = OpKind::kConnect;
  s.fd = fd;
  s.addr = const_cast<sockaddr*>(to.data());
  s.connect_len = to.size();
  return s;
}

OpSpec accept_spec(int fd) {
  OpSpec s;
  s.kind = OpKind::kAccept;
  s.fd = fd;
  return s;
}

std::chrono::milliseconds next_backoff(std::chrono::milliseconds b) {
  return std::min(b * 2, std::chrono::milliseconds(100));
}

}  // namespace

// ------------------------------------------------------------------ stream

Result<TcpStream> TcpStream::connect(const SocketAddress& to, const WaitOptions& options) {
  Result<detail::Fd> fd = detail::open_socket(to.family(), SOCK_STREAM);
  if (!fd) return fd.error();
  Result<int> r = perform(connect_spec(fd->get(), to), options);
  if (!r) return r.error();
  return TcpStream(std::move(*fd));
}

core::Task<Result<TcpStream>> TcpStream::async_connect(SocketAddress to, WaitOptions options) {
  Result<detail::Fd> fd = detail::open_socket(to.family(), SOCK_STREAM);
  if (!fd) co_return fd.error();
  OpSpec spec = connect_spec(fd->get(), to);
  Result<int> r = co_await async_perform(spec, options);
  if (!r) co_return r.error();
  co_return TcpStream(std::move(*fd));
}

Result<size_t> TcpStream::read(void* buf, size_t len, const WaitOptions& options) {
  return to_size(perform(io_spec(OpKind::kRecv, fd_.get(), buf, len), options));
}

core::Task<Result<size_t>> TcpStream::async_read(void* buf, size_t len, WaitOptions options) {
  OpSpec spec = io_spec(OpKind::kRecv, fd_.get(), buf, len);
  co_return to_size(co_await async_perform(spec, options));
}

Result<size_t> TcpStream::read_exact(void* buf, size_t len, const WaitOptions& options) {
  size_t done = 0;
  while (done < len) {
    Result<size_t> r = read(static_cast<char*>(buf) + done, len - done, options);
    if (!r) return r.error();
    if (*r == 0) return Errc::kEndOfStream;
    done += *r;
  }
  return done;
}

core::Task<Result<size_t>> TcpStream::async_read_exact(void* buf, size_t len, WaitOptions options) {
  size_t done = 0;
  while (done < len) {
    Result<size_t> r = co_await async_read(static_cast<char*>(buf) + done, len - done, options);
    if (!r) co_return r.error();
    if (*r == 0) co_return Errc::kEndOfStream;
    done += *r;
  }
  co_return done;
}

Result<size_t> TcpStream::write(const void* buf, size_t len, const WaitOptions& options) {
  return to_size(perform(io_spec(OpKind::kSend, fd_.get(), buf, len), options));
}

core::Task<Result<size_t>> TcpStream::async_write(const void* buf, size_t len, WaitOptions options) {
  OpSpec spec = io_spec(OpKind::kSend, fd_.get(), buf, len);
  co_return to_size(co_await async_perform(spec, options));
}

Result<size_t> TcpStream::write_all(const void* buf, size_t len, const WaitOptions& options) {
  size_t done = 0;
  while (done < len) {
    Result<size_t> r = write(static_cast<const char*>(buf) + done, len - done, options);
    if (!r) return r.error();
    done += *r;
  }
  return done;
}

core::Task<Result<size_t>> TcpStream::async_write_all(const void* buf, size_t len, WaitOptions options) {
  size_t done = 0;
  while (done < len) {
    Result<size_t> r = co_await async_write(static_cast<const char*>(buf) + done, len - done, options);
    if (!r) co_return r.error();
    done += *r;
  }
  co_return done;
}

std::error_code TcpStream::shutdown(int how) {
  return ::shutdown(fd_.get(), how) == 0 ? std::error_code{} : detail::last_error();
}

std::error_code TcpStream::set_nodelay(bool on) {
  int v = on ? 1 : 0;
  return ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) == 0 ? std::error_code{}
                                                                              : detail::last_error();
}

std::error_code TcpStream::close() {
  // Ends any read or write still parked on this socket in another task (an
  // io_uring request holds its own reference to the socket, so a bare close
  // would leave it waiting).
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
  return fd_.close();
}

Result<SocketAddress> TcpStream::local_address() const { return detail::socket_name(fd_.get(), false); }
Result<SocketAddress> TcpStream::peer_address() const { return detail::socket_name(fd_.get(), true); }

// ------------------------------------------------------------------ listener

namespace detail {
// What a listener's calls share: the socket is closed when the last of
// them lets go (TcpListener::close() only drops the listener's own share).
struct ListenerState {
  explicit ListenerState(Fd f) : fd(std::move(f)) {}
  Fd fd;
  std::shared_ptr<AcceptQueue> queue;  // multishot accept, when enabled
  // Set before the socket is shut down: whatever error a waiting accept
  // then sees (EINVAL from the kernel, EBADF), it reports the close.
  std::atomic<bool> closed{false};
};
}  // namespace detail

Result<TcpListener> TcpListener::bind(const SocketAddress& at, const ListenOptions& options) {
  Result<detail::Fd> fd = detail::open_socket(at.family(), SOCK_STREAM);
  if (!fd) return fd.error();
  int one = 1;
  if (::setsockopt(fd->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) return detail::last_error();
  if (options.reuse_port && ::setsockopt(fd->get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
    return detail::last_error();
  if (::bind(fd->get(), at.data(), at.size()) < 0) return detail::last_error();
  if (::listen(fd->get(), options.backlog) < 0) return detail::last_error();
  auto state = std::make_shared<detail::ListenerState>(std::move(*fd));
  if (options.multishot_accept && detail::AcceptQueue::kernel_supports())
    state->queue = std::make_shared<detail::AcceptQueue>(state->fd.get());
  return TcpListener(std::move(state));
}

TcpListener::TcpListener(TcpListener&& o) noexcept : state_(o.take_state()) {}

TcpListener& TcpListener::operator=(TcpListener&& o) noexcept {
  if (this != &o) {
    close();
    std::shared_ptr<detail::ListenerState> taken = o.take_state();
    std::lock_guard lock(mu_);
    state_ = std::move(taken);
  }
  return *this;
}

std::shared_ptr<detail::ListenerState> TcpListener::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::shared_ptr<detail::ListenerState> TcpListener::take_state() {
  std::lock_guard lock(mu_);
  return std::move(state_);
}

TcpListener::~TcpListener() { close(); }

std::error_code TcpListener::close() {
  std::shared_ptr<detail::ListenerState> st = take_state();
  if (!st) return {};  // closed already, as TcpStream::close
  // The multishot request holds its own reference to the socket, and so
  // does a single accept in flight in a ring: shutting the socket down ends
  // both now (and frees an ephemeral port), rather than when the ring next
  // looks.
  st->closed.store(true, std::memory_order_release);  // pairs with closed_error()'s acquire
  if (st->queue) st->queue->close();
  ::shutdown(st->fd.get(), SHUT_RDWR);
  return {};  // the descriptor goes with the last reference to `st`
}

int TcpListener::native_handle() const {
  std::shared_ptr<detail::ListenerState> st = state();
  return st ? st->fd.get() : -1;
}

std::size_t TcpListener::queued_connections() const {
  std::shared_ptr<detail::ListenerState> st = state();
  return st && st->queue ? st->queue->queued() : 0;
}

namespace {

std::optional<TcpStream> take_queued(detail::ListenerState& st) {
  if (!st.queue) return std::nullopt;
  std::optional<int> fd = st.queue->try_take();
  if (!fd) return std::nullopt;
  return TcpStream(detail::Fd(*fd));
}

bool use_multishot(const detail::ListenerState& st) { return st.queue && detail::on_uring_worker(); }

// An accept that failed because the listener was closed meanwhile says so,
// under every reactor.
std::error_code closed_error(const detail::ListenerState& st, std::error_code ec) {
  return st.closed.load(std::memory_order_acquire) ? std::make_error_code(std::errc::bad_file_descriptor) : ec;
}

enum class AcceptNext { kReturn, kAgain, kBackOff };

// What an accept attempt's error means (accept_queue.h, step 4; a peer that
// gave up in the backlog is ECONNABORTED).
AcceptNext after_error(const std::error_code& ec) {
  if (ec == std::errc::connection_aborted || ec == std::errc::resource_unavailable_try_again)
    return AcceptNext::kAgain;
  return detail::is_resource_shortage(ec) ? AcceptNext::kBackOff : AcceptNext::kReturn;
}

}  // namespace

// One attempt: through the multishot queue on an io_uring worker, else one
// accept (after any connection the queue already holds: a plain thread or
// an epoll worker must not leave those stranded).
Result<TcpStream> TcpListener::accept(const WaitOptions& options) {
  std::shared_ptr<detail::ListenerState> st = state();
  if (!st) return std::make_error_code(std::errc::bad_file_descriptor);
  std::chrono::milliseconds backoff{1};
  for (;;) {
    if (std::optional<TcpStream> s = take_queued(*st)) return std::move(*s);
    Result<int> r = use_multishot(*st) ? detail::perform_from(*st->queue, options)
                                       : perform(accept_spec(st->fd.get()), options);
    if (r) return TcpStream(detail::Fd(*r));
    const std::error_code ec = closed_error(*st, r.error());
    AcceptNext next = after_error(ec);
    if (next == AcceptNext::kReturn) return ec;
    if (next == AcceptNext::kAgain) continue;
    if (std::error_code paused = detail::pause(backoff, options)) return paused;
    backoff = next_backoff(backoff);
  }
}

core::Task<Result<TcpStream>> TcpListener::async_accept(WaitOptions options) {
  std::shared_ptr<detail::ListenerState> st = state();
  if (!st) co_return std::make_error_code(std::errc::bad_file_descriptor);
  std::chrono::milliseconds backoff{1};
  for (;;) {
    if (std::optional<TcpStream> s = take_queued(*st)) co_return std::move(*s);
    Result<int> r = Errc::kCancelled;
    if (use_multishot(*st)) {
      r = co_await detail::async_perform_from(*st->queue, options);
    } else {
      OpSpec spec = accept_spec(st->fd.get());
      r = co_await async_perform(spec, options);
    }
    if (r) co_return TcpStream(detail::Fd(*r));
    const std::error_code ec = closed_error(*st, r.error());
    AcceptNext next = after_error(ec);
    if (next == AcceptNext::kReturn) co_return ec;
    if (next == AcceptNext::kAgain) continue;
    if (std::error_code paused = co_await detail::async_pause(backoff, options)) co_return paused;
    backoff = next_backoff(backoff);
  }
}

Result<SocketAddress> TcpListener::local_address() const {
  std::shared_ptr<detail::ListenerState> st = state();
  if (!st) return std::make_error_code(std::errc::bad_file_descriptor);
  return detail::socket_name(st->fd.get(), false);
}

}  // namespace weft::io
