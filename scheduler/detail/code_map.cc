#include "scheduler/detail/code_map.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

namespace weft::sched::detail {

namespace {

std::atomic<const CodeMap*> g_built{nullptr};  // release: pairs with built()'s acquire

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Libraries whose code may hold locks the application cannot see (malloc's,
// stdio's, the loader's): never a safe point.
bool is_system_object(const char* path) {
  std::string_view p(path);
  if (p.empty()) return false;  // the program itself
  if (p.find('/') == std::string_view::npos) return true;  // linux-vdso.so.1
  return starts_with(p, "/lib/") || starts_with(p, "/lib64/") || starts_with(p, "/usr/lib/") ||
         starts_with(p, "/usr/lib64/") || starts_with(p, "/usr/local/lib/");
}

// An mmap'ed ELF file, unmapped on scope exit.
struct MappedFile {
  void* data = MAP_FAILED;
  std::size_t size = 0;
  explicit MappedFile(const char* path) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      size = std::size_t(st.st_size);
      data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data != MAP_FAILED) ::munmap(data, size);
  }
  bool ok() const { return data != MAP_FAILED && size >= sizeof(Elf64_Ehdr); }
  const char* bytes() const { return static_cast<const char*>(data); }
  bool holds(uint64_t off, uint64_t len) const { return off <= size && len <= size - off; }
};

struct Loaded {
  std::string path;
  uintptr_t bias;
  std::vector<std::pair<uintptr_t, uintptr_t>> exec;
};

int collect(dl_phdr_info* info, std::size_t, void* out) {
  auto& objects = *static_cast<std::vector<Loaded>*>(out);
  Loaded obj{info->dlpi_name ? info->dlpi_name : "", info->dlpi_addr, {}};
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    obj.exec.emplace_back(lo, lo + ph.p_memsz);
  }
  objects.push_back(std::move(obj));
  return 0;
}

}  // namespace

const CodeMap& CodeMap::instance() {
  static std::once_flag once;
  static CodeMap* map = nullptr;
  std::call_once(once, [] {
    map = new CodeMap();  // never freed: a signal handler may read it at exit
    map->build();
    g_built.store(map, std::memory_order_release);
  });
  return *map;
}

const CodeMap* CodeMap::built() { return g_built.load(std::memory_order_acquire); }

bool CodeMap::is_weft_symbol(std::string_view s) {
  // Functions in namespace weft: weft::f, members however qualified (const,
  // volatile, & or &&: "_ZNK4weft"), and their local entities at any depth
  // (a lambda inside a lambda inside weft::f is "_ZZZN4weft...").
  if (starts_with(s, "_Z")) {
    std::string_view rest = s.substr(2);
    while (starts_with(rest, "Z")) rest.remove_prefix(1);
    if (starts_with(rest, "N")) rest.remove_prefix(std::min(rest.find_first_not_of("rVKRO", 1), rest.size()));
    if (starts_with(rest, "4weft")) return true;
  }
  // Standard-library code instantiated for weft's own types (a timer heap's
  // vector growing, say) runs inside weft's data structures.
  bool weft_type = s.find("N4weft") != std::string_view::npos;
  for (std::string_view p : {"_ZNSt", "_ZNKSt", "_ZSt", "_ZNSa", "_ZN9__gnu_cxx", "_ZNK9__gnu_cxx", "_ZT"})
    if (starts_with(s, p) && weft_type) return true;
  // Boost.Context's switch, if it were linked in statically.
  return starts_with(s, "jump_fcontext") || starts_with(s, "make_fcontext") || starts_with(s, "ontop_fcontext");
}

void CodeMap::build() {
  std::vector<Loaded> objects;
  dl_iterate_phdr(collect, &objects);
  for (std::size_t i = 0; i < objects.size(); ++i) {
    Loaded& o = objects[i];
    if (is_system_object(o.path.c_str())) continue;
    // The first object is the program; its name is empty.
    const char* file = (i == 0 && o.path.empty()) ? "/proc/self/exe" : o.path.c_str();
    if (o.path.empty() && i != 0) continue;
    for (auto [lo, hi] : o.exec) app_.push_back({lo, hi});
    add_weft_symbols(file, o.bias);
  }
  sort_and_merge(app_);
  sort_and_merge(weft_);
}

void CodeMap::add_weft_symbols(const char* path, uintptr_t bias) {
  MappedFile f(path);
  if (!f.ok()) return;
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(f.bytes());
  if (std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) return;
  if (eh->e_shentsize != sizeof(Elf64_Shdr) || !f.holds(eh->e_shoff, uint64_t(eh->e_shnum) * sizeof(Elf64_Shdr)))
    return;
  const auto* sh = reinterpret_cast<const Elf64_Shdr*>(f.bytes() + eh->e_shoff);
  const Elf64_Shdr* symtab = nullptr;
  for (int i = 0; i < eh->e_shnum; ++i) {
    if (sh[i].sh_type == SHT_SYMTAB) symtab = &sh[i];  // has local symbols too: preferred
    if (sh[i].sh_type == SHT_DYNSYM && symtab == nullptr) symtab = &sh[i];
  }
  if (symtab == nullptr || symtab->sh_link >= eh->e_shnum) return;
  const Elf64_Shdr& strtab = sh[symtab->sh_link];
  if (!f.holds(symtab->sh_offset, symtab->sh_size) || !f.holds(strtab.sh_offset, strtab.sh_size)) return;
  // The linker's call stubs (PLT) have no symbols; weft's own calls between
  // its libraries go through them: never a safe point.
  const Elf64_Shdr& shstr = sh[eh->e_shstrndx < eh->e_shnum ? eh->e_shstrndx : 0];
  for (int i = 0; i < eh->e_shnum && f.holds(shstr.sh_offset, shstr.sh_size); ++i) {
    if (sh[i].sh_name >= shstr.sh_size || (sh[i].sh_flags & SHF_EXECINSTR) == 0) continue;
    std::string_view name(f.bytes() + shstr.sh_offset + sh[i].sh_name);
    if (starts_with(name, ".plt")) weft_.push_back({bias + sh[i].sh_addr, bias + sh[i].sh_addr + sh[i].sh_size});
  }
  const auto* syms = reinterpret_cast<const Elf64_Sym*>(f.bytes() + symtab->sh_offset);
  const char* names = f.bytes() + strtab.sh_offset;
  for (std::size_t i = 0; i < symtab->sh_size / sizeof(Elf64_Sym); ++i) {
    const Elf64_Sym& s = syms[i];
    if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF || s.st_size == 0) continue;
    if (s.st_name >= strtab.sh_size) continue;
    std::string_view name(names + s.st_name, strnlen(names + s.st_name, strtab.sh_size - s.st_name));
    if (is_weft_symbol(name)) weft_.push_back({bias + s.st_value, bias + s.st_value + s.st_size});
  }
}

void CodeMap::sort_and_merge(std::vector<Range>& r) {
  std::sort(r.begin(), r.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> out;
  for (const Range& x : r) {
    if (!out.empty() && x.lo <= out.back().hi) {
      out.back().hi = std::max(out.back().hi, x.hi);
    } else {
      out.push_back(x);
    }
  }
  r = std::move(out);
}

bool CodeMap::contains(const std::vector<Range>& sorted, uintptr_t pc) {
  // The last range starting at or below pc (binary search: no allocation).
  auto it = std::upper_bound(sorted.begin(), sorted.end(), pc, [](uintptr_t v, const Range& x) { return v < x.lo; });
  if (it == sorted.begin()) return false;
  --it;
  return pc < it->hi;
}

bool CodeMap::is_safe_point(uintptr_t pc) const { return contains(app_, pc) && !contains(weft_, pc); }

}  // namespace weft::sched::detail
