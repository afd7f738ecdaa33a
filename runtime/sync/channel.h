// weft::Channel<T>: many producers, many consumers, for fibers, coroutines
// and threads alike.
//   Channel<int> ch(16);                  // bounded; 0: rendezvous; Channel<int>::kUnbounded
//   ch.send(1);           co_await ch.async_send(v);
//   Result<int> r = ch.recv();    Result<int> r = co_await ch.async_recv();
//   ch.close();           // receivers drain what was sent, then get kClosed
//
// A failed send (closed, timed out, cancelled, full for try_send) leaves the
// value with the caller: send() moves from it only on success.
//
// Protocol, all under the channel's spin lock:
//   1. send: a waiting receiver takes the value directly (it is claimed first
//      if it belongs to a select); else the buffer takes it if there is room;
//      else the sender queues with a pointer to its value.
//   2. recv: the buffer's front, refilled from the first waiting sender; else
//      a waiting sender's value directly (rendezvous); else kClosed if closed;
//      else the receiver queues with a pointer to its empty slot.
//   3. close: every queued receiver and sender ends with Outcome::kClosed;
//      values still buffered stay receivable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <system_error>
#include <utility>

#include "runtime/core/result.h"
#include "runtime/sync/detail/select_case.h"
#include "runtime/sync/detail/wait.h"
#include "runtime/sync/detail/waiter.h"

namespace weft {

template <class T>
class Channel {
  using Try = sync::detail::Try;
  using Waiter = sync::detail::Waiter;
  using Outcome = sync::detail::Outcome;

 public:
  static constexpr std::size_t kUnbounded = SIZE_MAX;
  explicit Channel(std::size_t capacity) : capacity_(capacity) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() { close(); }

  // ---- blocking (fiber or thread) ----
  [[nodiscard]] std::error_code send(T&& value, const WaitOptions& options = kWaitForever) { return send_impl(&value, options); }
  [[nodiscard]] std::error_code send(const T& value, const WaitOptions& options = kWaitForever) {
    T copy(value);
    return send_impl(&copy, options);
  }
  Result<T> recv(const WaitOptions& options = kWaitForever) {
    std::optional<T> out;
    Waiter w;
    RecvOp op{this, &out};
    std::error_code ec = sync::detail::block(op, w, options);
    if (ec) return ec;
    return std::move(*out);
  }

  // ---- never waits: kWouldBlock when it would ----
  [[nodiscard]] std::error_code try_send(T&& value) {
    lock_.lock();
    Try t = try_send_locked(&value);
    lock_.unlock();
    return t == Try::kWait ? make_error_code(Errc::kWouldBlock) : sync::detail::to_error(t);
  }
  Result<T> try_recv() {
    std::optional<T> out;
    lock_.lock();
    Try t = try_recv_locked(&out);
    lock_.unlock();
    if (t == Try::kWait) return Errc::kWouldBlock;
    if (t == Try::kClosed) return Errc::kClosed;
    return std::move(*out);
  }

  void close();
  bool is_closed() {
    lock_.lock();
    bool c = closed_;
    lock_.unlock();
    return c;
  }
  std::size_t size() {
    lock_.lock();
    std::size_t n = buffer_.size();
    lock_.unlock();
    return n;
  }
  std::size_t capacity() const { return capacity_; }

  // ---- coroutines ----
  // The value is moved from only on success; an lvalue stays the caller's
  // on failure. std::error_code result. Awaited without WaitOptions, the
  // awaiter carries none (nothing to check, arm or keep in the frame).
  template <class Wait>
  class BasicSendAwaiter;
  template <class Wait>
  class BasicRecvAwaiter;
  using SendAwaiter = BasicSendAwaiter<sync::detail::TimedWait>;
  using RecvAwaiter = BasicRecvAwaiter<sync::detail::TimedWait>;
  using PlainSendAwaiter = BasicSendAwaiter<sync::detail::UntimedWait>;
  using PlainRecvAwaiter = BasicRecvAwaiter<sync::detail::UntimedWait>;
  PlainSendAwaiter async_send(T& value) { return PlainSendAwaiter(SendOp{this, &value}); }
  PlainSendAwaiter async_send(T&& value) { return PlainSendAwaiter(SendOp{this, &value}); }
  PlainRecvAwaiter async_recv() { return PlainRecvAwaiter(this); }
  SendAwaiter async_send(T& value, const WaitOptions& options) { return SendAwaiter(SendOp{this, &value}, options); }
  SendAwaiter async_send(T&& value, const WaitOptions& options) { return SendAwaiter(SendOp{this, &value}, options); }
  RecvAwaiter async_recv(const WaitOptions& options) { return RecvAwaiter(this, options); }

  // ---- select cases (see select.h) ----
  class RecvCase;
  class SendCase;

 private:
  struct SendOp {
    Channel* ch;
    T* value;
    static constexpr core::WaitReason kReason = core::WaitReason::kChannel;
    static constexpr bool kMayRetry = false;
    sync::detail::Lock& lock() { return ch->lock_; }
    [[gnu::always_inline]] Try try_now(Waiter&) { return ch->try_send_locked(value); }
    void enqueue(Waiter& w) {
      w.slot = value;
      ch->senders_.push_back(&w);
    }
    void dequeue(Waiter& w) { ch->senders_.remove(&w); }
  };
  struct RecvOp {
    Channel* ch;
    std::optional<T>* out;
    static constexpr core::WaitReason kReason = core::WaitReason::kChannel;
    static constexpr bool kMayRetry = false;
    sync::detail::Lock& lock() { return ch->lock_; }
    [[gnu::always_inline]] Try try_now(Waiter&) { return ch->try_recv_locked(out); }
    void enqueue(Waiter& w) {
      w.slot = out;
      ch->receivers_.push_back(&w);
    }
    void dequeue(Waiter& w) { ch->receivers_.remove(&w); }
  };

  std::error_code send_impl(T* value, const WaitOptions& options) {
    Waiter w;
    SendOp op{this, value};
    return sync::detail::block(op, w, options);
  }

  // The first queued waiter that is not a select already won elsewhere.
  static Waiter* pop_claimed(sync::detail::WaitList& list) {
    while (Waiter* w = list.pop_front()) {
      if (w->claim()) return w;
    }
    return nullptr;
  }

  Try try_send_locked(T* value) {  // protocol step 1
    if (closed_) return Try::kClosed;
    if (Waiter* r = pop_claimed(receivers_)) {
      static_cast<std::optional<T>*>(r->slot)->emplace(std::move(*value));
      sync::detail::finish_under_lock(r, Outcome::kGranted);
      return Try::kDone;
    }
    if (buffer_.size() < capacity_) {
      buffer_.push_back(std::move(*value));
      return Try::kDone;
    }
    return Try::kWait;
  }
  // Inline even where it is not the only caller: a coroutine's recv would
  // otherwise pay a call under the lock on every wait.
  [[gnu::always_inline]] Try try_recv_locked(std::optional<T>* out) {  // protocol step 2
    if (!buffer_.empty()) {
      out->emplace(std::move(buffer_.front()));
      buffer_.pop_front();
      if (Waiter* s = pop_claimed(senders_)) {
        buffer_.push_back(std::move(*static_cast<T*>(s->slot)));
        sync::detail::finish_under_lock(s, Outcome::kGranted);
      }
      return Try::kDone;
    }
    if (Waiter* s = pop_claimed(senders_)) {
      out->emplace(std::move(*static_cast<T*>(s->slot)));
      sync::detail::finish_under_lock(s, Outcome::kGranted);
      return Try::kDone;
    }
    return closed_ ? Try::kClosed : Try::kWait;
  }

  sync::detail::Lock lock_;
  std::deque<T> buffer_;
  sync::detail::WaitList senders_;
  sync::detail::WaitList receivers_;
  const std::size_t capacity_;
  bool closed_ = false;
};

template <class T>
void Channel<T>::close() {
  lock_.lock();
  closed_ = true;
  while (Waiter* w = pop_claimed(receivers_)) sync::detail::finish_under_lock(w, Outcome::kClosed);
  while (Waiter* w = pop_claimed(senders_)) sync::detail::finish_under_lock(w, Outcome::kClosed);
  lock_.unlock();
}

template <class T>
template <class Wait>
class Channel<T>::BasicSendAwaiter : public sync::detail::OpAwaiter<SendOp, Wait> {
 public:
  using sync::detail::OpAwaiter<SendOp, Wait>::OpAwaiter;
};

template <class T>
template <class Wait>
class Channel<T>::BasicRecvAwaiter : public sync::detail::OpAwaiter<RecvOp, Wait> {
 public:
  template <class... WaitArgs>
  explicit BasicRecvAwaiter(Channel* ch, const WaitArgs&... wait_args)
      : sync::detail::OpAwaiter<RecvOp, Wait>(RecvOp{ch, &out_}, wait_args...) {}
  [[gnu::always_inline]] Result<T> await_resume() {
    if (!this->finish()) return this->error();
    return std::move(*out_);
  }

 private:
  std::optional<T> out_;
};

// select() cases. A RecvCase's value() holds what it received.
template <class T>
class Channel<T>::RecvCase final : public sync::detail::SelectCase {
 public:
  explicit RecvCase(Channel& ch) : op_{&ch, &value_} {}
  std::optional<T>& value() { return value_; }
  sync::detail::Lock& lock() override { return op_.lock(); }
  Try try_now() override { return note(op_.try_now(waiter)); }
  void enqueue() override { op_.enqueue(waiter); }
  void dequeue() override { op_.dequeue(waiter); }

 private:
  Try note(Try t) {
    closed_ = t == Try::kClosed;
    return t;
  }
  std::optional<T> value_;
  RecvOp op_;
};

template <class T>
class Channel<T>::SendCase final : public sync::detail::SelectCase {
 public:
  // `value` is moved from only if this case is the one that completes.
  SendCase(Channel& ch, T& value) : op_{&ch, &value} {}
  sync::detail::Lock& lock() override { return op_.lock(); }
  Try try_now() override {
    Try t = op_.try_now(waiter);
    closed_ = t == Try::kClosed;
    return t;
  }
  void enqueue() override { op_.enqueue(waiter); }
  void dequeue() override { op_.dequeue(waiter); }

 private:
  SendOp op_;
};

}  // namespace weft
