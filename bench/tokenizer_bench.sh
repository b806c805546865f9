#!/usr/bin/env bash
# Tokenizer throughput: sllm against Hugging Face `tokenizers` (npm, Rust) in the same run,
# single thread, on the corpus. Writes bench/results/tokenizer.json and prints a table.
#   bench/tokenizer_bench.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
corpus="$root/tests/data/corpus/en.jsonl,$root/tests/data/corpus/ko.jsonl,$root/tests/data/corpus/mixed.jsonl"
all=$(mktemp); trap 'rm -f "$all"' EXIT
cat "$root"/tests/data/corpus/{en,ko,mixed}.jsonl > "$all"
mkdir -p "$root/bench/results"
out="$root/bench/results/tokenizer.json"
: > "$out"
for tok in llama3 qwen3 mistral-spm gemma3; do
  dir="$root/tests/data/tokenizers/$tok"
  ours_line=$("$build/bin/sllm-tokenizer-bench" --model "$dir" --corpus "$corpus" --mode line)
  # The reference: encodeBatch with one Rayon thread, and one encode() per line. Best of 3.
  ref_batch=""; ref_line=""
  for i in 1 2 3; do
    r=$(RAYON_NUM_THREADS=1 node "$root/tests/reference/ref_tokenize.js" "$dir/tokenizer.json" "$all" \
          --no-special --bench --quiet --batch 256 --repeat 3 2>&1 >/dev/null)
    ref_batch=$(printf '%s\n%s\n' "$ref_batch" "$r" | python3 -c 'import json,sys; rs=[json.loads(l) for l in sys.stdin if l.strip()]; print(json.dumps(max(rs, key=lambda r: r["MB_per_s"])))')
  done
  r=$(RAYON_NUM_THREADS=1 node "$root/tests/reference/ref_tokenize.js" "$dir/tokenizer.json" "$all" \
        --no-special --bench --quiet --batch 1 2>&1 >/dev/null)
  ref_line=$r
  python3 - "$tok" "$ours_line" "$ref_batch" "$ref_line" >> "$out" <<'PY'
import json, sys
tok, ours, rb, rl = sys.argv[1], *map(json.loads, sys.argv[2:])
assert ours["tokens"] * rb["repeat"] == rb["tokens"], "token counts differ"
print(json.dumps({"tokenizer": tok, "sllm_MB_per_s": round(ours["MB_per_s"], 2),
                  "ref_batch_1thread_MB_per_s": rb["MB_per_s"], "ref_line_MB_per_s": rl["MB_per_s"],
                  "tokens": ours["tokens"], "sllm_tokens_per_s": round(ours["tokens_per_s"]),
                  "ratio_vs_ref_batch": round(ours["MB_per_s"] / rb["MB_per_s"], 2),
                  "ratio_vs_ref_line": round(ours["MB_per_s"] / rl["MB_per_s"], 2)}))
PY
done
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'tokenizer':12} {'sllm MB/s':>10} {'HF batch MB/s':>14} {'HF line MB/s':>13} {'x batch':>8} {'x line':>7}")
for r in rows:
    print(f"{r['tokenizer']:12} {r['sllm_MB_per_s']:>10} {r['ref_batch_1thread_MB_per_s']:>14} "
          f"{r['ref_line_MB_per_s']:>13} {r['ratio_vs_ref_batch']:>8} {r['ratio_vs_ref_line']:>7}")
PY
