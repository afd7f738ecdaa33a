#include "runtime/core/thread_state.h"

namespace weft::core {

namespace {
constinit thread_local ThreadState tls_state;
}  // namespace

[[gnu::noinline, gnu::noipa]] ThreadState& this_thread() { return tls_state; }

}  // namespace weft::core
