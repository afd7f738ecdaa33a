#include "runtime/no_preempt.h"

#include "runtime/core/task_header.h"
#include "runtime/core/thread_state.h"
#include "scheduler/preempt.h"

namespace weft {

NoPreempt::NoPreempt() {
  core::TaskHeader* t = core::this_thread().task;
  task_ = t;
  if (t != nullptr) ++t->no_preempt;
}

NoPreempt::~NoPreempt() {
  auto* t = static_cast<core::TaskHeader*>(task_);
  if (t == nullptr) return;
  // A signal handler on this thread reads the count: only its own thread
  // writes it, and the handler runs between instructions, so a plain
  // decrement is enough.
  if (--t->no_preempt == 0) sched::yield_if_preempt_requested();
}

}  // namespace weft
