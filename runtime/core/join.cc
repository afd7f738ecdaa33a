#include "runtime/core/join.h"

#include <utility>

namespace weft::core {

namespace {
void report_if_failed(TaskHeader* t) {
  std::exception_ptr* failure = t->failure();
  if (failure != nullptr && *failure) t->executor->report_detached_failure(t, *failure);
}
}  // namespace

void complete_join(TaskHeader* t) {
  uintptr_t prev = t->join_slot().exchange(join_slot::kDone, std::memory_order_acq_rel);
  if (prev == join_slot::kDetached) {
    report_if_failed(t);
  } else if (prev > join_slot::kDetached) {
    Waker w = std::move(reinterpret_cast<JoinWaiter*>(prev)->waker);
    std::move(w).wake();
  }
}

void detach_join(TaskHeader* t) {
  uintptr_t prev = t->join_slot().exchange(join_slot::kDetached, std::memory_order_acq_rel);
  if (prev == join_slot::kDone) report_if_failed(t);
}

}  // namespace weft::core
