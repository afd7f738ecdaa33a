// Turns a fault in a fiber's guard page into words instead of a bare segfault:
//   weft: stack overflow in fiber <id> "<name>" (stack <N> bytes)
// printed from a handler running on an alternate signal stack, then abort().
// Faults that are not a fiber stack overflow go to whatever handler was there
// before (or the default action).
#pragma once

namespace weft::core {

// Process-wide, idempotent: installs the SIGSEGV/SIGBUS handler.
void install_stack_overflow_handler();
// Per thread, idempotent: gives the calling thread an alternate signal stack
// (freed when the thread exits). Every thread that runs fibers calls it.
void ensure_alternate_signal_stack();

}  // namespace weft::core
