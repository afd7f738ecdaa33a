// One cell of the comparison suite (issue 7): one model running one workload
// at one size. tools/suite.py runs each cell in its own process (so peak RSS
// is the cell's own) and collects the JSON line main.cc prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace weft::suite {

enum class Model { kProcess, kThread, kPool, kCoroutine, kFiber };
enum class Workload { kSpawn, kPingPong, kSleep, kCpu, kEcho };

struct Cell {
  Model model = Model::kThread;
  Workload workload = Workload::kSpawn;
  uint64_t size = 0;       // units (spawn, sleep, cpu), round trips (pingpong, echo)
  std::size_t workers = 1;  // weft workers; the pool's threads
  // Called once, when every unit of the spawn workload is alive: main.cc
  // samples memory there.
  std::function<void()> at_peak;
};

// Runs the cell's workload once. Returns false if the result was wrong.
bool run_os(const Cell& cell);    // processes, threads, the thread pool
bool run_weft(const Cell& cell);  // coroutines and fibers

// ---- shared by the models ----
// The CPU workload's unit: a deliberately naive recursive Fibonacci.
uint64_t fib(unsigned n);
inline constexpr unsigned kFibN = 24;
inline constexpr auto kSleep = std::chrono::milliseconds(10);
inline constexpr std::size_t kEchoBytes = 64;
inline constexpr std::size_t kEchoConnections = 32;

// The echo workload's client: `connections` connections to 127.0.0.1:port,
// each doing round trips of kEchoBytes until `total` are done (closed loop).
// Runs on the calling thread. False if a connection failed or data differed.
bool run_echo_client(uint16_t port, std::size_t connections, uint64_t total);

}  // namespace weft::suite
