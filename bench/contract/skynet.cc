// skynet <workers> [leaves]: a 10-ary tree of tasks; each leaf returns its
// ordinal, each parent sums its ten children. value = wall ms.
#include <vector>

#include "bench/contract/contract.h"
#include "weft/weft.h"

namespace {

using weft::JoinHandle;
using weft::Task;

Task<uint64_t> skynet_coroutine(uint64_t num, uint64_t size) {
  if (size == 1) co_return num;
  JoinHandle<uint64_t> kids[10];
  for (uint64_t i = 0; i < 10; ++i) kids[i] = weft::spawn(skynet_coroutine(num + i * (size / 10), size / 10));
  uint64_t sum = 0;
  for (auto& k : kids) sum += co_await k;
  co_return sum;
}

uint64_t skynet_fiber(uint64_t num, uint64_t size) {
  if (size == 1) return num;
  JoinHandle<uint64_t> kids[10];
  for (uint64_t i = 0; i < 10; ++i) {
    uint64_t sub = num + i * (size / 10);
    kids[i] = weft::spawn_fiber([sub, size] { return skynet_fiber(sub, size / 10); });
  }
  uint64_t sum = 0;
  for (auto& k : kids) sum += k.join();
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = weft::bench::parse_args(argc, argv, "skynet", 1'000'000);
  uint64_t leaves = 1;
  while (leaves < args.size) leaves *= 10;
  if (leaves != args.size) {
    std::fprintf(stderr, "skynet: size must be a power of 10\n");
    return 2;
  }
  weft::Config config;
  config.workers = args.workers;
  weft::Runtime rt{config};
  rt.block_on([] { return 0; });  // workers started and warm
  auto t0 = std::chrono::steady_clock::now();
  uint64_t sum = 0;
  try {
    sum = args.kind == weft::bench::Kind::kFiber ? rt.block_on([&] { return skynet_fiber(0, leaves); })
                                                 : rt.block_on(skynet_coroutine(0, leaves));
  } catch (const std::system_error& e) {
    return weft::bench::unsupported("skynet", e);
  }
  double ms = weft::bench::ms_since(t0);
  const uint64_t want = leaves * (leaves - 1) / 2;
  if (sum != want) {
    std::fprintf(stderr, "skynet: wrong result %llu, want %llu\n", (unsigned long long)sum, (unsigned long long)want);
    return 1;
  }
  std::printf("name=skynet impl=weft-%s workers=%zu value=%.3f unit=ms leaves=%llu\n", args.kind_name(), args.workers,
              ms, (unsigned long long)leaves);
  return 0;
}
