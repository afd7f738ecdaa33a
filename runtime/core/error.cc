#include "runtime/core/error.h"

#include <string>

namespace weft {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "weft"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kTimedOut: return "timed out";
      case Errc::kCancelled: return "cancelled";
      case Errc::kClosed: return "closed";
      case Errc::kWouldBlock: return "would block";
      case Errc::kEndOfStream: return "end of stream before the full length";
    }
    return "unknown weft error";
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kTimedOut: return std::errc::timed_out;
      case Errc::kCancelled: return std::errc::operation_canceled;
      case Errc::kClosed: return std::errc::broken_pipe;
      case Errc::kWouldBlock: return std::errc::operation_would_block;
      case Errc::kEndOfStream: return std::errc::connection_aborted;
    }
    return {ev, *this};
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

}  // namespace weft
