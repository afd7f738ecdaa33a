// TcpListener::accept under load and at the edges, under both reactors and
// with multishot accept on and off (io/detail/accept_queue.h): many tasks
// accepting at once, connections queued before anyone accepts, the queue's
// bound, deadlines that lose nothing, closing a listener with tasks waiting
// in it, and a listener that outlives the runtime its request was armed on.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "io/detail/accept_queue.h"  // kCapacity, kernel_supports()
#include "tests/io/io_fixture.h"
#include "tests/support/eventually.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using io::ListenOptions;
using io::SocketAddress;
using io::TcpListener;
using io::TcpStream;

// (backend, workers, multishot)
using Param = std::tuple<IoBackend, std::size_t, bool>;

class AcceptTest : public testing::IoTestOver<Param> {
 protected:
  void SetUp() override {
    IoTestOver::SetUp();  // the runtime, and the stack count for the leak check
    auto l = TcpListener::bind(SocketAddress::loopback(0), {.multishot_accept = std::get<2>(GetParam())});
    ASSERT_TRUE(l.ok()) << l.error().message();
    port_ = l->local_address()->port();
    listener_ = std::move(*l);
  }
  void TearDown() override {
    listener_.close();
    IoTestOver::TearDown();
  }
  TcpListener& listener() { return listener_; }
  SocketAddress addr() const { return SocketAddress::loopback(port_); }
  // Whether accepts from tasks go through a multishot request here.
  bool multishot() const {
    return std::get<0>(GetParam()) == IoBackend::kUring && std::get<2>(GetParam()) &&
           io::detail::AcceptQueue::kernel_supports();
  }
  // A client that sends its id once connected, from a plain thread.
  TcpStream client(uint32_t id) {
    auto c = TcpStream::connect(addr(), WaitOptions::after(5s));
    EXPECT_TRUE(c.ok()) << c.error().message();
    EXPECT_TRUE(c->write_all(&id, sizeof id).ok());
    return std::move(*c);
  }

  TcpListener listener_;
  uint16_t port_ = 0;
};

std::string AcceptParamName(const ::testing::TestParamInfo<Param>& info) {
  return testing::IoParamName(info) + (std::get<2>(info.param) ? "_multishot" : "_single");
}

INSTANTIATE_TEST_SUITE_P(Io, AcceptTest,
                         ::testing::Combine(::testing::Values(IoBackend::kUring, IoBackend::kEpoll),
                                            ::testing::Values(1, 2, 4), ::testing::Bool()),
                         AcceptParamName);

// Reads the id a client sent and echoes it back.
uint32_t serve_one(TcpStream s) {
  uint32_t id = ~0u;
  if (!s.read_exact(&id, sizeof id, WaitOptions::after(5s))) return ~0u;
  if (!s.write_all(&id, sizeof id)) return ~0u;
  return id;
}

Task<uint32_t> async_serve_one(TcpStream s) {
  uint32_t id = ~0u;
  auto r = co_await s.async_read_exact(&id, sizeof id, WaitOptions::after(5s));
  if (!r) co_return ~0u;
  auto w = co_await s.async_write_all(&id, sizeof id);
  co_return w ? id : ~0u;
}

Task<std::vector<uint32_t>> coro_acceptor(TcpListener* l, int n) {
  std::vector<uint32_t> ids;
  for (int i = 0; i < n; ++i) {
    auto s = co_await l->async_accept(WaitOptions::after(10s));
    if (!s) break;
    ids.push_back(co_await async_serve_one(std::move(*s)));
  }
  co_return ids;
}

void expect_echo(TcpStream& c, uint32_t id) {
  uint32_t back = ~0u;
  EXPECT_TRUE(c.read_exact(&back, sizeof back, WaitOptions::after(5s)).ok());
  EXPECT_EQ(back, id);
}

TEST_P(AcceptTest, ManyFibersAndCoroutinesAcceptAtOnce) {
  constexpr int kPerTask = 25, kTasks = 8;
  std::vector<JoinHandle<std::vector<uint32_t>>> acceptors;
  for (int t = 0; t < kTasks / 2; ++t) {
    acceptors.push_back(rt().spawn_fiber([this] {
      std::vector<uint32_t> ids;
      for (int i = 0; i < kPerTask; ++i) {
        auto s = listener().accept(WaitOptions::after(10s));
        if (!s) break;
        ids.push_back(serve_one(std::move(*s)));
      }
      return ids;
    }));
    acceptors.push_back(rt().spawn(coro_acceptor(&listener(), kPerTask)));
  }
  std::vector<std::thread> connectors;
  for (int t = 0; t < 2; ++t) {
    connectors.emplace_back([this, t] {
      for (uint32_t i = 0; i < kPerTask * kTasks / 2; ++i) {
        uint32_t id = uint32_t(t) * 1000 + i;
        TcpStream c = client(id);
        expect_echo(c, id);
      }
    });
  }
  for (auto& t : connectors) t.join();
  std::set<uint32_t> seen;
  for (auto& h : acceptors) {
    for (uint32_t id : h.join()) EXPECT_TRUE(seen.insert(id).second) << "served twice: " << id;
  }
  EXPECT_EQ(seen.size(), size_t(kPerTask * kTasks));
  EXPECT_EQ(seen.count(~0u), 0u);
}

// Connections made while nobody accepts wait in the multishot queue (up to
// its bound) and the kernel's backlog; every one is accepted later.
TEST_P(AcceptTest, ConnectionsMadeBeforeAcceptingAreAllTakenAndTheQueueIsBounded) {
  constexpr uint32_t kCap = io::detail::AcceptQueue::kCapacity;
  // One accept arms the request (with multishot), then nobody accepts.
  auto first = rt().spawn_fiber([this] { return serve_one(*listener().accept(WaitOptions::after(5s))); });
  TcpStream c0 = client(0);
  expect_echo(c0, 0);
  EXPECT_EQ(first.join(), 0u);
  std::vector<TcpStream> clients;
  for (uint32_t i = 1; i <= kCap; ++i) clients.push_back(client(i));
  if (multishot()) {
    testing::eventually([&] { return listener().queued_connections() >= kCap; }, 5s);
    EXPECT_EQ(listener().queued_connections(), kCap);
  }
  for (uint32_t i = kCap + 1; i <= kCap + 10; ++i) clients.push_back(client(i));
  std::this_thread::sleep_for(50ms);
  // Full: the request was cancelled and the rest wait in the backlog.
  if (multishot()) EXPECT_EQ(listener().queued_connections(), kCap);
  else EXPECT_EQ(listener().queued_connections(), 0u);
  auto fibers = rt().spawn_fiber([this] {
    std::vector<uint32_t> ids;
    for (uint32_t i = 0; i < kCap / 2; ++i) ids.push_back(serve_one(*listener().accept(WaitOptions::after(5s))));
    return ids;
  });
  auto coros = rt().spawn(coro_acceptor(&listener(), int(kCap + 10 - kCap / 2)));
  std::set<uint32_t> seen;
  for (uint32_t id : fibers.join()) seen.insert(id);
  for (uint32_t id : coros.join()) seen.insert(id);
  EXPECT_EQ(seen.size(), size_t(kCap + 10));
  EXPECT_EQ(*seen.begin(), 1u);
  EXPECT_EQ(*seen.rbegin(), kCap + 10);
  for (uint32_t i = 0; i < clients.size(); ++i) expect_echo(clients[i], i + 1);
}

TEST_P(AcceptTest, DeadlinesAndStopTokensLoseNoConnection) {
  auto timed_out = rt().spawn_fiber([this] { return listener().accept(WaitOptions::after(20ms)).error(); });
  EXPECT_EQ(timed_out.join(), Errc::kTimedOut);
  std::stop_source stop;
  const std::stop_token token = stop.get_token();
  auto stopped = rt().spawn([](TcpListener* l, const std::stop_token* t) -> Task<std::error_code> {
    auto r = co_await l->async_accept(WaitOptions::cancel_on(*t));
    co_return r.error();
  }(&listener(), &token));
  std::this_thread::sleep_for(20ms);
  stop.request_stop();
  EXPECT_EQ(stopped.join(), Errc::kCancelled);
  // A connection that arrives now (a multishot request may still be armed
  // and take it) is accepted by the next call.
  TcpStream c = client(7);
  auto later = rt().spawn_fiber([this] { return serve_one(*listener().accept(WaitOptions::after(5s))); });
  EXPECT_EQ(later.join(), 7u);
  expect_echo(c, 7);
}

TEST_P(AcceptTest, ClosingTheListenerEndsWaitingAccepts) {
  std::atomic<int> waiting{0};
  auto fiber = rt().spawn_fiber([&] {
    ++waiting;
    return listener().accept(WaitOptions::after(10s)).error();
  });
  auto coro = rt().spawn([](TcpListener* l, std::atomic<int>* w) -> Task<std::error_code> {
    ++*w;
    auto r = co_await l->async_accept(WaitOptions::after(10s));
    co_return r.error();
  }(&listener(), &waiting));
  while (waiting.load() < 2) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);  // both parked in accept
  auto t0 = Clock::now();
  EXPECT_FALSE(listener().close());
  std::error_code f = fiber.join(), c = coro.join();
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_EQ(f, std::errc::bad_file_descriptor);
  EXPECT_EQ(c, std::errc::bad_file_descriptor);
  // The port is free again at once.
  auto again = TcpListener::bind(addr());
  EXPECT_TRUE(again.ok()) << again.error().message();
  // And a closed listener says so.
  EXPECT_EQ(rt().spawn_fiber([this] { return listener().accept().error(); }).join(), std::errc::bad_file_descriptor);
}

// Connections a multishot request accepted but no task took are closed with
// the listener: their clients see the end of the stream, not a hang.
TEST_P(AcceptTest, DroppingAListenerClosesConnectionsNobodyTook) {
  auto first = rt().spawn_fiber([this] { return serve_one(*listener().accept(WaitOptions::after(5s))); });
  TcpStream c0 = client(0);
  expect_echo(c0, 0);
  first.join();
  std::vector<TcpStream> clients;
  for (uint32_t i = 1; i <= 5; ++i) clients.push_back(client(i));
  if (multishot()) {
    testing::eventually([&] { return listener().queued_connections() >= 5; }, 5s);
    EXPECT_EQ(listener().queued_connections(), 5u);
  }
  { TcpListener gone = std::move(listener_); }
  for (auto& c : clients) {
    char b;
    auto r = c.read(&b, 1, WaitOptions::after(5s));
    EXPECT_TRUE(!r ? r.error() == std::errc::connection_reset : *r == 0) << (r ? "data" : r.error().message());
  }
}

// The runtime whose worker held the multishot request goes away; the
// listener keeps working in another.
TEST_P(AcceptTest, AListenerOutlivesTheRuntimeItsRequestWasArmedOn) {
  {
    Config c;
    c.io = std::get<0>(GetParam());
    c.workers = 1;
    Runtime other{c};
    auto h = other.spawn_fiber([this] { return serve_one(*listener().accept(WaitOptions::after(5s))); });
    TcpStream c1 = client(1);
    expect_echo(c1, 1);
    EXPECT_EQ(h.join(), 1u);
  }
  TcpStream c2 = client(2);
  auto h = rt().spawn(coro_acceptor(&listener(), 1));
  EXPECT_EQ(h.join(), std::vector<uint32_t>{2});
  expect_echo(c2, 2);
}

}  // namespace
}  // namespace weft
