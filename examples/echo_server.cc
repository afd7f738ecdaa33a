// A TCP echo server, as coroutines or as fibers:
//   bazel run //examples:echo_server -- --port 7000 --workers 2 --task fiber
// then, in another terminal:  nc 127.0.0.1 7000   (type; each line comes back)
// Stops on Ctrl-C or SIGTERM: the runtime cancels the tasks still waiting.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "examples/echo.h"

namespace {

int usage() {
  std::fputs("usage: echo_server [--port N] [--workers N] [--task coroutine|fiber]\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  long port = 7000, workers = 2;
  auto kind = weft::examples::TaskKind::kCoroutine;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) return usage();
    std::string_view v = argv[++i];
    char* end = nullptr;
    if (a == "--port") {
      port = std::strtol(v.data(), &end, 10);
      if (*end || port < 0 || port > 65535) return usage();
    } else if (a == "--workers") {
      workers = std::strtol(v.data(), &end, 10);
      if (*end || workers < 1 || workers > 1024) return usage();
    } else if (a == "--task" && (v == "coroutine" || v == "fiber")) {
      kind = v == "fiber" ? weft::examples::TaskKind::kFiber : weft::examples::TaskKind::kCoroutine;
    } else {
      return usage();
    }
  }
  weft::examples::block_stop_signals();
  auto listener = weft::io::TcpListener::bind(weft::io::SocketAddress::loopback(uint16_t(port)));
  if (!listener) {
    std::fprintf(stderr, "echo_server: cannot listen on port %ld: %s\n", port, listener.error().message().c_str());
    return 1;
  }
  weft::Runtime rt{weft::Config{.workers = std::size_t(workers), .shutdown = weft::ShutdownPolicy::kCancel}};
  auto server = weft::examples::serve_echo(rt, *listener, kind);
  std::fprintf(stderr, "echo_server: listening on %s with %ld workers (%s, %s)\n",
               listener->local_address()->to_string().c_str(), workers,
               kind == weft::examples::TaskKind::kFiber ? "fibers" : "coroutines",
               weft::io::to_string(weft::io::resolve_backend(weft::IoBackend::kAuto)));
  weft::examples::wait_for_stop_signal();
  std::fputs("echo_server: stopping\n", stderr);
  return 0;  // ~Runtime cancels the accept loop and every connection
}
