#include "io/file.h"

#include "io/detail/perform.h"
#include "io/detail/socket_util.h"

namespace weft::io {

using detail::io_spec;
using detail::OpKind;
using detail::OpSpec;

namespace {
OpSpec at(OpKind kind, int fd, const void* buf, size_t len, uint64_t offset) {
  OpSpec s = io_spec(kind, fd, buf, len);
  s.offset = offset;
  return s;
}
}  // namespace

Result<File> File::open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return detail::last_error();
  return File(detail::Fd(fd));
}

Result<size_t> File::read_at(void* buf, size_t len, uint64_t offset, const WaitOptions& options) {
  return detail::to_size(detail::perform(at(OpKind::kRead, fd_.get(), buf, len, offset), options));
}

core::Task<Result<size_t>> File::async_read_at(void* buf, size_t len, uint64_t offset, WaitOptions options) {
  OpSpec spec = at(OpKind::kRead, fd_.get(), buf, len, offset);
  co_return detail::to_size(co_await detail::async_perform(spec, options));
}

Result<size_t> File::write_at(const void* buf, size_t len, uint64_t offset, const WaitOptions& options) {
  size_t done = 0;
  while (done < len) {
    const char* p = static_cast<const char*>(buf) + done;
    Result<int> r = detail::perform(at(OpKind::kWrite, fd_.get(), p, len - done, offset + done), options);
    if (!r) return r.error();
    if (*r == 0) return std::make_error_code(std::errc::no_space_on_device);
    done += size_t(*r);
  }
  return done;
}

core::Task<Result<size_t>> File::async_write_at(const void* buf, size_t len, uint64_t offset,
                                                WaitOptions options) {
  size_t done = 0;
  while (done < len) {
    OpSpec spec = at(OpKind::kWrite, fd_.get(), static_cast<const char*>(buf) + done, len - done, offset + done);
    Result<int> r = co_await detail::async_perform(spec, options);
    if (!r) co_return r.error();
    if (*r == 0) co_return std::make_error_code(std::errc::no_space_on_device);
    done += size_t(*r);
  }
  co_return done;
}

std::error_code File::fsync(const WaitOptions& options) {
  OpSpec s;
  s.kind = OpKind::kFsync;
  s.fd = fd_.get();
  Result<int> r = detail::perform(s, options);
  return r ? std::error_code{} : r.error();
}

core::Task<std::error_code> File::async_fsync(WaitOptions options) {
  OpSpec s;
  s.kind = OpKind::kFsync;
  s.fd = fd_.get();
  Result<int> r = co_await detail::async_perform(s, options);
  co_return r ? std::error_code{} : r.error();
}

}  // namespace weft::io
