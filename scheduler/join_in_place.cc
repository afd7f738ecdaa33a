#include "scheduler/join_in_place.h"

#include "runtime/core/fiber.h"
#include "scheduler/worker.h"

namespace weft::sched {

bool join_in_place(core::ThreadState& ts, core::TaskHeader* child) {
  core::TaskHeader* joiner = ts.task;
  auto* w = static_cast<Worker*>(ts.worker);
  if (w == nullptr || joiner->kind() != core::TaskKind::kFiber || child->kind() != core::TaskKind::kFiber)
    return false;
  auto& j = static_cast<core::FiberBase&>(*joiner);
  auto& c = static_cast<core::FiberBase&>(*child);
  if (!w->may_run_in_place(j, c)) return false;
  if (w->take_from_lifo_slot(&c)) {
    // Its only queue entry is gone: nobody else can start it now.
    c.transition_to_running();
  } else {
    if (!w->may_leave_stale_entry()) return false;
    c.ref();  // the queue entry's, dropped by whoever spends it (step 5)
    if (!c.transition_to_running_in_place()) {
      c.unref();  // not the last: the JoinHandle holds one
      return false;
    }
    w->count_stale_entry_made();
  }
  w->run_in_place(j, c);
  return true;
}

}  // namespace weft::sched
