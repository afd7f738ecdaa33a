#include "runtime/core/waker.h"

#include "runtime/core/thread_state.h"

namespace weft::core {

Waker Waker::for_current() {
  TaskHeader* t = this_thread().task;
  return t ? for_task(t) : for_thread(ThreadParker::current());
}

}  // namespace weft::core
