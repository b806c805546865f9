#!/usr/bin/env bash
# Installs everything sllm needs on Debian 12 (apt and npm), then configures and builds.
# Idempotent and quick when already done. Usage: scripts/setup.sh [BUILD_DIR] (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"

apt_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates
  libtorch-dev libblis4-openmp
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev libgoogle-glog-dev libgflags-dev
  nlohmann-json3-dev libpcre2-dev libicu-dev libbenchmark-dev libboost-dev libcurl4-openssl-dev libssl-dev
  nodejs python3 python3-grpcio clang libclang-rt-14-dev
  prometheus yamllint python3-yaml gnuplot-nox
)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian prometheus package enables a system service; the deploy tests start their own
# server on loopback, so keep the packaged one (and its node exporter) off where systemd runs.
if [ -d /run/systemd/system ]; then
  $sudo_cmd systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi
# Debian's nodejs ships npm separately; NodeSource's nodejs bundles it (and conflicts with it).
if ! command -v npm >/dev/null; then
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends npm
fi

# Reference implementations the tests compare against (never vendored): npm packages.
ref=$root/tests/reference
if [ ! -f "$ref/node_modules/.sllm-stamp" ] || [ "$ref/package-lock.json" -nt "$ref/node_modules/.sllm-stamp" ]; then
  echo "setup: npm ci in tests/reference"
  (cd "$ref" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$ref/node_modules/.sllm-stamp"
fi

# ccache keys on paths relative to the checkout, so a fresh clone (CI) reuses earlier compiles.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
# Configure once, then build incrementally.
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${SLLM_BUILD_TYPE:-Release} ${SLLM_CMAKE_ARGS:-}
fi
cmake --build "$build" -j "$(nproc)"
