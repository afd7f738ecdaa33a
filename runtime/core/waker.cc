#include "runtime/core/waker.h"

#include "runtime/core/thread_state.h"

namespace weft::core {

Waker Waker::for_current() {
  TaskHeader* t = this_thread().task;
  return t ? for_task(t) : for_thread(ThreadParker::current());
}

Waker Waker::borrowed_for_current() {
  TaskHeader* t = this_thread().task;
  if (t) return borrowed_for_task(t);
  ThreadParker* p = ThreadParker::current();
  return Waker(nullptr, p, p->wait_token(), false);
}

}  // namespace weft::core
