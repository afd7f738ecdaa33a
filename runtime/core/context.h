// The saved execution state of one thread of control (an OS thread's own stack
// or a fiber's), and the one function that switches between two of them.
//
// No Boost type appears here: detail/context_switch.cc is the only file that
// includes boost/context. The switch also carries, per context:
//   - the C++ exception-handling globals (__cxa_get_globals), so a fiber that
//     parks inside a `catch` block and resumes on another thread still sees its
//     own exception, and other fibers' throws do not disturb it;
//   - AddressSanitizer's fake-stack bookkeeping and stack bounds;
//   - ThreadSanitizer's fiber identity.
#pragma once

#include <cstddef>

namespace weft::core {

class MachineContext {
 public:
  using Entry = void (*)(void* arg);

  // An empty context stands for the OS thread that first switches away from it.
  MachineContext() = default;
  MachineContext(const MachineContext&) = delete;
  MachineContext& operator=(const MachineContext&) = delete;
  ~MachineContext();

  // Makes this context start at entry(arg) on [stack_lo, stack_lo + size) the
  // first time it is switched to. `entry` must never return; a fiber leaves
  // for the last time with switch_context(..., Switch::kFinal).
  void prepare(void* stack_lo, std::size_t size, Entry entry, void* arg);

  // Forgets a finished fiber's sanitizer state (called by the thread that it
  // switched to for the last time).
  void retire();

  enum class Switch { kSuspend, kFinal };
  friend void switch_context(MachineContext& from, MachineContext& to, Switch kind);

 private:
  friend struct ContextAccess;
  void* fctx_ = nullptr;
  MachineContext* caller_ = nullptr;  // who switched into us last
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
  void* eh_caught_ = nullptr;         // __cxa_eh_globals::caughtExceptions
  unsigned int eh_uncaught_ = 0;      // __cxa_eh_globals::uncaughtExceptions
  void* asan_fake_stack_ = nullptr;
  const void* stack_bottom_ = nullptr;
  std::size_t stack_size_ = 0;
  void* tsan_fiber_ = nullptr;
  bool tsan_owned_ = false;
};

// Saves the running context into `from` and resumes `to`. Returns when some
// thread switches back to `from` (possibly a different OS thread).
void switch_context(MachineContext& from, MachineContext& to,
                    MachineContext::Switch kind = MachineContext::Switch::kSuspend);

}  // namespace weft::core
