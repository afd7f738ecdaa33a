// Where a task's outcome waits for its joiner: a value or an exception.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace weft::core {

template <class T>
class ResultSlot {
  static_assert(!std::is_reference_v<T>, "weft tasks return values, not references");

 public:
  template <class U>
  void set_value(U&& v) {
    value_.emplace(std::forward<U>(v));
  }
  void set_error(std::exception_ptr e) { error_ = std::move(e); }
  // Moves the value out, or rethrows the task's exception. The exception is
  // moved out too, so its last reference belongs to the joiner's thread: the
  // task's own thread may destroy the slot at any moment after the join.
  T take() {
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return std::move(*value_);
  }

 protected:
  std::exception_ptr error_;

 private:
  std::optional<T> value_;
};

template <>
class ResultSlot<void> {
 public:
  void set_value() {}
  void set_error(std::exception_ptr e) { error_ = std::move(e); }
  void take() {
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 protected:
  std::exception_ptr error_;
};

}  // namespace weft::core
