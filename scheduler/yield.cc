#include "scheduler/yield.h"

#include "scheduler/worker.h"

namespace weft::sched {

bool yield_in_place(core::ThreadState& ts) {
  auto* w = static_cast<Worker*>(ts.worker);
  return w != nullptr && w->yield_in_place(ts.task);
}

}  // namespace weft::sched
