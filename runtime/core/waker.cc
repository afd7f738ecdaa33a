#include "runtime/core/waker.h"

#include "runtime/core/thread_state.h"

namespace weft::core {

Waker Waker::for_current() { return borrowed_for_current().to_owned(); }

Waker Waker::borrowed_for_current() {
  TaskHeader* t = this_thread().task;
  if (t) return borrowed_for_task(t);
  ThreadParker* p = ThreadParker::current();
  return Waker(nullptr, p, p->wait_token(), false);
}

}  // namespace weft::core
