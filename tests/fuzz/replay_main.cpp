// The driver that runs a fuzz target without libFuzzer, so every target is exercised in
// the normal GCC build and under ASan/UBSan as a unit test: it feeds each seed file, then
// `--mutations N` deterministic mutants of each seed (bit flips, byte changes, cuts,
// duplicated and inserted runs). With clang, `make test` also runs the same targets
// under libFuzzer for a bounded time (tests/fuzz/CMakeLists.txt).
//
// Usage: <target>_replay [--mutations N] [--seed S] <file or directory>...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void run(const Bytes& b) {
  // A copy sized exactly, so ASan catches a read one past the end.
  auto* buf = static_cast<std::uint8_t*>(std::malloc(b.empty() ? 1 : b.size()));
  if (!b.empty()) std::memcpy(buf, b.data(), b.size());
  LLVMFuzzerTestOneInput(buf, b.size());
  std::free(buf);
}

Bytes mutate(Bytes b, std::mt19937_64& rng) {
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int s = 0; s < steps; ++s) {
    const std::size_t n = b.size();
    switch (rng() % 6) {
      case 0:
        if (n > 0) b[rng() % n] ^= static_cast<std::uint8_t>(1U << (rng() % 8));
        break;
      case 1:
        if (n > 0) b[rng() % n] = static_cast<std::uint8_t>(rng());
        break;
      case 2:
        if (n > 0) b.resize(rng() % n);
        break;
      case 3: {  // an interesting value (0, 0xFF, 0x7F, 0x80) somewhere
        static constexpr std::uint8_t kInteresting[] = {0x00, 0xFF, 0x7F, 0x80};
        if (n > 0) b[rng() % n] = kInteresting[rng() % 4];
        break;
      }
      case 4: {  // duplicate a run
        if (n == 0) break;
        const std::size_t at = rng() % n;
        const std::size_t len = 1 + rng() % std::min<std::size_t>(n - at, 64);
        const Bytes run(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + len));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng() % (n + 1)), run.begin(), run.end());
        break;
      }
      default: {  // insert random bytes
        const std::size_t len = 1 + rng() % 16;
        Bytes r(len);
        for (auto& x : r) x = static_cast<std::uint8_t>(rng());
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng() % (n + 1)), r.begin(), r.end());
      }
    }
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 0;
  std::uint64_t seed = 1;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::strtol(argv[++i], nullptr, 10);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else if (std::filesystem::is_regular_file(a)) {
      files.emplace_back(a);
    } else {
      std::fprintf(stderr, "no such file or directory: %s\n", a.c_str());
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "no seed inputs given\n");
    return 2;
  }
  std::sort(files.begin(), files.end());
  std::mt19937_64 rng(seed);
  long runs = 0;
  for (const auto& f : files) {
    const Bytes b = read_file(f);
    run(b);
    ++runs;
    for (long m = 0; m < mutations; ++m, ++runs) run(mutate(b, rng));
  }
  run({});
  std::printf("%ld inputs from %zu seeds ran without a fault\n", runs + 1, files.size());
  return 0;
}
