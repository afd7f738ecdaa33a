#include "runtime/core/stack_overflow.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "runtime/core/fiber.h"
#include "runtime/core/thread_state.h"

namespace weft::core {

namespace {

constexpr std::size_t kAltStackSize = 64 * 1024;
struct sigaction previous_segv;
struct sigaction previous_bus;

// Async-signal-safe output: no stdio, no allocation.
struct SignalSafeWriter {
  char buf[512];
  std::size_t len = 0;
  void put(const char* s) {
    while (*s && len < sizeof(buf)) buf[len++] = *s++;
  }
  void put(std::string_view s) {
    for (char c : s)
      if (len < sizeof(buf)) buf[len++] = c;
  }
  void put_number(unsigned long long v) {
    char tmp[24];
    int n = 0;
    do {
      tmp[n++] = char('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0 && len < sizeof(buf)) buf[len++] = tmp[--n];
  }
  void flush() {
    std::size_t off = 0;
    while (off < len) {
      ssize_t w = write(STDERR_FILENO, buf + off, len - off);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
  }
};

void chain_to_previous(int sig, siginfo_t* info, void* uctx) {
  const struct sigaction& prev = sig == SIGBUS ? previous_bus : previous_segv;
  if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction != nullptr) {
    prev.sa_sigaction(sig, info, uctx);
    return;
  }
  if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
    prev.sa_handler(sig);
    return;
  }
  // Default action: restore it and return; the faulting instruction runs
  // again and the kernel delivers the signal with SIG_DFL.
  signal(sig, SIG_DFL);
}

void on_fault(int sig, siginfo_t* info, void* uctx) {
  TaskHeader* task = this_thread().task;
  if (task != nullptr && task->kind() == TaskKind::kFiber) {
    auto* fiber = static_cast<FiberBase*>(task);
    if (fiber->stack().is_overflow_address(info->si_addr)) {
      SignalSafeWriter w;
      w.put("weft: stack overflow in fiber ");
      w.put_number(task->id());
      w.put(" \"");
      w.put(task->name());
      w.put("\" (stack ");
      // The size it was promised (Config::stack_size or SpawnOptions): its
      // stack is mapped at twice that (scheduler/join_in_place.h).
      w.put_number(fiber->requested_stack_size);
      w.put(" bytes)\n");
      w.flush();
      signal(SIGABRT, SIG_DFL);
      abort();
    }
  }
  chain_to_previous(sig, info, uctx);
}

struct AltStack {
  void* mem = nullptr;
  ~AltStack() {
    if (mem == nullptr) return;
    stack_t disable{};
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, nullptr);
    munmap(mem, kAltStackSize);
  }
};
thread_local AltStack tls_alt_stack;

}  // namespace

void install_stack_overflow_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa{};
    sa.sa_sigaction = &on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    sigaction(SIGBUS, &sa, &previous_bus);
  });
}

void ensure_alternate_signal_stack() {
  if (tls_alt_stack.mem != nullptr) return;
  stack_t current{};
  if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE) && current.ss_size >= kAltStackSize)
    return;  // someone (a sanitizer, the application) already gave us one
  void* mem = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;  // no words on overflow, but nothing else is lost
  stack_t ss{};
  ss.ss_sp = mem;
  ss.ss_size = kAltStackSize;
  if (sigaltstack(&ss, nullptr) != 0) {
    munmap(mem, kAltStackSize);
    return;
  }
  tls_alt_stack.mem = mem;
}

}  // namespace weft::core
