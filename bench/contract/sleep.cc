// sleep <workers> [tasks]: 100,000 tasks each sleep 10 ms once; value = wall
// ms from the first spawn to the last join (contract.h). The floor is 10 ms
// plus the cost of spawning and waking them all.
#include <cstdio>
#include <vector>

#include "bench/contract/contract.h"
#include "weft/weft.h"

namespace {

using namespace std::chrono_literals;

weft::Task<void> sleeper() { co_await weft::sleep_for(10ms); }

}  // namespace

int main(int argc, char** argv) {
  weft::bench::Args args = weft::bench::parse_args(argc, argv, "sleep", 100000);
  weft::Runtime rt{weft::Config{.workers = args.workers}};
  double spawn_ms = 0;  // how much of the value the spawning took (extra field)
  double ms = rt.block_on([&] {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<weft::JoinHandle<void>> hs;
    hs.reserve(args.size);
    for (uint64_t i = 0; i < args.size; ++i) {
      if (args.kind == weft::bench::Kind::kFiber) {
        hs.push_back(weft::spawn_fiber([] { weft::sleep_for(10ms); }));
      } else {
        hs.push_back(weft::spawn(sleeper()));
      }
    }
    spawn_ms = weft::bench::ms_since(t0);
    for (auto& h : hs) h.join();
    return weft::bench::ms_since(t0);
  });
  std::printf("name=sleep impl=weft-%s workers=%zu value=%.2f unit=ms tasks=%llu spawn_ms=%.2f\n",
              args.kind_name(), args.workers, ms, static_cast<unsigned long long>(args.size), spawn_ms);
  return 0;
}
