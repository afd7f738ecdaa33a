// The type-erased face one channel operation shows to select(): its lock and
// the Op steps of wait.h. Each case object embeds the Waiter it queues, so a
// select allocates nothing.
#pragma once

#include "runtime/sync/detail/wait.h"
#include "runtime/sync/detail/waiter.h"

namespace weft::sync::detail {

class SelectCase {
 public:
  virtual Lock& lock() = 0;
  virtual Try try_now() = 0;  // under lock(): complete at once?
  virtual void enqueue() = 0;  // under lock(): queue waiter
  virtual void dequeue() = 0;  // under lock()
  // The channel closed under this case (a receive from a closed channel
  // completes the select, as in Go).
  bool closed() const { return closed_; }

  Waiter waiter;

 protected:
  ~SelectCase() = default;
  bool closed_ = false;
  friend struct SelectRun;
};

}  // namespace weft::sync::detail
