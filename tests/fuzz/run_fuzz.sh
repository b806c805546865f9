#!/usr/bin/env bash
# Builds a libFuzzer target (clang, libFuzzer + ASan + UBSan; tests/fuzz/CMakeLists.txt) in its
# own build folder and runs it for SECONDS (default 30) on a working copy of its seed corpus
# (tests/fuzz/corpus/TARGET, plus every chat template in tests/data/chat_templates for
# chat_template_fuzz), with tests/fuzz/TARGET.dict when there is one. Exits non-zero when the
# fuzzer finds a crash, a leak, undefined behaviour, a broken property or a timeout; the
# reproducer is left in BUILD_DIR/runs/TARGET.
#   tests/fuzz/run_fuzz.sh TARGET [SECONDS]    run one target (e.g. tokenizer_fuzz 600)
#   tests/fuzz/run_fuzz.sh --build             only build every target
# Environment: BUILD_DIR (default build-fuzz), FUZZ_SEED (default 0), FUZZ_JOBS (build
# parallelism, default 1), FUZZ_FRESH_CORPUS=1 (forget inputs found by earlier runs, so that a
# seeded run is repeatable; by default the working corpus grows from run to run).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-fuzz}"
TARGET="${1:?usage: run_fuzz.sh TARGET [SECONDS] | --build}"
SECONDS_TO_RUN="${2:-30}"

mkdir -p "$BUILD_DIR"
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S "$ROOT/tests/fuzz" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ > "$BUILD_DIR/configure.log" 2>&1 \
    || { cat "$BUILD_DIR/configure.log"; exit 1; }
fi
if [[ "$TARGET" == "--build" ]]; then
  exec cmake --build "$BUILD_DIR" -j"${FUZZ_JOBS:-1}"
fi
cmake --build "$BUILD_DIR" -j"${FUZZ_JOBS:-1}" --target "$TARGET"

# Per target: largest input, extra libFuzzer flags.
MAX_LEN=4096
EXTRA=()
case "$TARGET" in
  chat_template_fuzz) MAX_LEN=65536 ;;
  tokenizer_fuzz) MAX_LEN=2048 ;;
  detokenizer_fuzz) MAX_LEN=1537 ;;
  openai_request_fuzz) MAX_LEN=8192 ;;
  http_request_fuzz) MAX_LEN=4096 ;;
  safetensors_fuzz) MAX_LEN=8192 ;;
  *) echo "unknown fuzz target $TARGET" >&2; exit 2 ;;
esac
DICT="$ROOT/tests/fuzz/$TARGET.dict"
[[ "$TARGET" == chat_template_fuzz ]] && DICT="$ROOT/tests/fuzz/jinja.dict"
[[ -f "$DICT" ]] && EXTRA+=(-dict="$DICT")

WORK="$BUILD_DIR/runs/$TARGET"
CORPUS="$WORK/corpus"
SEEDS="$WORK/seeds"
rm -rf "$SEEDS"
if [[ "${FUZZ_FRESH_CORPUS:-0}" == 1 ]]; then rm -rf "$CORPUS"; fi
mkdir -p "$CORPUS" "$SEEDS"
if [[ -d "$ROOT/tests/fuzz/corpus/$TARGET" ]]; then
  cp "$ROOT/tests/fuzz/corpus/$TARGET"/* "$SEEDS/"
fi
if [[ "$TARGET" == chat_template_fuzz ]]; then
  cp "$ROOT"/tests/data/chat_templates/*.jinja \
     "$ROOT"/tests/data/chat_templates/constructs/*.jinja "$SEEDS/"
fi

cd "$WORK"
# -timeout: one input may take at most 10 s; -rss_limit_mb: memory per run; new inputs go to
# CORPUS, the seeds stay as they are; crashes are written here.
"$BUILD_DIR/$TARGET" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 \
  -seed="${FUZZ_SEED:-0}" -max_len="$MAX_LEN" "${EXTRA[@]}" -print_final_stats=1 \
  "$CORPUS" "$SEEDS"
