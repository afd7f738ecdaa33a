#include "runtime/blocking.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace weft::detail {

struct BlockingPool::State {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> jobs;  // guarded by mu
  std::size_t threads = 0;                 // guarded by mu
  std::size_t idle = 0;                    // guarded by mu
  std::chrono::milliseconds idle_timeout{10000};
};

BlockingPool& BlockingPool::get() {
  // Never destroyed: detached pool threads may still be finishing a job
  // while the process exits.
  static BlockingPool* pool = new BlockingPool;
  return *pool;
}

BlockingPool::State& BlockingPool::state() {
  static State* s = new State;
  return *s;
}

void BlockingPool::submit(std::function<void()> job) {
  State& s = state();
  bool start = false;
  {
    std::lock_guard lock(s.mu);
    s.jobs.push_back(std::move(job));
    // A new thread only when none is idle: a job never waits behind another
    // blocking job while the pool has room.
    if (s.idle < s.jobs.size() && s.threads < kMaxThreads) {
      ++s.threads;
      start = true;
    }
  }
  if (start) {
    std::thread([this] { worker_loop(); }).detach();
  } else {
    s.cv.notify_one();
  }
}

void BlockingPool::worker_loop() {
  State& s = state();
  std::unique_lock lock(s.mu);
  for (;;) {
    ++s.idle;
    const auto idle_since = std::chrono::steady_clock::now();
    // The timeout is read again after each wake-up, so a test can shorten it.
    while (s.jobs.empty() && std::chrono::steady_clock::now() - idle_since < s.idle_timeout)
      s.cv.wait_until(lock, idle_since + s.idle_timeout);
    --s.idle;
    if (s.jobs.empty()) {  // idle for the whole timeout: this thread is not needed
      --s.threads;
      return;
    }
    std::function<void()> job = std::move(s.jobs.front());
    s.jobs.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // drop the job's captures outside the lock
    lock.lock();
  }
}

std::size_t BlockingPool::threads() {
  std::lock_guard lock(state().mu);
  return state().threads;
}

void BlockingPool::set_idle_timeout_for_testing(std::chrono::milliseconds t) {
  {
    std::lock_guard lock(state().mu);
    state().idle_timeout = t;
  }
  state().cv.notify_all();
}

}  // namespace weft::detail
