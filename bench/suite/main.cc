// suite_cell <model> <workload> <size> <workers> <repetitions>
// Runs one cell of the comparison suite and prints one JSON object on
// stdout: per-repetition wall time per unit, peak RSS, CPU time and (for the
// spawn workload) memory per live unit. Exit 1 if a result was wrong, 2 on
// bad arguments. tools/suite.py drives it.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench/suite/cell.h"

namespace {

using weft::suite::Model;
using weft::suite::Workload;

bool parse_model(std::string_view s, Model* m) {
  if (s == "process") *m = Model::kProcess;
  else if (s == "thread") *m = Model::kThread;
  else if (s == "pool") *m = Model::kPool;
  else if (s == "coroutine") *m = Model::kCoroutine;
  else if (s == "fiber") *m = Model::kFiber;
  else return false;
  return true;
}

bool parse_workload(std::string_view s, Workload* w) {
  if (s == "spawn") *w = Workload::kSpawn;
  else if (s == "pingpong") *w = Workload::kPingPong;
  else if (s == "sleep") *w = Workload::kSleep;
  else if (s == "cpu") *w = Workload::kCpu;
  else if (s == "echo") *w = Workload::kEcho;
  else return false;
  return true;
}

// The machine's available memory (kB): the spawn workload's units may be
// processes, so the cell's own RSS would not see them.
long mem_available_kb() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  long value = 0;
  std::string unit;
  while (f >> key >> value >> unit) {
    if (key == "MemAvailable:") return value;
  }
  return -1;
}

// This process's resident set (kB): units that live inside the process
// (threads, coroutines, fibers) show up here.
long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

double cpu_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int usage() {
  std::fputs("usage: suite_cell <process|thread|pool|coroutine|fiber> <spawn|pingpong|sleep|cpu|echo> "
             "<size> <workers> <repetitions>\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) return usage();
  weft::suite::Cell cell;
  char* end = nullptr;
  if (!parse_model(argv[1], &cell.model) || !parse_workload(argv[2], &cell.workload)) return usage();
  cell.size = std::strtoull(argv[3], &end, 10);
  if (*end || cell.size == 0) return usage();
  long workers = std::strtol(argv[4], &end, 10);
  if (*end || workers < 1 || workers > 1024) return usage();
  cell.workers = std::size_t(workers);
  long reps = std::strtol(argv[5], &end, 10);
  if (*end || reps < 1 || reps > 100) return usage();

  // Memory held by the live units: child processes are outside our RSS, so
  // for them the machine's MemAvailable is what drops (noisier).
  const bool in_children = cell.model == Model::kProcess;
  auto memory_kb = [&] { return in_children ? -mem_available_kb() : rss_kb(); };
  long mem_before = 0, mem_peak_delta = -1;
  cell.at_peak = [&] { mem_peak_delta = std::max(mem_peak_delta, memory_kb() - mem_before); };
  std::vector<double> ns_per_unit;
  for (long r = 0; r < reps; ++r) {
    mem_before = memory_kb();
    auto t0 = std::chrono::steady_clock::now();
    bool ok = cell.model == Model::kCoroutine || cell.model == Model::kFiber ? weft::suite::run_weft(cell)
                                                                             : weft::suite::run_os(cell);
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    if (!ok) {
      std::fprintf(stderr, "suite_cell: %s/%s produced a wrong result\n", argv[1], argv[2]);
      return 1;
    }
    ns_per_unit.push_back(ns / double(cell.size));
  }
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  std::printf("{\"model\":\"%s\",\"workload\":\"%s\",\"size\":%llu,\"workers\":%zu,\"ns_per_unit\":[", argv[1],
              argv[2], static_cast<unsigned long long>(cell.size), cell.workers);
  for (size_t i = 0; i < ns_per_unit.size(); ++i) std::printf("%s%.1f", i ? "," : "", ns_per_unit[i]);
  std::printf("],\"peak_rss_kb\":%ld,\"child_peak_rss_kb\":%ld,\"cpu_s\":%.4f", self.ru_maxrss, children.ru_maxrss,
              cpu_seconds(RUSAGE_SELF) + cpu_seconds(RUSAGE_CHILDREN));
  if (mem_peak_delta >= 0) {
    std::printf(",\"bytes_per_unit\":%.0f", double(mem_peak_delta) * 1024.0 / double(cell.size));
  }
  std::printf("}\n");
  return 0;
}
