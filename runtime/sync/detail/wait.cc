#include "runtime/sync/detail/wait.h"

namespace weft::sync::detail {

std::error_code to_error(sched::WakeCause cause) {
  switch (cause) {
    case sched::WakeCause::kTimedOut: return make_error_code(Errc::kTimedOut);
    case sched::WakeCause::kCancelled: return make_error_code(Errc::kCancelled);
    case sched::WakeCause::kTaskCancelled: throw core::TaskCancelled();
    case sched::WakeCause::kWoken: break;
  }
  return no_error();
}

std::error_code check_armed_before_wait(const WaitOptions& options) {
  if (options.stop_requested()) return make_error_code(Errc::kCancelled);
  if (options.expired()) return make_error_code(Errc::kTimedOut);
  return no_error();
}

void throw_outside_coroutine(const char* what) {
  throw std::logic_error(std::string("weft: ") + what + " outside a weft coroutine task");
}

core::TaskHeader* current_coroutine(const char* what) { return require_coroutine(core::this_thread().task, what); }

}  // namespace weft::sync::detail
