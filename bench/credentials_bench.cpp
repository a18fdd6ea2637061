// Credential store costs: PBKDF2 key derivation (deliberately slow, paid once per
// process start or `creds` command) and Fernet encrypt/decrypt of a short secret.
// Run: build/bench/credentials_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "credentials/fernet.h"
#include "credentials/kdf.h"

namespace uc::credentials {
namespace {

constexpr const char* kSecret = "db-password-0123456789";  // a short secret (22 bytes)

void BM_DeriveKey(benchmark::State& state) {
  const auto iterations = static_cast<std::uint32_t>(state.range(0));
  const std::string salt(kSaltBytes, 's');
  for (auto _ : state) {
    auto key = derive_key("correct horse battery staple", salt, iterations);
    if (!key) std::abort();
    benchmark::DoNotOptimize(key->raw().data());
  }
}
BENCHMARK(BM_DeriveKey)->Arg(kDefaultIterations)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_FernetEncrypt(benchmark::State& state) {
  Fernet f(FernetKey::generate().value());
  for (auto _ : state) {
    auto token = f.encrypt(kSecret);
    if (!token) std::abort();
    benchmark::DoNotOptimize(token->data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FernetEncrypt);

void BM_FernetDecrypt(benchmark::State& state) {
  Fernet f(FernetKey::generate().value());
  const std::string token = f.encrypt(kSecret).value();
  for (auto _ : state) {
    auto plain = f.decrypt(token);
    if (!plain) std::abort();
    benchmark::DoNotOptimize(plain->data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FernetDecrypt);

}  // namespace
}  // namespace uc::credentials

BENCHMARK_MAIN();
