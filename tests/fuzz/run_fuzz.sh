#!/usr/bin/env bash
# Builds the chat-template fuzzer (clang, libFuzzer + ASan + UBSan) in its own build folder and
# runs it for SECONDS (default 30) on a working copy of the seed corpus: every chat template in
# tests/data/chat_templates. Exits non-zero when the fuzzer finds a crash, a leak, undefined
# behaviour or a timeout; the reproducer is left in the build folder.
#   tests/fuzz/run_chat_template_fuzz.sh [SECONDS]        (BUILD_DIR=... to choose the folder)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_TO_RUN="${1:-30}"

mkdir -p "$BUILD_DIR"
cmake -S "$ROOT/tests/fuzz" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ > "$BUILD_DIR/configure.log" 2>&1 \
  || { cat "$BUILD_DIR/configure.log"; exit 1; }
cmake --build "$BUILD_DIR" -j1 --target chat_template_fuzz

CORPUS="$BUILD_DIR/corpus"
SEEDS="$BUILD_DIR/seeds"
mkdir -p "$CORPUS" "$SEEDS"
cp "$ROOT"/tests/data/chat_templates/*.jinja "$ROOT"/tests/data/chat_templates/constructs/*.jinja "$SEEDS/"

cd "$BUILD_DIR"
# -timeout: one input may take at most 10 s; -rss_limit_mb: memory per run; new inputs go to
# CORPUS, the seeds stay as they are.
./chat_template_fuzz -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 \
  -seed="${FUZZ_SEED:-0}" \
  -max_len=65536 -dict="$ROOT/tests/fuzz/jinja.dict" -print_final_stats=1 "$CORPUS" "$SEEDS"
