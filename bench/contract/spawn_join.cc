// spawn_join <workers> [tasks]: one task spawns N trivial tasks, then joins
// them all. value = ns per task.
#include <vector>

#include "bench/contract/contract.h"
#include "weft/weft.h"

namespace {

weft::Task<uint64_t> trivial(uint64_t i) { co_return i; }

weft::Task<uint64_t> spawn_all_coroutines(uint64_t n) {
  std::vector<weft::JoinHandle<uint64_t>> hs;
  hs.reserve(n);
  for (uint64_t i = 0; i < n; ++i) hs.push_back(weft::spawn(trivial(i)));
  uint64_t sum = 0;
  for (auto& h : hs) sum += co_await h;
  co_return sum;
}

uint64_t spawn_all_fibers(uint64_t n) {
  std::vector<weft::JoinHandle<uint64_t>> hs;
  hs.reserve(n);
  for (uint64_t i = 0; i < n; ++i) hs.push_back(weft::spawn_fiber([i] { return i; }));
  uint64_t sum = 0;
  for (auto& h : hs) sum += h.join();
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = weft::bench::parse_args(argc, argv, "spawn_join", 1'000'000);
  weft::Config config;
  config.workers = args.workers;
  weft::Runtime rt{config};
  rt.block_on([] { return 0; });
  const uint64_t n = args.size;
  auto t0 = std::chrono::steady_clock::now();
  uint64_t sum = 0;
  try {
    sum = args.kind == weft::bench::Kind::kFiber ? rt.block_on([n] { return spawn_all_fibers(n); })
                                                 : rt.block_on(spawn_all_coroutines(n));
  } catch (const std::system_error& e) {
    return weft::bench::unsupported("spawn_join", e);
  }
  double ms = weft::bench::ms_since(t0);
  if (sum != n * (n - 1) / 2) {
    std::fprintf(stderr, "spawn_join: wrong result\n");
    return 1;
  }
  std::printf("name=spawn_join impl=weft-%s workers=%zu value=%.1f unit=ns/task tasks=%llu\n", args.kind_name(),
              args.workers, ms * 1e6 / double(n), (unsigned long long)n);
  return 0;
}
