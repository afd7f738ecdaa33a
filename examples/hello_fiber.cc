// The README's fiber example, compiled and run as a test so it cannot rot.
#include <cstdio>
#include <string>

#include "weft/weft.h"

int main() {
  weft::Runtime rt{weft::Config{.workers = 2}};
  std::string s = rt.block_on([] {
    // Plain blocking-style code: join() parks this fiber, not the thread.
    auto h = weft::spawn_fiber([] {
      weft::yield_now();
      return std::string("hello from a fiber");
    });
    return h.join();
  });
  std::puts(s.c_str());
  return s == "hello from a fiber" ? 0 : 1;
}
