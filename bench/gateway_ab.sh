#!/usr/bin/env bash
# A/B of two gateway configurations against worker-direct on one cluster: `sllm up --workers 1`
# starts the tokenizer service and one worker shard, two more gateways (A and B, each with its
# own flags) run on them, and every round runs sllm-loadgen against the worker, then against A
# and B in alternating order (the first run after worker-direct is often the slower one).
# Prints, per round, TTFT p50 added by each gateway and its output throughput ÷ worker-direct's,
# then the medians.
#
#   bench/gateway_ab.sh [--model DIR] [--dtype D] [--build DIR] [--rounds N] [--requests N]
#                       [--concurrency C] [--rate R] [--prompt-len N] [--output-len N]
#                       [--a-flags "..."] [--b-flags "..."]
#
# e.g. one call per shard against one per request, 16 streams on a synthetic model with a
# tokenizer.json:
#   bench/gateway_ab.sh --model DIR --dtype bfloat16 --concurrency 16 --requests 64 \
#     --output-len 64 --a-flags --worker_generate_streams=false
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=$root/models/stories260K dtype=float32 build=$root/build rounds=6 requests=200
concurrency=1 rate="" prompt_len=32 output_len=4 a_flags="" b_flags=""
while [ $# -gt 0 ]; do
  case $1 in
    --model) model=$2 ;; --dtype) dtype=$2 ;; --build) build=$2 ;; --rounds) rounds=$2 ;;
    --requests) requests=$2 ;; --concurrency) concurrency=$2 ;; --rate) rate=$2 ;;
    --prompt-len) prompt_len=$2 ;; --output-len) output_len=$2 ;;
    --a-flags) a_flags=$2 ;; --b-flags) b_flags=$2 ;;
    *) echo "gateway_ab.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift 2
done
bin=$build/bin
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$bin/sllm" up --model "$model" --workers 1 --dtype "$dtype" >"$work/up.out" 2>"$work/up.err" &
pids+=($!)
for _ in $(seq 1 600); do grep -q "Ctrl-C stops" "$work/up.out" && break; sleep 0.5; done
tokenizer=$(sed -n 's/.*tokenizer service: \([0-9.:]*\).*/\1/p' "$work/up.out")
worker=$(sed -n 's/.*worker shards: \(127.0.0.1:[0-9]*\).*/\1/p' "$work/up.out")
[ -n "$tokenizer" ] && [ -n "$worker" ] || { cat "$work/up.err" >&2; exit 1; }
port_a=$((20000 + RANDOM % 10000)); port_b=$((port_a + 1))
for g in a:$port_a b:$port_b; do
  flags=$a_flags; [ "${g%%:*}" = b ] && flags=$b_flags
  # shellcheck disable=SC2086  # flags are space-separated on purpose
  "$bin/sllm-gateway" --port="${g#*:}" --http_port=-1 --metrics_port=-1 --tokenizer="$tokenizer" \
    --workers="$worker" $flags >"$work/gateway-${g%%:*}.log" 2>&1 &
  pids+=($!)
done
tok=(); [ -f "$model/tokenizer.json" ] && tok=(--tokenizer "$model")
# Prints "TTFT_p50_ms output_tokens_per_s" of one run against $1.
run() {
  "$bin/sllm-loadgen" --target "$1" --concurrency "$concurrency" ${rate:+--rate "$rate"} \
    --num-requests "$requests" --prompt-len "$prompt_len" --output-len "$output_len" --seed 3 \
    "${tok[@]}" --json "$work/run.json" >/dev/null 2>&1 || { echo "nan nan"; return; }
  python3 -c "import json; r = json.load(open('$work/run.json')); print(r['ttft_ms']['p50'], r['output_throughput'])"
}
for _ in $(seq 1 100); do [ "$(run "grpc://127.0.0.1:$port_a")" != "nan nan" ] && break; sleep 0.3; done
run "grpc://127.0.0.1:$port_b" >/dev/null
rows=()
for r in $(seq 1 "$rounds"); do
  read -r wt wtp <<<"$(run "worker://$worker")"
  if [ $((r % 2)) = 1 ]; then
    read -r at atp <<<"$(run "grpc://127.0.0.1:$port_a")"; read -r bt btp <<<"$(run "grpc://127.0.0.1:$port_b")"
  else
    read -r bt btp <<<"$(run "grpc://127.0.0.1:$port_b")"; read -r at atp <<<"$(run "grpc://127.0.0.1:$port_a")"
  fi
  rows+=("$wt $wtp $at $atp $bt $btp")
  echo "round $r: $wt $wtp $at $atp $bt $btp" | python3 -c "
import sys; f = sys.stdin.read().split(); w, wt, a, at, b, bt = map(float, f[2:])
print(f'round {f[1]} worker-direct TTFT {w:.3f} ms, {wt:.1f} tok/s | A +{a - w:.3f} ms, {at / wt:.3f} | B +{b - w:.3f} ms, {bt / wt:.3f}')"
done
printf '%s\n' "${rows[@]}" | python3 -c "
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
for name, i in (('A', 2), ('B', 4)):
    added = statistics.median(r[i] - r[0] for r in rows)
    ratio = statistics.median(r[i + 1] / r[1] for r in rows)
    print(f'{name}: median added TTFT p50 {added:+.3f} ms, median throughput / worker-direct {ratio:.3f}')"
