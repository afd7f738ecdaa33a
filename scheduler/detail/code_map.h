// Where a preempt signal may take the CPU from a fiber: the address ranges of
// the loaded code, sorted once at start-up so the signal handler only reads.
//
// An interrupted instruction is at a safe point when it lies in the
// application's own code:
//   - inside an executable segment of the program or of a shared object that
//     is not a system library (anything under /lib, /usr/lib, and the vDSO:
//     libc, the dynamic loader, libstdc++, libgcc, the sanitizer runtimes,
//     liburing, Boost.Context), and
//   - not inside one of weft's own functions: symbols in namespace weft (and
//     standard-library templates instantiated for weft's types), read from
//     each object's ELF symbol table (.symtab, else .dynsym), nor in the
//     linker's call stubs (.plt sections).
// Code loaded later (dlopen) is in no range, so it is never a safe point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace weft::sched::detail {

class CodeMap {
 public:
  // Builds the map on first use (not async-signal-safe: call it before any
  // signal may need it); later calls return the same map.
  static const CodeMap& instance();
  // The map if it is built, else nullptr. Async-signal-safe.
  static const CodeMap* built();

  bool is_safe_point(uintptr_t pc) const;
  std::size_t weft_ranges() const { return weft_.size(); }
  std::size_t app_ranges() const { return app_.size(); }

  // A mangled name that belongs to weft's runtime (exposed for tests).
  static bool is_weft_symbol(std::string_view mangled);

 private:
  struct Range {
    uintptr_t lo;
    uintptr_t hi;  // exclusive
  };
  CodeMap() = default;
  void build();
  void add_weft_symbols(const char* path, uintptr_t bias);
  static bool contains(const std::vector<Range>& sorted, uintptr_t pc);
  static void sort_and_merge(std::vector<Range>& ranges);

  std::vector<Range> app_;   // executable segments of application objects
  std::vector<Range> weft_;  // weft's functions within them
};

}  // namespace weft::sched::detail
