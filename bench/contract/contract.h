// The contract every comparison binary follows (issue: M:N scheduler):
//   1. argv[1] = worker threads; optional argv[2] = a smaller size.
//   2. stdout is exactly one line:
//        name=<bench> impl=weft-<kind> workers=<n> value=<number> unit=<unit>
//      optionally followed by more key=value fields; all else goes to stderr.
//   3. Only the workload is timed. A wrong result exits non-zero; exit 3
//      means "this configuration is not supported".
// WEFT_TASK=coroutine|fiber picks the task kind (default coroutine).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

namespace weft::bench {

enum class Kind { kCoroutine, kFiber };

struct Args {
  std::size_t workers = 1;
  uint64_t size = 0;
  Kind kind = Kind::kCoroutine;
  const char* kind_name() const { return kind == Kind::kFiber ? "fiber" : "coroutine"; }
};

inline Args parse_args(int argc, char** argv, const char* name, uint64_t standard_size) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s <workers> [size]\n", name);
    std::exit(2);
  }
  Args a;
  char* end = nullptr;
  long w = std::strtol(argv[1], &end, 10);
  if (*end != '\0' || w < 1 || w > 4096) {
    std::fprintf(stderr, "%s: workers must be 1..4096, got '%s'\n", name, argv[1]);
    std::exit(2);
  }
  a.workers = static_cast<std::size_t>(w);
  a.size = standard_size;
  if (argc == 3) {
    unsigned long long s = std::strtoull(argv[2], &end, 10);
    if (*end != '\0' || s == 0) {
      std::fprintf(stderr, "%s: size must be a positive integer, got '%s'\n", name, argv[2]);
      std::exit(2);
    }
    a.size = s;
  }
  const char* kind = std::getenv("WEFT_TASK");
  std::string_view k = kind ? kind : "coroutine";
  if (k == "fiber") {
    a.kind = Kind::kFiber;
  } else if (k != "coroutine") {
    std::fprintf(stderr, "%s: WEFT_TASK must be coroutine or fiber, got '%s'\n", name, kind);
    std::exit(3);
  }
  return a;
}

// Exit 3: the machine refused resources this size needs (typically fiber
// stacks: each is two memory mappings, and vm.max_map_count caps them).
inline int unsupported(const char* name, const std::system_error& e) {
  std::fprintf(stderr, "%s: not supported at this size here: %s (fiber stacks are two mappings each; see "
               "vm.max_map_count)\n", name, e.what());
  return 3;
}

inline double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace weft::bench
