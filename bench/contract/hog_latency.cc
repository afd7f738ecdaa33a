// hog_latency <workers> [hog_ms]: on each worker, one fiber spins on pure
// computation for hog_ms (standard 2000) while one task (WEFT_TASK kind)
// sleeps 1 ms in a loop and records how late each wake-up was. value = p99
// lateness in µs (contract.h), with p50_us, max_us and the preemption count.
// WEFT_PREEMPT=0 turns preemption off; WEFT_SLICE_US sets the time slice
// (default: the runtime's, 10 ms).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "bench/contract/contract.h"
#include "weft/weft.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Shared {
  std::atomic<std::size_t> sleepers_started{0};
  std::atomic<std::size_t> hogs_running{0};
};

// Kept out of line so the hog's loop is plain application code.
[[gnu::noinline]] uint64_t crunch(uint64_t x) {
  for (int i = 0; i < 10000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    asm volatile("" : "+r"(x));
  }
  return x;
}

uint64_t hog(Shared& s, std::size_t workers, Clock::duration d) {
  while (s.sleepers_started.load() < workers) weft::yield_now();
  uint64_t x = 88172645463325252ull;
  const auto until = Clock::now() + d;
  while (Clock::now() < until) x = crunch(x);
  s.hogs_running.fetch_sub(1);
  return x;
}

int64_t lateness_us(Clock::time_point before, Clock::time_point after) {
  return std::chrono::duration_cast<std::chrono::microseconds>(after - before - 1ms).count();
}

std::vector<int64_t> fiber_sleeper(Shared& s) {
  std::vector<int64_t> late;
  s.sleepers_started.fetch_add(1);
  while (s.hogs_running.load() > 0) {
    auto before = Clock::now();
    weft::sleep_for(1ms);
    late.push_back(lateness_us(before, Clock::now()));
  }
  return late;
}

weft::Task<std::vector<int64_t>> coroutine_sleeper(Shared* s) {
  std::vector<int64_t> late;
  s->sleepers_started.fetch_add(1);
  while (s->hogs_running.load() > 0) {
    auto before = Clock::now();
    co_await weft::sleep_for(1ms);
    late.push_back(lateness_us(before, Clock::now()));
  }
  co_return late;
}

weft::Config config_from_env(std::size_t workers) {
  weft::Config c;
  c.workers = workers;
  c.stall_threshold = 0ms;  // the hogs are intended: no stall reports
  if (const char* p = std::getenv("WEFT_PREEMPT"); p && std::string_view(p) == "0") c.time_slice = 0us;
  if (const char* us = std::getenv("WEFT_SLICE_US")) c.time_slice = std::chrono::microseconds(std::atoll(us));
  return c;
}

int64_t percentile(const std::vector<int64_t>& sorted, double p) {
  return sorted[std::min(sorted.size() - 1, std::size_t(p * double(sorted.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  weft::bench::Args args = weft::bench::parse_args(argc, argv, "hog_latency", 2000);
  weft::Config config = config_from_env(args.workers);
  weft::Runtime rt{config};
  Shared shared;
  shared.hogs_running = args.workers;
  std::vector<weft::JoinHandle<std::vector<int64_t>>> sleepers;
  std::vector<weft::JoinHandle<uint64_t>> hogs;
  for (uint32_t w = 0; w < args.workers; ++w) {
    weft::SpawnOptions on_w{.name = "sleeper", .worker = w};
    if (args.kind == weft::bench::Kind::kFiber) {
      sleepers.push_back(rt.spawn_fiber([&shared] { return fiber_sleeper(shared); }, on_w));
    } else {
      sleepers.push_back(rt.spawn(coroutine_sleeper(&shared), on_w));
    }
    const auto d = std::chrono::milliseconds(args.size);
    hogs.push_back(rt.spawn_fiber([&shared, &args, d] { return hog(shared, args.workers, d); },
                                  weft::SpawnOptions{.name = "hog", .worker = w}));
  }
  uint64_t check = 0;
  for (auto& h : hogs) check |= h.join();
  std::vector<int64_t> late;
  for (auto& s : sleepers) {
    std::vector<int64_t> v = s.join();
    late.insert(late.end(), v.begin(), v.end());
  }
  if (check == 0 || late.empty()) {
    std::fprintf(stderr, "hog_latency: no samples or no work done\n");
    return 1;
  }
  std::sort(late.begin(), late.end());
  std::printf("name=hog_latency impl=weft-%s workers=%zu value=%lld unit=us p50_us=%lld max_us=%lld "
              "preemptions=%llu samples=%zu slice_us=%lld\n",
              args.kind_name(), args.workers, (long long)percentile(late, 0.99), (long long)percentile(late, 0.5),
              (long long)late.back(), (unsigned long long)rt.preemptions(), late.size(),
              (long long)config.time_slice.count());
  return 0;
}
