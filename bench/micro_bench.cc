// Google Benchmark micro-benchmarks of weft's primitives, on one worker unless
// the name says otherwise. Run: ./dev bench --micro (or see README).
#include <benchmark/benchmark.h>

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/core/fiber.h"
#include "runtime/core/frame_allocator.h"
#include "runtime/core/waker.h"
#include "tests/support/baton.h"

#include "runtime/core/context.h"
#include "runtime/core/stack.h"
#include "scheduler/inject_queue.h"
#include "scheduler/preempt.h"
#include "scheduler/run_queue.h"
#include "scheduler/scheduler.h"
#include "scheduler/timer_queue.h"
#include "scheduler/worker.h"
#include "weft/io/detail/perform.h"
#include "weft/weft.h"

namespace weft {
namespace {

Config one_worker() {
  Config c;
  c.workers = 1;
  return c;
}

// A bare context switch pair: thread -> fiber context -> thread.
void BM_ContextSwitchRoundTrip(benchmark::State& state) {
  core::StackPool pool;
  core::Stack stack = pool.acquire();
  struct Ping {
    core::MachineContext main, fiber;
  } p;
  p.fiber.prepare(
      stack.lo, stack.size,
      [](void* arg) {
        auto* pp = static_cast<Ping*>(arg);
        for (;;) core::switch_context(pp->fiber, pp->main);
      },
      &p);
  for (auto _ : state) core::switch_context(p.main, p.fiber);
  pool.release(stack);  // the fiber is abandoned mid-loop: fine for a bench
}
BENCHMARK(BM_ContextSwitchRoundTrip);

// yield_now() in a fiber alone on its worker: nothing else is ready, so it
// goes on in place (scheduler/yield.h).
void BM_FiberYieldRoundTrip(benchmark::State& state) {
  Runtime rt{one_worker()};
  rt.block_on([&] {
    for (auto _ : state) yield_now();
  });
}
BENCHMARK(BM_FiberYieldRoundTrip)->UseRealTime();

// Two fibers taking turns, per round (each yields once): fiber -> worker ->
// run queue -> the other fiber and back, four context switches.
void BM_FiberYieldToAnother(benchmark::State& state) {
  Runtime rt{one_worker()};
  rt.block_on([&] {
    std::atomic<bool> done{false};
    auto other = spawn_fiber([&] {
      while (!done.load(std::memory_order_relaxed)) yield_now();
    });
    for (auto _ : state) yield_now();
    done = true;
    other.join();
  });
}
BENCHMARK(BM_FiberYieldToAnother)->UseRealTime();

Task<void> coroutine_yields(benchmark::State* state) {
  for (auto _ : *state) co_await yield_now();
}

void BM_CoroutineYieldRoundTrip(benchmark::State& state) {
  Runtime rt{one_worker()};
  rt.block_on(coroutine_yields(&state));
}
BENCHMARK(BM_CoroutineYieldRoundTrip)->UseRealTime();

Task<void> coroutine_yields_until(std::atomic<bool>* done) {
  while (!done->load(std::memory_order_relaxed)) co_await yield_now();
}

Task<void> coroutine_yields_beside_another(benchmark::State* state) {
  std::atomic<bool> done{false};
  auto other = spawn(coroutine_yields_until(&done));
  for (auto _ : *state) co_await yield_now();
  done = true;
  co_await other;
}

// Two coroutines taking turns, per round (each yields once).
void BM_CoroutineYieldToAnother(benchmark::State& state) {
  Runtime rt{one_worker()};
  rt.block_on(coroutine_yields_beside_another(&state));
}
BENCHMARK(BM_CoroutineYieldToAnother)->UseRealTime();

Task<int> trivial() { co_return 1; }

Task<void> sleeper() { co_await sleep_for(std::chrono::microseconds(100)); }

// Spawn N, then join N (the contract spawn_join shape), per task.
Task<void> coroutine_spawn_join(benchmark::State* state) {
  std::vector<JoinHandle<int>> hs;
  hs.reserve(1000);
  for (auto _ : *state) {
    hs.push_back(spawn(trivial()));
    if (hs.size() == 1000) {
      for (auto& h : hs) benchmark::DoNotOptimize(co_await h);
      hs.clear();
    }
  }
  for (auto& h : hs) co_await h;
}

void BM_CoroutineSpawnJoin(benchmark::State& state) {
  Runtime rt{one_worker()};
  rt.block_on(coroutine_spawn_join(&state));
}
BENCHMARK(BM_CoroutineSpawnJoin)->UseRealTime();

void BM_FiberSpawnJoin(benchmark::State& state) {
  Runtime rt{one_worker()};
  rt.block_on([&] {
    std::vector<JoinHandle<int>> hs;
    hs.reserve(1000);
    for (auto _ : state) {
      hs.push_back(spawn_fiber([] { return 1; }));
      if (hs.size() == 1000) {
        for (auto& h : hs) benchmark::DoNotOptimize(h.join());
        hs.clear();
      }
    }
    for (auto& h : hs) h.join();
  });
}
BENCHMARK(BM_FiberSpawnJoin)->UseRealTime();

// One at a time: spawn, then wait for it (two switches per task).
Task<void> coroutine_spawn_then_await(benchmark::State* state) {
  for (auto _ : *state) benchmark::DoNotOptimize(co_await spawn(trivial()));
}

void BM_CoroutineSpawnThenAwait(benchmark::State& state) {
  Runtime rt{one_worker()};
  rt.block_on(coroutine_spawn_then_await(&state));
}
BENCHMARK(BM_CoroutineSpawnThenAwait)->UseRealTime();

void BM_FiberSpawnThenJoin(benchmark::State& state) {
  Runtime rt{one_worker()};
  rt.block_on([&] {
    for (auto _ : state) benchmark::DoNotOptimize(spawn_fiber([] { return 1; }).join());
  });
}
BENCHMARK(BM_FiberSpawnThenJoin)->UseRealTime();

// Work-stealing: 2 workers, the spawner's queue is drained by the other.
void BM_SpawnJoinTwoWorkers(benchmark::State& state) {
  Config c;
  c.workers = 2;
  Runtime rt{c};
  rt.block_on(coroutine_spawn_join(&state));
}
BENCHMARK(BM_SpawnJoinTwoWorkers)->UseRealTime();

// Cross-worker wake cost against the spin-before-park setting: two fibers
// pinned to different workers hand a baton back and forth through Wakers, so
// every hand-off wakes the other worker. With spin 0 every wake is a futex
// wake of a sleeping thread; with enough spin the other worker is still
// looking when the baton arrives. Arg: spin in microseconds.
void BM_CrossWorkerHandoff(benchmark::State& state) {
  Config c;
  c.workers = 2;
  c.spin_before_park = std::chrono::microseconds(state.range(0));
  Runtime rt{c};
  for (auto _ : state) {
    state.PauseTiming();
    testing::Baton b;
    constexpr int64_t kRounds = 2000;
    state.ResumeTiming();
    // Spawned from outside the runtime: homes alternate, so pinning puts the
    // two fibers on different workers.
    auto x = rt.spawn_fiber([&] { testing::pass_baton(b, 0, kRounds); }, SpawnOptions{.name = "a", .pinned = true});
    auto y = rt.spawn_fiber([&] { testing::pass_baton(b, 1, kRounds); }, SpawnOptions{.name = "b", .pinned = true});
    x.join();
    y.join();
  }
  state.SetItemsProcessed(state.iterations() * 2 * 2000);
}
BENCHMARK(BM_CrossWorkerHandoff)->Arg(0)->Arg(5)->Arg(50)->Arg(200)->UseRealTime()->Unit(benchmark::kMillisecond);


// ---- sync primitives ----

void BM_MutexUncontended(benchmark::State& state) {
  Mutex m;
  for (auto _ : state) {
    m.lock();
    m.unlock();
  }
}
BENCHMARK(BM_MutexUncontended);

// Two fibers on two workers hammer one mutex; time per lock+unlock pair.
void BM_MutexContendedTwoWorkers(benchmark::State& state) {
  Config c;
  c.workers = 2;
  Runtime rt{c};
  Mutex m;
  int64_t counter = 0;
  constexpr int64_t kOps = 200000;
  for (auto _ : state) {
    auto a = rt.spawn_fiber([&] {
      for (int64_t i = 0; i < kOps; ++i) {
        m.lock();
        ++counter;
        m.unlock();
      }
    });
    auto b = rt.spawn_fiber([&] {
      for (int64_t i = 0; i < kOps; ++i) {
        m.lock();
        ++counter;
        m.unlock();
      }
    });
    a.join();
    b.join();
  }
  state.SetItemsProcessed(state.iterations() * 2 * kOps);
  benchmark::DoNotOptimize(counter);
}
BENCHMARK(BM_MutexContendedTwoWorkers)->UseRealTime()->Unit(benchmark::kMillisecond);

// send then recv on a buffered channel, one task, no parking.
void BM_ChannelSendRecv(benchmark::State& state) {
  Channel<int> ch(16);
  for (auto _ : state) {
    (void)ch.try_send(1);
    benchmark::DoNotOptimize(ch.try_recv());
  }
}
BENCHMARK(BM_ChannelSendRecv);

// select over 4 channels, one of which is ready.
void BM_SelectFourChannels(benchmark::State& state) {
  Channel<int> c0(1), c1(1), c2(1), c3(1);
  Channel<int>* chans[] = {&c0, &c1, &c2, &c3};
  uint64_t i = 0;
  for (auto _ : state) {
    (void)chans[i++ % 4]->try_send(1);
    Channel<int>::RecvCase r0(c0), r1(c1), r2(c2), r3(c3);
    benchmark::DoNotOptimize(select({&r0, &r1, &r2, &r3}));
  }
}
BENCHMARK(BM_SelectFourChannels);

// 10,000 timers added and fired on one worker, per timer.
void BM_TimerAddFire(benchmark::State& state) {
  Runtime rt{one_worker()};
  for (auto _ : state) {
    rt.block_on([] {
      std::vector<JoinHandle<void>> hs;
      hs.reserve(10000);
      for (int i = 0; i < 10000; ++i) hs.push_back(spawn(sleeper()));
      for (auto& h : hs) h.join();
    });
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_TimerAddFire)->UseRealTime()->Unit(benchmark::kMillisecond);

// One worker's timer structure alone: N timers added with deadlines in
// order (as sleepers that all sleep the same length do), then all fired; per
// timer. Arg 100000 is the contract `sleep` binary's count.
void BM_TimerQueueInOrder(benchmark::State& state) {
  const int64_t n = state.range(0);
  sched::TimerQueue q;
  std::vector<sched::TimerQueue::Timer> timers(static_cast<std::size_t>(n));
  for (auto _ : state) {
    const int64_t base = sched::TimerQueue::now_ns();
    for (int64_t i = 0; i < n; ++i) timers[static_cast<std::size_t>(i)] = q.add(base + i, core::Waker());
    benchmark::DoNotOptimize(q.fire_expired(base + n));
    for (auto& t : timers) t.cancel();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_TimerQueueInOrder)->Arg(10000)->Arg(100000);

// One steal of half a queue (RunQueue::Steal::steal_into), single-threaded:
// the victim is refilled with 128 tasks, the thief takes 64 and drains them.
// Time per stolen task.
struct FakeTask : core::TaskHeader {
  FakeTask() : core::TaskHeader(core::TaskKind::kCoroutine) {}
};

void BM_StealHalf(benchmark::State& state) {
  sched::RunQueue victim, thief;
  sched::InjectQueue inject;
  auto vl = victim.local();
  auto tl = thief.local();
  std::vector<FakeTask> tasks(128);
  uint64_t stolen = 0;
  for (auto _ : state) {
    for (auto& t : tasks) vl.push(&t, inject);
    core::TaskHeader* got = victim.steal().steal_into(tl);
    benchmark::DoNotOptimize(got);
    stolen += 1 + tl.len();
    while (tl.pop()) {
    }
    while (vl.pop()) {
    }
  }
  state.SetItemsProcessed(int64_t(stolen));
}
BENCHMARK(BM_StealHalf);

// Frames from fresh slabs, as a burst of spawns and then of joins uses them
// (the contract spawn_join): 1,000,000 frames of 168 bytes (a trivial
// coroutine task's), each written in full as a promise's constructor would,
// then all freed in the same order. The reserve is refilled outside the
// timed part, as idle workers would; its 16 MiB cover the first tenth, and
// the rest is fresh memory whose faults are timed, as on a runtime with no
// idle worker. Arg 0 times the carving, arg 1 the freeing. Per frame.
void BM_FreshFrames(benchmark::State& state) {
  constexpr std::size_t kFrames = 1'000'000, kBytes = 168;
  const bool time_carving = state.range(0) == 0;
  std::vector<void*> frames(kFrames);
  for (auto _ : state) {
    state.PauseTiming();
    while (core::frame_allocator::refill_reserve()) {
    }
    if (time_carving) state.ResumeTiming();
    for (void*& f : frames) {
      f = core::frame_allocator::allocate(kBytes);
      std::memset(f, 1, kBytes);
    }
    if (time_carving) {
      state.PauseTiming();
    } else {
      state.ResumeTiming();
    }
    for (void* f : frames) core::frame_allocator::deallocate(f, kBytes);
    if (time_carving) state.ResumeTiming();
  }
  state.SetItemsProcessed(int64_t(state.iterations() * kFrames));
}
BENCHMARK(BM_FreshFrames)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMicrosecond);

// One io_uring NOP round trip from a fiber on one worker: submit, the
// worker flushes when it runs out of tasks, the CQE wakes the fiber. Items
// per second = NOP round trips per second.
void BM_IoUringNopRoundTrip(benchmark::State& state) {
  Config c = one_worker();
  c.io = IoBackend::kUring;
  Runtime rt{c};
  for (auto _ : state) {
    rt.block_on([] {
      io::detail::OpSpec nop;  // OpKind::kNop
      for (int i = 0; i < 10000; ++i) (void)io::detail::perform(nop, {});
    });
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_IoUringNopRoundTrip)->UseRealTime()->Unit(benchmark::kMillisecond);

Task<void> accept_n(io::TcpListener* l, int n) {
  for (int i = 0; i < n; ++i) {
    auto s = co_await l->async_accept();
    if (!s) co_return;
  }
}

// Connections accepted per second by a coroutine on one worker: Arg(1) with
// a multishot accept (io/detail/accept_queue.h), Arg(0) one accept request
// per call. A plain thread connects and closes 1,000 times per iteration
// (below the backlog, so no connect waits for a SYN retry).
void BM_AcceptLoop(benchmark::State& state) {
  Config c = one_worker();
  c.io = IoBackend::kUring;
  Runtime rt{c};
  auto l = io::TcpListener::bind(io::SocketAddress::loopback(0), {.multishot_accept = state.range(0) != 0});
  const io::SocketAddress at = *l->local_address();
  constexpr int kConns = 1000;
  for (auto _ : state) {
    std::thread client([&] {
      for (int i = 0; i < kConns; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (::connect(fd, at.data(), at.size()) != 0) state.SkipWithError("connect failed");
        ::close(fd);
      }
    });
    rt.block_on(accept_n(&*l, kConns));
    client.join();
  }
  state.SetItemsProcessed(state.iterations() * kConns);
}
BENCHMARK(BM_AcceptLoop)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace weft

// Outside namespace weft on purpose: the preemption handler never preempts
// weft's own code (scheduler/detail/code_map.h), and these hogs must be
// ordinary application code.
namespace preempt_bench {

[[gnu::noinline]] uint64_t crunch(uint64_t x) {
  for (int i = 0; i < 100; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    asm volatile("" : "+r"(x));
  }
  return x;
}

struct Hogs {
  std::atomic<bool> stop{false};
  std::atomic<int> owner{-1};
  std::atomic<uint64_t> resumed_tsc{0};
  std::atomic<uint64_t> switches{0};  // release: publishes resumed_tsc
  std::atomic<weft::sched::Worker*> worker{nullptr};
};

// Spins until stopped; the first thing it does after each switch in is
// stamp the time.
void spin(Hogs& h, int me) {
  h.worker.store(weft::sched::Scheduler::current()->current_worker());
  uint64_t x = uint64_t(me) + 1;
  while (!h.stop.load(std::memory_order_relaxed)) {
    if (h.owner.load(std::memory_order_relaxed) != me) {
      h.resumed_tsc.store(__rdtsc(), std::memory_order_relaxed);
      h.owner.store(me, std::memory_order_relaxed);
      h.switches.fetch_add(1, std::memory_order_release);
    }
    x = crunch(x);
  }
  benchmark::DoNotOptimize(x);
}

double tsc_ticks_per_ns() {
  auto t0 = std::chrono::steady_clock::now();
  uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  uint64_t c1 = __rdtsc();
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  return double(c1 - c0) / ns;
}

// The cost of one preemption: from the monitor's request (the benchmark
// thread plays the monitor: request word, pthread_kill) until the other
// fiber on the worker runs. It covers signal delivery, the safe-point check,
// the switch out of the handler, the requeue and the switch into the next
// fiber. Two spinning fibers on one worker take turns being preempted.
void BM_PreemptSignalToResume(benchmark::State& state) {
  static const double ticks_per_ns = tsc_ticks_per_ns();
  weft::Config c;
  c.workers = 1;
  c.time_slice = std::chrono::microseconds(0);  // no monitor: this thread sends the signals
  c.stall_threshold = std::chrono::milliseconds(0);
  weft::sched::install_monitor_handler(c.monitor_signal, /*preemption=*/true);
  weft::Runtime rt{c};
  Hogs h;
  auto a = rt.spawn_fiber([&h] { spin(h, 0); });
  auto b = rt.spawn_fiber([&h] { spin(h, 1); });
  while (h.switches.load() < 1) std::this_thread::yield();
  weft::sched::Worker* w = h.worker.load();
  for (auto _ : state) {
    for (;;) {  // again if the signal found no safe point (rare: the loop is app code)
      const uint64_t before = h.switches.load(std::memory_order_acquire);
      const uint64_t t0 = __rdtsc();
      w->request_signal(weft::sched::kPreempt, c.monitor_signal);
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
      while (h.switches.load(std::memory_order_acquire) == before && std::chrono::steady_clock::now() < give_up)
        __builtin_ia32_pause();
      if (h.switches.load(std::memory_order_acquire) == before) continue;
      state.SetIterationTime(double(h.resumed_tsc.load(std::memory_order_relaxed) - t0) / ticks_per_ns * 1e-9);
      break;
    }
  }
  h.stop = true;
  a.join();
  b.join();
  state.counters["preemptions"] = double(rt.preemptions());
}
BENCHMARK(BM_PreemptSignalToResume)->UseManualTime()->Unit(benchmark::kMicrosecond);

// tgkill as a bare system call in application code, so the signal arrives
// (on the way back from the kernel) at a safe point: libc's pthread_kill
// would put the interrupted instruction inside libc.
[[gnu::noinline]] void raw_tgkill(int sig) {
  long ret;
  long pid = getpid(), tid = gettid();
  asm volatile("syscall" : "=a"(ret) : "0"(long(SYS_tgkill)), "D"(pid), "S"(tid), "d"(long(sig)) : "rcx", "r11", "memory");
}

struct SelfHogs {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent_tsc{0};
  std::atomic<uint64_t> last_cost{0};
  std::atomic<uint64_t> switches{0};  // release: publishes last_cost
};

// Each fiber, once resumed, stamps the cost of the preemption that let it
// in, then preempts itself: request word, then a signal to its own thread.
void self_preempting(SelfHogs& h, int sig) {
  uint64_t x = 1;
  while (!h.stop.load(std::memory_order_relaxed)) {
    const uint64_t now = __rdtsc();
    if (uint64_t sent = h.sent_tsc.exchange(0, std::memory_order_relaxed)) {
      h.last_cost.store(now - sent, std::memory_order_relaxed);
      h.switches.fetch_add(1, std::memory_order_release);
    }
    x = crunch(x);
    auto* w = weft::sched::Scheduler::current()->current_worker();
    w->request_signal(weft::sched::kPreempt, 0);  // signal 0: sets the request word only
    h.sent_tsc.store(__rdtsc(), std::memory_order_relaxed);
    raw_tgkill(sig);
  }
  benchmark::DoNotOptimize(x);
}

// The same cost without the cross-CPU interrupt: the fiber signals its own
// thread, so this is the handler, the switch out, the requeue and the
// switch into the other fiber, on one CPU.
void BM_PreemptSameThread(benchmark::State& state) {
  static const double ticks_per_ns = tsc_ticks_per_ns();
  weft::Config c;
  c.workers = 1;
  c.time_slice = std::chrono::microseconds(0);
  c.stall_threshold = std::chrono::milliseconds(0);
  weft::sched::install_monitor_handler(c.monitor_signal, /*preemption=*/true);
  weft::Runtime rt{c};
  SelfHogs h;
  const int sig = c.monitor_signal;
  auto a = rt.spawn_fiber([&h, sig] { self_preempting(h, sig); });
  auto b = rt.spawn_fiber([&h, sig] { self_preempting(h, sig); });
  for (auto _ : state) {
    const uint64_t before = h.switches.load(std::memory_order_acquire);
    while (h.switches.load(std::memory_order_acquire) == before) __builtin_ia32_pause();
    state.SetIterationTime(double(h.last_cost.load(std::memory_order_relaxed)) / ticks_per_ns * 1e-9);
  }
  h.stop = true;
  a.join();
  b.join();
  state.counters["preemptions"] = double(rt.preemptions());
}
BENCHMARK(BM_PreemptSameThread)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace preempt_bench

BENCHMARK_MAIN();
