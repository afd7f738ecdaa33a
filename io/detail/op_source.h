// Where an Op's completion comes from, for perform_from(): the ring (the Op
// is submitted; a cancel still ends in its own CQE) or a listener's accept
// queue (the Op waits in the queue for the next connection; leaving the
// queue means it never completes).
#pragma once

namespace weft::io::detail {

class Op;
class UringDriver;

class OpSource {
 public:
  // On the waiting task's thread; `ring` is its worker's. May complete `op`
  // at once (a connection already queued).
  virtual void start(Op& op, UringDriver& ring) = 0;
  // The wait ended first (deadline, stop token). True: `op` will never be
  // completed and may go now. False: it is or will be completed; wait for
  // that (its buffers are still in use).
  virtual bool withdraw(Op& op) = 0;

 protected:
  ~OpSource() = default;
};

}  // namespace weft::io::detail
