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
  libgrpc++-dev protobuf-compiler-grpc libcurl4-openssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3 python3-prometheus-client python3-cryptography
  python3-pymodbus python3-serial python3-serial-asyncio mbpoll socat
  python3-grpcio python3-protobuf
  mosquitto mosquitto-clients openssl
  procps curl
  # fuzzing: clang with libFuzzer and the sanitizer runtimes (make test-fuzz)
  clang libclang-rt-14-dev
)

# Node.js and npm run the npm test peers (Tahu's sparkplug-payload, node-opcua). Debian's
# own (Node.js 18, npm 9) when there is none on the PATH; the peers' lock files are pinned
# to versions that run on it.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  DEB_PACKAGES+=(nodejs npm)
fi

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

# npm test peers (node_modules is gitignored): each folder pins its versions in
# package-lock.json and gets `npm ci` when node_modules is missing or older than the lock.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NPM_DIRS=(tests/interop/sparkplug-js tests/interop/opcua-js)
for d in "${NPM_DIRS[@]}"; do
  lock="$ROOT/$d/package-lock.json"
  stamp="$ROOT/$d/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "install-deps: npm is missing (needed for $d) although the Debian packages nodejs and npm were installed" >&2
      exit 1
    fi
    echo "install-deps: npm ci in $d"
    (cd "$ROOT/$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done
