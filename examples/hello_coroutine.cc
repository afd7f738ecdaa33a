// The README's coroutine example, compiled and run as a test so it cannot rot.
#include <cstdio>

#include "weft/weft.h"

weft::Task<int> child(int x) {
  co_await weft::yield_now();  // let others run
  co_return x * 2;
}

weft::Task<int> parent() {
  auto a = weft::spawn(child(20));  // runs concurrently, maybe on another worker
  int b = co_await child(1);        // awaited inline, no new task
  co_return co_await a + b;         // 40 + 2
}

int main() {
  weft::Runtime rt{weft::Config{.workers = 2}};
  int v = rt.block_on(parent());
  std::printf("%d\n", v);
  return v == 42 ? 0 : 1;
}
