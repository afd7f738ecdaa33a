// The weft models: the same workloads as coroutines and as fibers, on
// `workers` worker threads (1: an event loop; N: work-stealing).
#include <atomic>
#include <vector>

#include "bench/suite/cell.h"
#include "examples/echo.h"
#include "weft/weft.h"

namespace weft::suite {

namespace {

using namespace std::chrono_literals;

bool fibers(const Cell& c) { return c.model == Model::kFiber; }

// ------------------------------------------------------------ spawn

Task<void> wait_at(Event* gate, std::atomic<uint64_t>* arrived) {
  arrived->fetch_add(1, std::memory_order_relaxed);
  co_await gate->async_wait();
}

bool spawn_units(Runtime& rt, const Cell& c) {
  return rt.block_on([&] {
    Event gate;
    std::atomic<uint64_t> arrived{0};
    std::vector<JoinHandle<void>> hs;
    hs.reserve(c.size);
    for (uint64_t i = 0; i < c.size; ++i) {
      if (fibers(c)) {
        hs.push_back(spawn_fiber([&gate, &arrived] {
          arrived.fetch_add(1, std::memory_order_relaxed);
          gate.wait();
        }));
      } else {
        hs.push_back(spawn(wait_at(&gate, &arrived)));
      }
    }
    // Every unit alive at once (a fiber has its stack once it has run).
    while (arrived.load(std::memory_order_relaxed) < c.size) yield_now();
    if (c.at_peak) c.at_peak();
    gate.set();
    for (auto& h : hs) h.join();
    return true;
  });
}

// ------------------------------------------------------------ ping-pong

Task<bool> pong_coro(Channel<uint64_t>* ping, Channel<uint64_t>* pong, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    Result<uint64_t> v = co_await ping->async_recv();
    if (!v || co_await pong->async_send(*v + 1)) co_return false;
  }
  co_return true;
}

Task<bool> ping_coro(Channel<uint64_t>* ping, Channel<uint64_t>* pong, uint64_t n) {
  uint64_t token = 0;
  for (uint64_t i = 0; i < n; ++i) {
    if (co_await ping->async_send(uint64_t(token))) co_return false;
    Result<uint64_t> v = co_await pong->async_recv();
    if (!v || *v != token + 1) co_return false;
    token = *v;
  }
  co_return true;
}

bool pingpong(Runtime& rt, const Cell& c) {
  Channel<uint64_t> ping(1), pong(1);
  if (!fibers(c)) {
    auto a = rt.spawn(pong_coro(&ping, &pong, c.size));
    auto b = rt.spawn(ping_coro(&ping, &pong, c.size));
    return b.join() && a.join();
  }
  auto a = rt.spawn_fiber([&] {
    for (uint64_t i = 0; i < c.size; ++i) {
      Result<uint64_t> v = ping.recv();
      if (!v || pong.send(*v + 1)) return false;
    }
    return true;
  });
  auto b = rt.spawn_fiber([&] {
    for (uint64_t i = 0; i < c.size; ++i) {
      if (ping.send(uint64_t(i))) return false;
      Result<uint64_t> v = pong.recv();
      if (!v || *v != i + 1) return false;
    }
    return true;
  });
  return b.join() && a.join();
}

// ------------------------------------------------------------ sleep, cpu

Task<void> sleeper() { co_await sleep_for(kSleep); }
Task<uint64_t> fib_task() { co_return fib(kFibN); }

bool sleep_units(Runtime& rt, const Cell& c) {
  return rt.block_on([&] {
    std::vector<JoinHandle<void>> hs;
    hs.reserve(c.size);
    for (uint64_t i = 0; i < c.size; ++i)
      hs.push_back(fibers(c) ? spawn_fiber([] { sleep_for(kSleep); }) : spawn(sleeper()));
    for (auto& h : hs) h.join();
    return true;
  });
}

bool cpu_units(Runtime& rt, const Cell& c) {
  uint64_t sum = rt.block_on([&] {
    std::vector<JoinHandle<uint64_t>> hs;
    hs.reserve(c.size);
    for (uint64_t i = 0; i < c.size; ++i)
      hs.push_back(fibers(c) ? spawn_fiber([] { return fib(kFibN); }) : spawn(fib_task()));
    uint64_t s = 0;
    for (auto& h : hs) s += h.join();
    return s;
  });
  return sum == c.size * fib(kFibN);
}

// ------------------------------------------------------------ echo

bool echo(Runtime& rt, const Cell& c) {
  auto listener = io::TcpListener::bind(io::SocketAddress::loopback(0));
  if (!listener) return false;
  auto server = examples::serve_echo(rt, *listener, fibers(c) ? examples::TaskKind::kFiber
                                                              : examples::TaskKind::kCoroutine);
  bool ok = run_echo_client(listener->local_address()->port(), kEchoConnections, c.size);
  server.cancel();
  try {
    server.join();
  } catch (const TaskCancelled&) {
  }
  return ok;
}

}  // namespace

bool run_weft(const Cell& c) {
  Config config;
  config.workers = c.workers;
  config.shutdown = ShutdownPolicy::kCancel;  // the echo connections' tasks
  Runtime rt{config};
  switch (c.workload) {
    case Workload::kSpawn: return spawn_units(rt, c);
    case Workload::kPingPong: return pingpong(rt, c);
    case Workload::kSleep: return sleep_units(rt, c);
    case Workload::kCpu: return cpu_units(rt, c);
    case Workload::kEcho: return echo(rt, c);
  }
  return false;
}

}  // namespace weft::suite
