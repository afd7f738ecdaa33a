// pingpong <workers> [round trips]: two tasks pass a token through two 1-slot
// channels. value = ns per round trip.
#include "bench/contract/contract.h"
#include "weft/weft.h"

namespace {

weft::Task<uint64_t> ponger(weft::Channel<uint64_t>* ping, weft::Channel<uint64_t>* pong, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    weft::Result<uint64_t> v = co_await ping->async_recv();
    if (!v || co_await pong->async_send(*v + 1)) co_return 0;
  }
  co_return n;
}

weft::Task<uint64_t> pinger(weft::Channel<uint64_t>* ping, weft::Channel<uint64_t>* pong, uint64_t n) {
  uint64_t token = 0;
  for (uint64_t i = 0; i < n; ++i) {
    if (co_await ping->async_send(uint64_t(token))) co_return 0;
    weft::Result<uint64_t> v = co_await pong->async_recv();
    if (!v) co_return 0;
    token = *v;
  }
  co_return token;
}

uint64_t run_coroutines(weft::Runtime& rt, uint64_t n) {
  weft::Channel<uint64_t> ping(1), pong(1);
  auto a = rt.spawn(ponger(&ping, &pong, n));
  auto b = rt.spawn(pinger(&ping, &pong, n));
  uint64_t token = b.join();
  return a.join() == n ? token : 0;
}

uint64_t run_fibers(weft::Runtime& rt, uint64_t n) {
  weft::Channel<uint64_t> ping(1), pong(1);
  auto a = rt.spawn_fiber([&] {
    for (uint64_t i = 0; i < n; ++i) {
      weft::Result<uint64_t> v = ping.recv();
      if (!v || pong.send(*v + 1)) return uint64_t(0);
    }
    return n;
  });
  auto b = rt.spawn_fiber([&] {
    uint64_t token = 0;
    for (uint64_t i = 0; i < n; ++i) {
      if (ping.send(uint64_t(token))) return uint64_t(0);
      token = *pong.recv();
    }
    return token;
  });
  uint64_t token = b.join();
  return a.join() == n ? token : 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = weft::bench::parse_args(argc, argv, "pingpong", 1'000'000);
  weft::Config config;
  config.workers = args.workers;
  weft::Runtime rt{config};
  const bool fibers = args.kind == weft::bench::Kind::kFiber;
  (void)(fibers ? run_fibers(rt, 1000) : run_coroutines(rt, 1000));  // warm up
  auto t0 = std::chrono::steady_clock::now();
  uint64_t token = fibers ? run_fibers(rt, args.size) : run_coroutines(rt, args.size);
  double ms = weft::bench::ms_since(t0);
  if (token != args.size) {
    std::fprintf(stderr, "pingpong: wrong result %llu\n", (unsigned long long)token);
    return 1;
  }
  std::printf("name=pingpong impl=weft-%s workers=%zu value=%.1f unit=ns/roundtrip roundtrips=%llu\n",
              args.kind_name(), args.workers, ms * 1e6 / double(args.size), (unsigned long long)args.size);
  return 0;
}
