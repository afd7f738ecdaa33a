// The receiving end of one multishot io_uring request (a listener's
// multishot accept): one request, many CQEs, each flagged
// IORING_CQE_F_MORE while the request stays armed.
#pragma once

#include <cstdint>

namespace weft::io::detail {

class MultishotSink {
 public:
  // On the ring owner's thread, once per CQE. `more`: the request is still
  // armed; the last call has it false (an error, a cancel, or the ring
  // shutting down, which passes -ECANCELED), and the ring forgets the sink.
  virtual void on_cqe(int32_t res, bool more) = 0;

 protected:
  ~MultishotSink() = default;
};

}  // namespace weft::io::detail
