// UDP datagrams and files, for fibers, coroutines and plain threads, under
// both reactors.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/io/io_fixture.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using io::File;
using io::SocketAddress;
using io::UdpSocket;
using testing::IoTest;

class UdpFileTest : public IoTest {
 protected:
  std::string temp_path() {
    const char* dir = std::getenv("TEST_TMPDIR");
    return std::string(dir ? dir : "/tmp") + "/weft_file_" + std::to_string(::getpid()) + "_" +
           std::to_string(counter_++);
  }
  int counter_ = 0;
};
WEFT_INSTANTIATE_OVER_BACKENDS(UdpFileTest);

TEST_P(UdpFileTest, UdpRoundTripWithSenderAddress) {
  auto a = UdpSocket::bind(SocketAddress::loopback(0));
  auto b = UdpSocket::bind(SocketAddress::loopback(0));
  ASSERT_TRUE(a.ok() && b.ok());
  const SocketAddress a_addr = *a->local_address();
  const SocketAddress b_addr = *b->local_address();
  // b: a coroutine that answers each datagram with its upper-case copy.
  auto server = rt().spawn([](UdpSocket* s) -> Task<int> {
    for (int i = 0; i < 3; ++i) {
      char buf[64];
      SocketAddress from;
      auto n = co_await s->async_recv_from(buf, sizeof buf, &from);
      if (!n) co_return i;
      for (size_t k = 0; k < *n; ++k) buf[k] = char(std::toupper(buf[k]));
      if (!co_await s->async_send_to(buf, *n, from)) co_return i;
    }
    co_return 3;
  }(&*b));
  auto client = rt().spawn_fiber([&] {
    for (const char* word : {"one", "two", "three"}) {
      if (!a->send_to(word, std::strlen(word), b_addr)) return false;
      char buf[64];
      SocketAddress from;
      auto n = a->recv_from(buf, sizeof buf, &from, WaitOptions::after(5s));
      if (!n || from.port() != b_addr.port()) return false;
      std::string got(buf, *n), want(word);
      for (auto& ch : want) ch = char(std::toupper(ch));
      if (got != want) return false;
    }
    return true;
  });
  EXPECT_TRUE(client.join());
  EXPECT_EQ(server.join(), 3);
  (void)a_addr;
}

TEST_P(UdpFileTest, UdpReceiveTimesOut) {
  auto a = UdpSocket::bind(SocketAddress::loopback(0));
  ASSERT_TRUE(a.ok());
  auto h = rt().spawn_fiber([&] {
    char buf[8];
    return a->recv_from(buf, sizeof buf, nullptr, WaitOptions::after(20ms)).error();
  });
  EXPECT_EQ(h.join(), Errc::kTimedOut);
}

TEST_P(UdpFileTest, FileWriteReadAtOffsetsAndFsync) {
  const std::string path = temp_path();
  auto f = File::open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  ASSERT_TRUE(f.ok()) << f.error().message();
  auto fiber = rt().spawn_fiber([&] {
    std::string a(10000, 'a');
    if (!f->write_at(a.data(), a.size(), 0)) return false;
    if (!f->write_at("XYZ", 3, 5000)) return false;
    if (f->fsync()) return false;
    char buf[5];
    auto n = f->read_at(buf, 5, 4999);
    if (!n || *n != 5 || std::memcmp(buf, "aXYZa", 5) != 0) return false;
    auto eof = f->read_at(buf, 5, 10000);
    return eof.ok() && *eof == 0;
  });
  EXPECT_TRUE(fiber.join());
  auto coro = rt().spawn([](File* f) -> Task<bool> {
    auto w = co_await f->async_write_at("tail", 4, 10000);
    if (!w || *w != 4) co_return false;
    if (co_await f->async_fsync()) co_return false;
    char buf[4];
    auto r = co_await f->async_read_at(buf, 4, 10000);
    co_return r.ok() && *r == 4 && std::memcmp(buf, "tail", 4) == 0;
  }(&*f));
  EXPECT_TRUE(coro.join());
  // From a plain thread, through a wrapped descriptor.
  File g = File::from_fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[3];
  auto n = g.read_at(buf, 3, 5000);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, 3), "XYZ");
  ::unlink(path.c_str());
}

TEST_P(UdpFileTest, FileErrorsAreTyped) {
  auto missing = File::open("/nonexistent/weft");
  EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
  const std::string path = temp_path();
  auto ro = File::open(path, O_RDONLY | O_CREAT, 0600);
  ASSERT_TRUE(ro.ok());
  auto h = rt().spawn_fiber([&] { return ro->write_at("x", 1, 0).error(); });
  EXPECT_EQ(h.join(), std::errc::bad_file_descriptor);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace weft
