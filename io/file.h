// Files: read and write at an offset, fsync, close; blocking (fiber/thread)
// and co_await forms, errors as in tcp.h. Under io_uring the reads and
// writes go through the worker's ring; under epoll (regular files are
// always "ready") they run inline on the worker.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "io/detail/fd.h"
#include "runtime/core/coroutine.h"
#include "runtime/core/result.h"
#include "runtime/core/wait_options.h"

namespace weft::io {

class File {
 public:
  File() = default;
  // open(2) flags and mode; O_CLOEXEC is added.
  static Result<File> open(const std::string& path, int flags = O_RDONLY, mode_t mode = 0644);
  // Takes ownership of an open fd.
  static File from_fd(int fd) { return File(detail::Fd(fd)); }

  // Up to `len` bytes at `offset`; 0 is end of file.
  Result<size_t> read_at(void* buf, size_t len, uint64_t offset, const WaitOptions& options = kWaitForever);
  core::Task<Result<size_t>> async_read_at(void* buf, size_t len, uint64_t offset, WaitOptions options = {});
  // All `len` bytes at `offset`, across short writes.
  Result<size_t> write_at(const void* buf, size_t len, uint64_t offset, const WaitOptions& options = kWaitForever);
  core::Task<Result<size_t>> async_write_at(const void* buf, size_t len, uint64_t offset, WaitOptions options = {});
  std::error_code fsync(const WaitOptions& options = kWaitForever);
  core::Task<std::error_code> async_fsync(WaitOptions options = {});

  std::error_code close() { return fd_.close(); }
  int native_handle() const { return fd_.get(); }
  bool is_open() const { return fd_.valid(); }

 private:
  explicit File(detail::Fd fd) : fd_(std::move(fd)) {}
  detail::Fd fd_;
};

}  // namespace weft::io
