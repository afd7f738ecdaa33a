#include "examples/echo.h"

#include <signal.h>

namespace weft::examples {

namespace {

// Coroutines: each read and write is a co_await; the worker runs other
// connections meanwhile.
Task<void> echo_connection(io::TcpStream s) {
  s.set_nodelay(true);
  char buf[16384];
  for (;;) {
    auto n = co_await s.async_read(buf, sizeof buf);
    if (!n || *n == 0) co_return;  // error or end of stream: drop the connection
    if (!co_await s.async_write_all(buf, *n)) co_return;
  }
}

Task<void> accept_coroutines(io::TcpListener* listener) {
  for (;;) {
    auto s = co_await listener->async_accept();
    if (!s) co_return;  // the listener was closed
    spawn(echo_connection(std::move(*s))).detach();
  }
}

// Fibers: the same loop in plain blocking style; read() parks the fiber.
void echo_connection_fiber(io::TcpStream s) {
  s.set_nodelay(true);
  char buf[16384];
  for (;;) {
    auto n = s.read(buf, sizeof buf);
    if (!n || *n == 0) return;
    if (!s.write_all(buf, *n)) return;
  }
}

void accept_fibers(io::TcpListener* listener) {
  for (;;) {
    auto s = listener->accept();
    if (!s) return;
    spawn_fiber([s = std::move(*s)]() mutable { echo_connection_fiber(std::move(s)); }).detach();
  }
}

}  // namespace

JoinHandle<void> serve_echo(Runtime& rt, io::TcpListener& listener, TaskKind kind) {
  if (kind == TaskKind::kFiber) return rt.spawn_fiber([&listener] { accept_fibers(&listener); });
  return rt.spawn(accept_coroutines(&listener));
}

namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}
}  // namespace

void block_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal() {
  sigset_t set = stop_signals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace weft::examples
