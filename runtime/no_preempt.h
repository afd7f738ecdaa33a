// weft::NoPreempt: while one is alive, the running fiber is not preempted
// (Config::time_slice). For code that must not be interrupted by a switch:
// thread_local state read across a loop, a lock the application holds that
// other fibers on the same worker spin on, timing-critical sections.
//
//   {
//     weft::NoPreempt guard;
//     ... // runs to the end of the scope unless it waits or yields itself
//   }
//
// Guards nest, and may be held across a wait. A preemption asked for while a
// guard was held happens when the last guard ends. Outside a fiber a guard
// does nothing.
#pragma once

namespace weft {

class NoPreempt {
 public:
  NoPreempt();
  ~NoPreempt();
  NoPreempt(const NoPreempt&) = delete;
  NoPreempt& operator=(const NoPreempt&) = delete;

 private:
  void* task_;  // the fiber it guards (it may migrate; the guard goes with it)
};

}  // namespace weft
