#include "scheduler/yield.h"

#include "runtime/core/thread_state.h"
#include "scheduler/worker.h"

namespace weft::sched {

bool yield_in_place(core::TaskHeader* running) {
  auto* w = static_cast<Worker*>(core::this_thread().worker);
  return w != nullptr && w->yield_in_place(running);
}

}  // namespace weft::sched
