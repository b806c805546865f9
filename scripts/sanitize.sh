#!/usr/bin/env bash
# Builds sllm with sanitizers in its own build directory and runs the tests there.
#
#   scripts/sanitize.sh address [ctest args...]   # ASan + UBSan (+ LeakSanitizer), build-asan/
#   scripts/sanitize.sh thread  [ctest args...]   # TSan, build-tsan/
#
# Every label runs except deploy (Python/YAML checks of the manifests, no C++ under test) and
# fuzz (the libFuzzer targets build with their own -fsanitize=fuzzer,address). Extra arguments
# go to ctest, e.g. `scripts/sanitize.sh thread -L gateway` or `-R Http`.
# Environment:
#   SLLM_SANITIZE_CMAKE_ARGS  extra configure arguments, e.g. "-DSLLM_BUILD_WORKER=OFF"
#   SLLM_SANITIZE_BUILD_DIR   build directory (default build-asan/ or build-tsan/)
#   SLLM_SANITIZE_JOBS        build and ctest parallelism (default: nproc)
#   SLLM_SANITIZE_NICE        niceness of the build and the tests (default 10)
# A sanitizer report anywhere, in a test binary or in a server a test started, fails the run:
# reports go to files under <build>/sanitizer-logs/ (children's stderr is often discarded by the
# tests) and are printed at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
case "$mode" in
  address) build=${SLLM_SANITIZE_BUILD_DIR:-$root/build-asan} ;;
  thread) build=${SLLM_SANITIZE_BUILD_DIR:-$root/build-tsan} ;;
  *) echo "usage: $0 address|thread [ctest args...]" >&2; exit 2 ;;
esac
shift
jobs=${SLLM_SANITIZE_JOBS:-$(nproc)}
nice_cmd=(nice -n "${SLLM_SANITIZE_NICE:-10}")
supp=$root/scripts/sanitizers
logs=$build/sanitizer-logs

# libtorch's CPU kernels run on OpenMP (libgomp), which TSan cannot see into (its barriers look
# like no synchronisation at all); one OpenMP thread keeps every op on the calling thread. The
# servers the tests start get --threads=1 already.
export OMP_NUM_THREADS=1
# Tests discovered at build time (gtest_discover_tests runs the binaries) see these options too.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_init_order=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:print_suppressions=0:log_path=$logs/tsan"

# ccache keys on paths relative to the checkout, so a fresh clone (CI) reuses earlier compiles;
# with -g it would also key on the build directory unless told not to.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
export CCACHE_NOHASHDIR=1
# shellcheck disable=SC2086
"${nice_cmd[@]}" cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g -DNDEBUG" \
  -DSLLM_SANITIZE="$mode" -DSLLM_BUILD_BENCH=OFF -DSLLM_BUILD_WORKER=ON ${SLLM_SANITIZE_CMAKE_ARGS:-} >/dev/null
mkdir -p "$logs"
rm -f "$logs"/*
start=$(date +%s)
"${nice_cmd[@]}" cmake --build "$build" -j "$jobs"
echo "sanitize: $mode build took $(( $(date +%s) - start )) s"

cd "$build"
rm -f "$logs"/*
start=$(date +%s)
rc=0
exclude=()
if [ "$mode" = thread ] && [ "${SLLM_TSAN_GRPC:-0}" != 1 ]; then
  # Tests that run gRPC servers or channels are left out under TSan: Debian's libgrpc and
  # libabsl are not TSan-instrumented, so every hand-off through a completion queue or an
  # absl::Mutex inside them is invisible and reported as a race (sllm_common_server_test alone:
  # 101 reports, 100 with both accesses in gRPC/abseil/protobuf code, the last a vptr "race"
  # on a reactor that gRPC's shutdown refcount orders). ASan covers them. SLLM_TSAN_GRPC=1
  # runs them anyway (with a TSan-built gRPC and abseil).
  exclude=(-E '^(ServiceRunnerTest|ServiceRunnerDrainTest|ServerTlsTest|TokenizerServiceTest|GatewayTest|GatewayTlsTest|GatewayServerTest|GatewayOverloadTest|HostileInputTest|GatewayLoadTest|RelayTest|WorkerStreamTest|WorkerServiceTest|FaultE2ETest|ClusterE2ETest)\.')
fi
"${nice_cmd[@]}" ctest --output-on-failure -j "$jobs" -LE '^(deploy|fuzz)$' "${exclude[@]}" "$@" || rc=$?
echo "sanitize: $mode ctest took $(( $(date +%s) - start )) s (rc $rc)"
shopt -s nullglob
reports=("$logs"/*)
if [ ${#reports[@]} -gt 0 ]; then
  for f in "${reports[@]}"; do
    echo "===== $f"
    cat "$f"
  done
  echo "sanitize: ${#reports[@]} sanitizer report file(s) under $logs" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
