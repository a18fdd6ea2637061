#!/usr/bin/env bash
# Installs every Debian package the build, the demo and the tests need.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail

DEB_PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # libraries
  libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev
  libasio-dev libprotobuf-dev protobuf-compiler libpcre2-dev libssl-dev libmodbus-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3 python3-prometheus-client python3-cryptography
  python3-pymodbus python3-serial python3-serial-asyncio mbpoll socat
  procps curl
  # fuzzing: clang with libFuzzer and the sanitizer runtimes (make test-fuzz)
  clang libclang-rt-14-dev
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi
