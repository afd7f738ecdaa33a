// The scheduler's one place to emit events: spawns, runs, parks, wakes,
// steals and worker sleeps all go through Scheduler::emit(). With no sink set
// (the default) each emit is one predictable branch; a tracer or a task dump
// installs a sink.
#pragma once

#include <cstdint>

namespace weft::sched {

enum class EventKind : uint8_t {
  kSpawn,
  kRun,
  kYield,
  kPreempt,  // the monitor took the CPU from a fiber past its time slice
  kPark,
  kExit,
  kSteal,
  kWorkerPark,
  kWorkerUnpark,
};

struct Event {
  EventKind kind;
  uint32_t worker;   // UINT32_MAX: not on a worker
  uint64_t task_id;  // 0: no task
};

using EventSink = void (*)(void* context, const Event& event);

}  // namespace weft::sched
