// The only file that includes Boost.Context. It uses the fcontext layer
// (make_fcontext / jump_fcontext) directly: weft owns its stacks, and the
// sanitizer annotations must sit exactly around the one jump.
//
// Protocol of a switch from A to B:
//   1. A saves the thread's C++ exception globals and installs B's.
//   2. A records itself as B's caller and tells the sanitizers where it goes.
//   3. jump_fcontext(B, &B). The jump hands B the address where A stopped.
//   4. B, on arrival (after its own jump returns, or in the trampoline for a
//      fresh fiber), stores that address into its caller (A) and finishes the
//      sanitizer switch. A is now resumable by anyone who switches to it.
#include <boost/context/detail/fcontext.hpp>

#include <cstdlib>

#include "runtime/core/context.h"
#include "runtime/core/detail/sanitizers.h"

#if WEFT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if WEFT_TSAN
#include <sanitizer/tsan_interface.h>

#include <mutex>
#include <vector>
#endif

// libstdc++'s per-thread exception state (stable ABI; cxxabi.h keeps the
// struct opaque, so it is declared here the way libsupc++ lays it out).
namespace {
struct CxaEhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};
}  // namespace
extern "C" CxaEhGlobals* __cxa_get_globals() noexcept;

namespace weft::core {

namespace bctx = boost::context::detail;

#if WEFT_TSAN
// Creating and destroying a ThreadSanitizer fiber costs milliseconds, so
// fiber identities are recycled like stacks. A recycled identity carries its
// previous owner's clock, which only orders that owner (already finished)
// before the new one, as the stack pool hand-off does anyway.
namespace {
struct TsanFiberPool {
  std::mutex mu;
  std::vector<void*> free;
  void* get() {
    {
      std::lock_guard lock(mu);
      if (!free.empty()) {
        void* f = free.back();
        free.pop_back();
        return f;
      }
    }
    return __tsan_create_fiber(0);
  }
  void put(void* f) {
    {
      std::lock_guard lock(mu);
      if (free.size() < 4096) {
        free.push_back(f);
        return;
      }
    }
    __tsan_destroy_fiber(f);
  }
};
TsanFiberPool& tsan_fibers() {
  static auto* pool = new TsanFiberPool();  // never destroyed: fibers may retire at exit
  return *pool;
}
}  // namespace
#endif

struct ContextAccess {
  static void on_arrival(bctx::transfer_t t) {
    auto* self = static_cast<MachineContext*>(t.data);
    self->caller_->fctx_ = t.fctx;
#if WEFT_ASAN
    __sanitizer_finish_switch_fiber(self->asan_fake_stack_, &self->caller_->stack_bottom_,
                                    &self->caller_->stack_size_);
#endif
  }

  WEFT_NO_TSAN_FRAME static void trampoline(bctx::transfer_t t) {
    on_arrival(t);
    auto* self = static_cast<MachineContext*>(t.data);
    self->entry_(self->arg_);
    std::abort();  // entry must leave with a final switch, never return
  }

  // The calling thread's exception globals. Cached per thread because
  // __cxa_get_globals is a call into libstdc++'s dynamic TLS. Safe for
  // fibers: it is read on the current thread before the jump, never after
  // (noinline and noipa: thread_state.h says why both).
  [[gnu::noinline, gnu::noipa]] static CxaEhGlobals* eh_globals() {
    static constinit thread_local CxaEhGlobals* cached = nullptr;
    if (cached == nullptr) cached = __cxa_get_globals();
    return cached;
  }

  static void swap_eh_state(MachineContext& from, MachineContext& to) {
    CxaEhGlobals* g = eh_globals();
    from.eh_caught_ = g->caught_exceptions;
    from.eh_uncaught_ = g->uncaught_exceptions;
    g->caught_exceptions = to.eh_caught_;
    g->uncaught_exceptions = to.eh_uncaught_;
  }

  static void announce(MachineContext& from, MachineContext& to, MachineContext::Switch kind) {
#if WEFT_ASAN
    __sanitizer_start_switch_fiber(kind == MachineContext::Switch::kFinal ? nullptr : &from.asan_fake_stack_,
                                   to.stack_bottom_, to.stack_size_);
#endif
#if WEFT_TSAN
    if (from.tsan_fiber_ == nullptr) from.tsan_fiber_ = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(to.tsan_fiber_, 0);  // 0: the switch orders memory, as it does
#endif
    (void)from;
    (void)to;
    (void)kind;
  }
};

MachineContext::~MachineContext() { retire(); }

void MachineContext::prepare(void* stack_lo, std::size_t size, Entry entry, void* arg) {
  retire();
  entry_ = entry;
  arg_ = arg;
  eh_caught_ = nullptr;
  eh_uncaught_ = 0;
  stack_bottom_ = stack_lo;
  stack_size_ = size;
  fctx_ = bctx::make_fcontext(static_cast<char*>(stack_lo) + size, size, &ContextAccess::trampoline);
#if WEFT_TSAN
  tsan_fiber_ = tsan_fibers().get();
  tsan_owned_ = true;
#endif
}

void MachineContext::retire() {
#if WEFT_TSAN
  if (tsan_owned_) tsan_fibers().put(tsan_fiber_);
#endif
  tsan_fiber_ = nullptr;
  tsan_owned_ = false;
  fctx_ = nullptr;
}

WEFT_NO_TSAN_FRAME void switch_context(MachineContext& from, MachineContext& to, MachineContext::Switch kind) {
  ContextAccess::swap_eh_state(from, to);
  to.caller_ = &from;
  ContextAccess::announce(from, to, kind);
  bctx::transfer_t t = bctx::jump_fcontext(to.fctx_, &to);
  ContextAccess::on_arrival(t);
}

}  // namespace weft::core
