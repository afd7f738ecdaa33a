// echo_server <port> <workers>: listens on 127.0.0.1:<port>, echoes every
// byte on every connection (TCP_NODELAY), WEFT_TASK=coroutine|fiber picks
// the task kind, and runs until SIGTERM, then exits 0. It prints nothing on
// stdout: the load generator (bench/echo_load.cc) measures it.
#include <cstdio>
#include <cstdlib>

#include "bench/contract/contract.h"
#include "examples/echo.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fputs("usage: echo_server <port> <workers>\n", stderr);
    return 2;
  }
  char* end = nullptr;
  long port = std::strtol(argv[1], &end, 10);
  if (*end || port < 1 || port > 65535) {
    std::fprintf(stderr, "echo_server: port must be 1..65535, got '%s'\n", argv[1]);
    return 2;
  }
  char* wargv[] = {argv[0], argv[2], nullptr};
  weft::bench::Args args = weft::bench::parse_args(2, wargv, "echo_server", 0);
  weft::examples::block_stop_signals();
  auto listener = weft::io::TcpListener::bind(weft::io::SocketAddress::loopback(uint16_t(port)));
  if (!listener) {
    std::fprintf(stderr, "echo_server: %s\n", listener.error().message().c_str());
    return 1;
  }
  weft::Runtime rt{weft::Config{.workers = args.workers, .shutdown = weft::ShutdownPolicy::kCancel}};
  auto kind = args.kind == weft::bench::Kind::kFiber ? weft::examples::TaskKind::kFiber
                                                     : weft::examples::TaskKind::kCoroutine;
  auto server = weft::examples::serve_echo(rt, *listener, kind);
  weft::examples::wait_for_stop_signal();
  return 0;
}
