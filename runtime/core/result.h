// weft::Result<T>: a value or the std::error_code that says why there is none
// (see error.h). value() throws std::system_error for callers who prefer
// exceptions; ok()/error() for those who branch.
#pragma once

#include <optional>
#include <system_error>
#include <utility>

#include "runtime/core/error.h"

namespace weft {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit, like std::expected
  Result(std::error_code ec) : ec_(ec) {}        // NOLINT
  Result(Errc e) : ec_(make_error_code(e)) {}    // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  std::error_code error() const { return ec_.get(); }

  T& value() & {
    if (!value_) throw std::system_error(error());
    return *value_;
  }
  T&& value() && {
    if (!value_) throw std::system_error(error());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }

 private:
  std::optional<T> value_;
  StoredError ec_;  // not a std::error_code: see error.h
};

}  // namespace weft
