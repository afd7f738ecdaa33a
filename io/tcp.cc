#include "io/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cerrno>

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

Result<TcpListener> TcpListener::bind(const SocketAddress& at, const ListenOptions& options) {
  Result<detail::Fd> fd = detail::open_socket(at.family(), SOCK_STREAM);
  if (!fd) return fd.error();
  int one = 1;
  if (::setsockopt(fd->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) return detail::last_error();
  if (options.reuse_port && ::setsockopt(fd->get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
    return detail::last_error();
  if (::bind(fd->get(), at.data(), at.size()) < 0) return detail::last_error();
  if (::listen(fd->get(), options.backlog) < 0) return detail::last_error();
  return TcpListener(std::move(*fd));
}

Result<TcpStream> TcpListener::accept(const WaitOptions& options) {
  std::chrono::milliseconds backoff{1};
  for (;;) {
    Result<int> r = perform(accept_spec(fd_.get()), options);
    if (r) return TcpStream(detail::Fd(*r));
    if (r.error() == std::errc::connection_aborted) continue;  // the peer gave up in the backlog
    if (!detail::is_resource_shortage(r.error())) return r.error();
    if (std::error_code ec = detail::pause(backoff, options)) return ec;
    backoff = next_backoff(backoff);
  }
}

core::Task<Result<TcpStream>> TcpListener::async_accept(WaitOptions options) {
  std::chrono::milliseconds backoff{1};
  for (;;) {
    OpSpec spec = accept_spec(fd_.get());
    Result<int> r = co_await async_perform(spec, options);
    if (r) co_return TcpStream(detail::Fd(*r));
    if (r.error() == std::errc::connection_aborted) continue;
    if (!detail::is_resource_shortage(r.error())) co_return r.error();
    if (std::error_code ec = co_await detail::async_pause(backoff, options)) co_return ec;
    backoff = next_backoff(backoff);
  }
}

Result<SocketAddress> TcpListener::local_address() const { return detail::socket_name(fd_.get(), false); }

}  // namespace weft::io
