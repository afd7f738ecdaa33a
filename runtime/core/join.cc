#include "runtime/core/join.h"

#include <cstdio>
#include <string>
#include <utility>

namespace weft::core {

namespace {
std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

void report_if_failed(TaskHeader* t) {
  std::exception_ptr* failure = t->failure();
  if (failure == nullptr || !*failure || t->cancel_requested.load(std::memory_order_relaxed)) return;
  report_unjoined_failure(t, *failure);
}
}  // namespace

void report_unjoined_failure(TaskHeader* t, const std::exception_ptr& error) {
  std::string line = "weft: task " + std::to_string(t->id()) + " \"" + std::string(t->name()) +
                     "\" failed and nobody will join it: " + describe(error) + "\n";
  std::fputs(line.c_str(), stderr);
  if (t->terminate_on_unjoined_failure) std::terminate();
}

bool complete_join(TaskHeader* t) {
  uintptr_t prev = t->join_slot().exchange(join_slot::kDone, std::memory_order_acq_rel);
  if (prev == join_slot::kDetached) {
    report_if_failed(t);
    return true;
  }
  // From here `t` belongs to its joiner (step 6): only the waiter is touched.
  if (prev > join_slot::kDetached) {
    auto* waiter = reinterpret_cast<JoinWaiter*>(prev);
    Waker w = std::move(waiter->waker);
    waiter->released.store(true, std::memory_order_release);  // last touch of the waiter
    std::move(w).wake();
  }
  return false;
}

bool detach_join(TaskHeader* t) {
  uintptr_t prev = t->join_slot().exchange(join_slot::kDetached, std::memory_order_acq_rel);
  if (prev != join_slot::kDone) return false;
  report_if_failed(t);
  return true;
}

}  // namespace weft::core
