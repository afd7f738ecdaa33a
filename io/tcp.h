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
#include <memory>
#include <mutex>

#include "io/address.h"
#include "io/detail/fd.h"
#include "runtime/core/coroutine.h"
#include "runtime/core/result.h"
#include "runtime/core/wait_options.h"

namespace weft::io {

namespace detail {
struct ListenerState;
}

class TcpStream {
 public:
  TcpStream() = default;
  explicit TcpStream(detail::Fd fd) : fd_(std::move(fd)) {}

  static Result<TcpStream> connect(const SocketAddress& to, const WaitOptions& options = kWaitForever);
  static core::Task<Result<TcpStream>> async_connect(SocketAddress to, WaitOptions options = {});

  // Up to `len` bytes; 0 means end of stream.
  Result<size_t> read(void* buf, size_t len, const WaitOptions& options = kWaitForever);
  core::Task<Result<size_t>> async_read(void* buf, size_t len, WaitOptions options = {});
  // Exactly `len` bytes, or Errc::kEndOfStream if the peer closes first.
  Result<size_t> read_exact(void* buf, size_t len, const WaitOptions& options = kWaitForever);
  core::Task<Result<size_t>> async_read_exact(void* buf, size_t len, WaitOptions options = {});
  // One send; may be short.
  Result<size_t> write(const void* buf, size_t len, const WaitOptions& options = kWaitForever);
  core::Task<Result<size_t>> async_write(const void* buf, size_t len, WaitOptions options = {});
  // All `len` bytes, across short writes. On error, nothing says how much
  // went: the connection is no longer usable for framed data.
  Result<size_t> write_all(const void* buf, size_t len, const WaitOptions& options = kWaitForever);
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
  // Under io_uring (Linux 5.19+), tasks accept through one multishot
  // request that stays armed and queues up to 64 connections
  // (io/detail/accept_queue.h); false: one accept request per call.
  bool multishot_accept = true;
};

// close() may come from any thread while tasks wait in accept() (a server
// shutting down): they end at once, and the descriptor is released when
// the last call using it has returned.
class TcpListener {
 public:
  TcpListener() = default;
  TcpListener(TcpListener&& o) noexcept;
  TcpListener& operator=(TcpListener&& o) noexcept;
  ~TcpListener();

  // With SO_REUSEADDR. Port 0 picks a free port (see local_address()).
  static Result<TcpListener> bind(const SocketAddress& at, const ListenOptions& options = {});

  // Out of file descriptors (EMFILE, ENFILE), accept backs off (1 ms doubling
  // to 100 ms) and tries again, so existing connections keep being served
  // and nothing spins; the options' deadline still ends the wait. On a
  // closed listener: std::errc::bad_file_descriptor.
  Result<TcpStream> accept(const WaitOptions& options = kWaitForever);
  core::Task<Result<TcpStream>> async_accept(WaitOptions options = {});

  Result<SocketAddress> local_address() const;
  // Stops listening at once: accepts waiting in other tasks end with
  // std::errc::bad_file_descriptor, and connections accepted but not yet
  // taken are closed.
  std::error_code close();
  int native_handle() const;  // -1 once closed
  // Connections a multishot request has accepted that no task has taken
  // yet (tests and diagnostics); 0 without one.
  std::size_t queued_connections() const;

 private:
  explicit TcpListener(std::shared_ptr<detail::ListenerState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::ListenerState> state() const;
  std::shared_ptr<detail::ListenerState> take_state();
  // Null once closed; each call holds its own reference while it runs. A
  // mutex rather than std::atomic<std::shared_ptr>: libstdc++ 12's unlocks
  // it with relaxed order after a load, which ThreadSanitizer reports.
  mutable std::mutex mu_;
  std::shared_ptr<detail::ListenerState> state_;
};

}  // namespace weft::io
