// TCP for fibers, coroutines and plain threads. Every call comes in two
// forms: `stream.read(buf, n)` blocks a fiber or thread; a coroutine writes
// `co_await stream.async_read(buf, n)`. Both take WaitOptions (a deadline and
// a stop token) and return weft::Result / std::error_code, never throw for
// an I/O error:
//   - read() returning 0 is end of stream (the peer shut down its side);
//   - a reset is std::errc::connection_reset, a write to a closed peer
//     std::errc::broken_pipe (never SIGPIPE);
//   - a deadline or stop token gives weft::Errc::kTimedOut / kCancelled, and
//     nothing the kernel completed is lost.
#pragma once

#include <sys/socket.h>

#include <cstddef>

#include "io/address.h"
#include "io/detail/fd.h"
#include "runtime/core/coroutine.h"
#include "runtime/core/result.h"
#include "runtime/core/wait_options.h"

namespace weft::io {

class TcpStream {
 public:
  TcpStream() = default;
  explicit TcpStream(detail::Fd fd) : fd_(std::move(fd)) {}

  static Result<TcpStream> connect(const SocketAddress& to, const WaitOptions& options = {});
  static core::Task<Result<TcpStream>> async_connect(SocketAddress to, WaitOptions options = {});

  // Up to `len` bytes; 0 means end of stream.
  Result<size_t> read(void* buf, size_t len, const WaitOptions& options = {});
  core::Task<Result<size_t>> async_read(void* buf, size_t len, WaitOptions options = {});
  // Exactly `len` bytes, or Errc::kEndOfStream if the peer closes first.
  Result<size_t> read_exact(void* buf, size_t len, const WaitOptions& options = {});
  core::Task<Result<size_t>> async_read_exact(void* buf, size_t len, WaitOptions options = {});
  // One send; may be short.
  Result<size_t> write(const void* buf, size_t len, const WaitOptions& options = {});
  core::Task<Result<size_t>> async_write(const void* buf, size_t len, WaitOptions options = {});
  // All `len` bytes, across short writes. On error, nothing says how much
  // went: the connection is no longer usable for framed data.
  Result<size_t> write_all(const void* buf, size_t len, const WaitOptions& options = {});
  core::Task<Result<size_t>> async_write_all(const void* buf, size_t len, WaitOptions options = {});

  std::error_code shutdown(int how = SHUT_WR);  // SHUT_RD, SHUT_WR, SHUT_RDWR
  std::error_code set_nodelay(bool on);
  std::error_code close();

  Result<SocketAddress> local_address() const;
  Result<SocketAddress> peer_address() const;
  int native_handle() const { return fd_.get(); }
  bool is_open() const { return fd_.valid(); }

 private:
  detail::Fd fd_;
};

struct ListenOptions {
  int backlog = 1024;
  bool reuse_port = false;  // SO_REUSEPORT: several listeners share the port
};

class TcpListener {
 public:
  TcpListener() = default;

  // With SO_REUSEADDR. Port 0 picks a free port (see local_address()).
  static Result<TcpListener> bind(const SocketAddress& at, const ListenOptions& options = {});

  // Out of file descriptors (EMFILE, ENFILE), accept backs off (1 ms doubling
  // to 100 ms) and tries again, so existing connections keep being served
  // and nothing spins; the options' deadline still ends the wait.
  Result<TcpStream> accept(const WaitOptions& options = {});
  core::Task<Result<TcpStream>> async_accept(WaitOptions options = {});

  Result<SocketAddress> local_address() const;
  std::error_code close() { return fd_.close(); }
  int native_handle() const { return fd_.get(); }

 private:
  explicit TcpListener(detail::Fd fd) : fd_(std::move(fd)) {}
  detail::Fd fd_;
};

}  // namespace weft::io
