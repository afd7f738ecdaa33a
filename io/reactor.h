// Chooses each worker's I/O reactor: io_uring (detail/uring_driver.h) where
// it can be set up, epoll (detail/epoll_driver.h) otherwise. The Runtime
// hands driver_factory() to its Scheduler.
#pragma once

#include "scheduler/config.h"
#include "scheduler/driver.h"

namespace weft::io {

// What a Runtime asking for `requested` gets. WEFT_IO=uring|epoll overrides
// the request; io_uring that cannot be set up (ENOSYS, EPERM, the
// kernel.io_uring_disabled sysctl, a missing opcode) falls back to epoll and
// says so once on stderr.
IoBackend resolve_backend(IoBackend requested);
const char* to_string(IoBackend backend);

sched::DriverFactory driver_factory(IoBackend requested);

}  // namespace weft::io
