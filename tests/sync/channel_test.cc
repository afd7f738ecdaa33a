// Channel<T> (rendezvous, bounded, unbounded), close, deadlines and select,
// from fibers, coroutines and threads.
#include <atomic>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "runtime/core/detail/biased_spin_lock.h"
#include "tests/support/runtime_fixture.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::RuntimeTest;

class ChannelTest : public RuntimeTest {};
WEFT_INSTANTIATE_OVER_WORKERS(ChannelTest);

Task<int64_t> coro_sum(Channel<int>* ch) {
  int64_t sum = 0;
  for (;;) {
    Result<int> r = co_await ch->async_recv();
    if (!r) {
      EXPECT_EQ(r.error(), Errc::kClosed);
      co_return sum;
    }
    sum += *r;
  }
}

Task<void> coro_send_range(Channel<int>* ch, int from, int to) {
  for (int i = from; i < to; ++i) EXPECT_FALSE(co_await ch->async_send(i));
}

void many_producers_many_consumers(Runtime& rt, std::size_t capacity) {
  Channel<int> ch(capacity);
  constexpr int kPer = 3000;
  std::vector<JoinHandle<int64_t>> consumers;
  consumers.push_back(rt.spawn(coro_sum(&ch)));
  consumers.push_back(rt.spawn(coro_sum(&ch)));
  consumers.push_back(rt.spawn_fiber([&ch] {
    int64_t sum = 0;
    while (Result<int> r = ch.recv()) sum += *r;
    return sum;
  }));
  std::vector<JoinHandle<void>> producers;
  producers.push_back(rt.spawn(coro_send_range(&ch, 0, kPer)));
  producers.push_back(rt.spawn_fiber([&ch] {
    for (int i = kPer; i < 2 * kPer; ++i) EXPECT_FALSE(ch.send(int(i)));
  }));
  std::thread t([&ch] {
    for (int i = 2 * kPer; i < 3 * kPer; ++i) EXPECT_FALSE(ch.send(int(i)));
  });
  for (auto& p : producers) p.join();
  t.join();
  ch.close();
  int64_t total = 0;
  for (auto& c : consumers) total += c.join();
  EXPECT_EQ(total, int64_t(3 * kPer) * (3 * kPer - 1) / 2);
}

TEST_P(ChannelTest, RendezvousDeliversEverythingOnce) { many_producers_many_consumers(rt(), 0); }
TEST_P(ChannelTest, CapacityOneDeliversEverythingOnce) { many_producers_many_consumers(rt(), 1); }
TEST_P(ChannelTest, BoundedDeliversEverythingOnce) { many_producers_many_consumers(rt(), 64); }
TEST_P(ChannelTest, UnboundedDeliversEverythingOnce) {
  many_producers_many_consumers(rt(), Channel<int>::kUnbounded);
}

TEST_P(ChannelTest, CloseLetsReceiversDrainThenReportsClosed) {
  Channel<std::string> ch(4);
  ASSERT_FALSE(ch.try_send("a"));
  ASSERT_FALSE(ch.try_send("b"));
  ch.close();
  std::string keep = "kept";
  EXPECT_EQ(ch.send(std::move(keep)), Errc::kClosed);
  EXPECT_EQ(keep, "kept");  // a failed send leaves the value with the caller
  EXPECT_EQ(*ch.recv(), "a");
  EXPECT_EQ(*ch.try_recv(), "b");
  EXPECT_EQ(ch.recv().error(), Errc::kClosed);
}

TEST_P(ChannelTest, CloseWakesBlockedSendersAndReceivers) {
  Channel<int> rendezvous(0);
  Channel<int> empty(1);
  auto sender = rt().spawn_fiber([&] { return rendezvous.send(7); });
  auto receiver = rt().spawn_fiber([&] { return empty.recv().error(); });
  std::this_thread::sleep_for(10ms);
  rendezvous.close();
  empty.close();
  EXPECT_EQ(sender.join(), Errc::kClosed);
  EXPECT_EQ(receiver.join(), Errc::kClosed);
}

// Awaited without WaitOptions, a channel operation's awaiter carries none
// (sync/detail/wait.h, UntimedWait); with them it keeps the options and
// arms their timer (TimedWait). Either way a cancelled task leaves the wait
// with TaskCancelled and takes its waiter off the channel, and a deadline
// still ends a timed one.
TEST_P(ChannelTest, CoroutineWaitsWithAndWithoutOptionsEndCleanly) {
  Channel<int> rendezvous(0);
  Channel<int> empty(1);
  std::atomic<int> waiting{0};
  auto wait_forever = [](Channel<int>* ch, std::atomic<int>* waiting, bool send) -> Task<int> {
    waiting->fetch_add(1);
    if (send) co_return(co_await ch->async_send(1)).value();
    co_return(co_await ch->async_recv()).error().value();
  };
  auto sender = rt().spawn(wait_forever(&rendezvous, &waiting, true));
  auto receiver = rt().spawn(wait_forever(&empty, &waiting, false));
  auto timed = rt().spawn([](Channel<int>* ch) -> Task<std::error_code> {
    co_return(co_await ch->async_recv(WaitOptions::after(10ms))).error();
  }(&empty));
  EXPECT_EQ(timed.join(), Errc::kTimedOut);
  while (waiting.load() < 2) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(5ms);  // both queued (or about to be)
  sender.cancel();
  receiver.cancel();
  EXPECT_THROW(sender.join(), TaskCancelled);
  EXPECT_THROW(receiver.join(), TaskCancelled);
  // Neither left a waiter behind: nobody receives on `rendezvous` and the
  // buffer of `empty` takes a value.
  EXPECT_EQ(rendezvous.try_send(2), Errc::kWouldBlock);
  EXPECT_FALSE(empty.try_send(3));
  EXPECT_EQ(*empty.try_recv(), 3);
}

TEST_P(ChannelTest, DeadlinesAndTryOps) {
  Channel<int> ch(1);
  EXPECT_EQ(ch.try_recv().error(), Errc::kWouldBlock);
  EXPECT_FALSE(ch.try_send(1));
  EXPECT_EQ(ch.try_send(2), Errc::kWouldBlock);
  auto h = rt().spawn_fiber([&] {
    int v = 3;
    std::error_code full = ch.send(std::move(v), WaitOptions::after(10ms));
    EXPECT_EQ(v, 3);
    EXPECT_EQ(*ch.recv(), 1);
    EXPECT_EQ(ch.recv(WaitOptions::after(10ms)).error(), Errc::kTimedOut);
    return full;
  });
  EXPECT_EQ(h.join(), Errc::kTimedOut);
}

TEST_P(ChannelTest, SelectTakesExactlyOneReadyCase) {
  Channel<int> a(0), b(0);
  Channel<std::string> c(1);
  constexpr int kRounds = 300;
  auto selector = rt().spawn_fiber([&] {
    int from_a = 0, from_b = 0;
    for (int i = 0; i < 2 * kRounds; ++i) {
      Channel<int>::RecvCase ra(a);
      Channel<int>::RecvCase rb(b);
      Result<std::size_t> r = select({&ra, &rb});
      EXPECT_TRUE(r.ok());
      if (*r == 0) {
        from_a += *ra.value();
        EXPECT_FALSE(rb.value().has_value());
      } else {
        from_b += *rb.value();
        EXPECT_FALSE(ra.value().has_value());
      }
    }
    std::string msg = "hello";
    Channel<std::string>::SendCase sc(c, msg);
    Channel<int>::RecvCase ra(a);
    EXPECT_EQ(*select({&ra, &sc}), 1u);
    return std::pair(from_a, from_b);
  });
  auto pa = rt().spawn_fiber([&] {
    for (int i = 0; i < kRounds; ++i) EXPECT_FALSE(a.send(1));
  });
  auto pb = rt().spawn_fiber([&] {
    for (int i = 0; i < kRounds; ++i) EXPECT_FALSE(b.send(2));
  });
  auto [fa, fb] = selector.join();
  pa.join();
  pb.join();
  EXPECT_EQ(fa, kRounds);
  EXPECT_EQ(fb, 2 * kRounds);
  EXPECT_EQ(*c.recv(), "hello");
}

Task<std::size_t> coro_select_timeout(Channel<int>* a, Channel<int>* b, Event* timed_out) {
  Channel<int>::RecvCase ra(*a);
  Channel<int>::RecvCase rb(*b);
  SelectCase* cases[] = {&ra, &rb};
  Result<std::size_t> r = co_await async_select(cases, WaitOptions::after(10ms));
  EXPECT_EQ(r.error(), Errc::kTimedOut);
  timed_out->set();
  Result<std::size_t> again = co_await async_select(cases);  // b is sent to below
  EXPECT_EQ(*rb.value(), 5);
  co_return *again;
}

TEST_P(ChannelTest, CoroutineSelectTimesOutThenReceives) {
  Channel<int> a(0), b(0);
  Event timed_out;
  auto h = rt().spawn(coro_select_timeout(&a, &b, &timed_out));
  // A handshake, not a sleep: a rendezvous send made before the first
  // select has timed out would complete that select instead (TSan, CI).
  timed_out.wait();
  EXPECT_FALSE(b.send(5));
  EXPECT_EQ(h.join(), 1u);
}

TEST_P(ChannelTest, SelectOnClosedChannelCompletesWithClosed) {
  Channel<int> a(0), b(0);
  b.close();
  Channel<int>::RecvCase ra(a);
  Channel<int>::RecvCase rb(b);
  EXPECT_EQ(*select({&ra, &rb}), 1u);
  EXPECT_TRUE(rb.closed());
  EXPECT_EQ(try_select({&ra}).error(), Errc::kWouldBlock);
}

}  // namespace
}  // namespace weft

namespace weft {
namespace {

// The cooperative budget: a coroutine whose channel operations never need
// to wait still lets the other tasks of its worker run (every
// TaskHeader::kBudget operations it yields).
Task<long> drain_ready_channel(Channel<int>* ch, int n, std::atomic<long>* other_ran, std::atomic<bool>* done) {
  for (int i = 0; i < n; ++i) {
    if (!co_await ch->async_recv()) co_return -1;
  }
  long seen = other_ran->load();
  *done = true;
  co_return seen;
}

Task<void> count_until(std::atomic<long>* counter, std::atomic<bool>* done) {
  while (!done->load()) {
    counter->fetch_add(1);
    co_await yield_now();
  }
}

Task<int64_t> echo_plus_one(Channel<int64_t>* in, Channel<int64_t>* out) {
  int64_t served = 0;
  while (Result<int64_t> v = co_await in->async_recv()) {
    if (co_await out->async_send(*v + 1)) break;
    ++served;
  }
  co_return served;
}

// Long enough a ping-pong between two tasks for the channels' locks to be
// biased to the worker that runs them both (core/detail/biased_spin_lock.h;
// with more workers they may not be), then an OS thread joins in: its first
// operation revokes the bias, and no value is lost or doubled on the way.
TEST_P(ChannelTest, AThreadJoiningALongPingPongLosesNothing) {
  Channel<int64_t> ping(1), pong(1);
  auto server = rt().spawn(echo_plus_one(&ping, &pong));
  constexpr int64_t kTaskTrips = 3 * core::detail::BiasedSpinLock::kBiasAfter, kThreadTrips = 2000;
  auto client = rt().spawn([](Channel<int64_t>* ping, Channel<int64_t>* pong) -> Task<int64_t> {
    int64_t sum = 0;
    for (int64_t i = 0; i < kTaskTrips; ++i) {
      if (co_await ping->async_send(int64_t(i))) co_return -1;
      Result<int64_t> r = co_await pong->async_recv();
      if (!r || *r != i + 1) co_return -1;
      sum += *r;
    }
    co_return sum;
  }(&ping, &pong));
  EXPECT_EQ(client.join(), kTaskTrips * (kTaskTrips + 1) / 2);
  for (int64_t i = 0; i < kThreadTrips; ++i) {
    ASSERT_FALSE(ping.send(int64_t(i)));
    Result<int64_t> r = pong.recv();
    ASSERT_TRUE(r);
    ASSERT_EQ(*r, i + 1);
  }
  ping.close();
  EXPECT_EQ(server.join(), kTaskTrips + kThreadTrips);
}

TEST(ChannelBudget, AlwaysReadyCoroutineStillYields) {
  // The budget alone: no hand-off to spare workers, which on a loaded machine
  // (a drain slower than handoff_after under ASan) would run the two tasks on
  // two threads and make the count depend on timing.
  Runtime rt{Config{.workers = 1, .handoff_after = std::chrono::microseconds(0), .max_spare_workers = 0}};
  constexpr int kN = 10000;
  Channel<int> ch(kN);
  for (int i = 0; i < kN; ++i) ASSERT_FALSE(ch.try_send(int(i)));
  std::atomic<long> other{0};
  std::atomic<bool> done{false};
  auto seen = rt.block_on([&] {
    auto b = spawn(count_until(&other, &done));
    auto a = spawn(drain_ready_channel(&ch, kN, &other, &done));
    long s = a.join();
    b.join();
    return s;
  });
  EXPECT_GE(seen, kN / core::TaskHeader::kBudget / 2) << "the draining coroutine never let the other run";
}

}  // namespace
}  // namespace weft
