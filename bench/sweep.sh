#!/usr/bin/env bash
# Concurrency sweep of the serving path: starts a local cluster (`sllm up` with one worker
# shard, so that the gateway and worker-direct runs load the same shard) on a model folder and
# runs sllm-loadgen at each concurrency against the gateway over gRPC, the gateway over HTTP and
# the worker directly. Writes one JSON per point, a table, throughput-vs-latency plots (gnuplot)
# and the gateway's overhead into bench/results/NAME/.
#
#   bench/sweep.sh [--model DIR] [--name NAME] [--build DIR] [--concurrency "1 2 4 8 16 32"]
#                  [--targets "grpc http worker"] [--prompt-len N] [--output-len N]
#                  [--requests-per-client N] [--min-requests N] [--worker-only] [--dtype D]
#                  [--label TEXT] [--out DIR] [--rounds N]
#
# --worker-only starts just sllm-worker-server (for models without a tokenizer, such as the
# synthetic ones of sllm-make-model) and runs the worker target alone with token-id prompts;
# --dtype (float32, bfloat16, float16) is the worker's serving dtype either way.
# With a tokenizer.json in the model folder, gateway requests carry text of exactly
# --prompt-len tokens (so the gateway's tokenization is measured) and the worker gets the same
# ids; each point uses its own seed, so no point is served from the prefix cache of another.
# --rounds N runs every point N times, round after round, and reports medians (and the gateway's
# overhead round by round): on a shared or noisy machine one round is not enough to see a few %.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=$root/models/stories260K
name=""
build=$root/build
concurrency="1 2 4 8 16 32"
targets="grpc http worker"
prompt_len=128
output_len=128
per_client=8
min_requests=64
worker_only=0
dtype=float32
label=""
out=""
rounds=1
while [ $# -gt 0 ]; do
  case $1 in
    --model) model=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --prompt-len) prompt_len=$2; shift 2 ;;
    --output-len) output_len=$2; shift 2 ;;
    --requests-per-client) per_client=$2; shift 2 ;;
    --min-requests) min_requests=$2; shift 2 ;;
    --worker-only) worker_only=1; targets=worker; shift ;;
    --dtype) dtype=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "sweep.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
model=$(cd "$model" && pwd)
[ -n "$name" ] || name=$(basename "$model")
bin=$build/bin
for b in sllm sllm-loadgen sllm-worker-server; do
  [ -x "$bin/$b" ] || { echo "sweep.sh: $bin/$b is not built" >&2; exit 1; }
done
if [ "$worker_only" = 0 ] && [ ! -f "$model/tokenizer.json" ]; then
  echo "sweep.sh: $model has no tokenizer.json, so the gateway cannot serve it; use --worker-only" >&2
  exit 2
fi
command -v gnuplot >/dev/null || echo "sweep.sh: gnuplot not found; no plots (apt-get install gnuplot-nox)" >&2
[ -n "$out" ] || out=$root/bench/results/$name
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/*.json "$out"/*.dat "$out"/*.png "$out"/*.cpu "$out"/table.md
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ "$commit" = unknown ] || git -C "$root" diff --quiet HEAD -- . || commit+="-dirty"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
[ -n "$label" ] || label="commit $commit; $(nproc) x $cpu; $dtype"

log=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$log"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Start the services and learn their addresses.
if [ "$worker_only" = 1 ]; then
  worker_port=$(free_port)
  "$bin/sllm-worker-server" --host=127.0.0.1 --port="$worker_port" --metrics_port="$(free_port)" \
    --models="$name=$model" --threads="$(nproc)" --dtype="$dtype" --minloglevel=1 \
    > "$log/cluster.out" 2>&1 &
  pid=$!
  # Ready when a one-token request succeeds.
  for _ in $(seq 1 600); do
    if "$bin/sllm-loadgen" --target "worker://127.0.0.1:$worker_port" --num-requests 1 \
         --prompt-len 1 --output-len 1 --timeout 5 2>/dev/null | grep -q "1 ok"; then
      break
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$log/cluster.out" >&2; exit 1; }
    sleep 0.5
  done
else
  "$bin/sllm" up --model "$model" --workers 1 --dtype "$dtype" > "$log/cluster.out" \
    2> "$log/cluster.err" &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q "Ctrl-C stops" "$log/cluster.out" && break
    kill -0 "$pid" 2>/dev/null || { cat "$log/cluster.out" "$log/cluster.err" >&2; exit 1; }
    sleep 0.5
  done
  grpc_addr=$(sed -n 's/.*gateway (gRPC sllm.v1.Generation): \([0-9.:]*\).*/\1/p' "$log/cluster.out")
  http_addr=$(sed -n 's|.*gateway (OpenAI HTTP): http://\([0-9.:]*\)/v1.*|\1|p' "$log/cluster.out")
  worker_port=$(sed -n 's/.*worker shards: 127.0.0.1:\([0-9]*\).*/\1/p' "$log/cluster.out")
fi
grep -q . <<< "${worker_port:-}" || { echo "sweep.sh: the cluster did not come up" >&2; cat "$log"/cluster.* >&2; exit 1; }

address() {
  case $1 in
    grpc) echo "grpc://$grpc_addr" ;;
    http) echo "http://$http_addr" ;;
    worker) echo "worker://127.0.0.1:$worker_port" ;;
  esac
}
tokenizer_args=()
[ -f "$model/tokenizer.json" ] && tokenizer_args=(--tokenizer "$model")

# CPU seconds used so far by each service process (the cluster's children, or the worker).
cpu_seconds() {
  local tck p comm
  tck=$(getconf CLK_TCK)
  for p in $pid $(pgrep -P "$pid"); do
    comm=$(cut -d' ' -f2 "/proc/$p/stat" | tr -d '()')
    case $comm in sllm-gateway) comm=gateway ;; sllm-tokenizer*) comm=tokenizer ;;
                  sllm-worker*) comm=worker ;; *) continue ;; esac
    awk -v c="$comm" -v t="$tck" '{printf "%s %.3f\n", c, ($14 + $15) / t}' "/proc/$p/stat"
  done
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "sweep $name: model $model, prompt $prompt_len, output $output_len tokens, targets: $targets"
echo "label: $label"
point=0
for round in $(seq 1 "$rounds"); do
  suffix=""
  [ "$rounds" = 1 ] || suffix="-r$round"
  for c in $concurrency; do
    n=$(( per_client * c > min_requests ? per_client * c : min_requests ))
    for t in $targets; do
      point=$((point + 1))
      echo "== round $round/$rounds: $t, concurrency $c, $n requests (after $c warm-up requests)"
      common=(--target "$(address "$t")" "${tokenizer_args[@]}" --concurrency "$c"
              --prompt-len "$prompt_len" --output-len "$output_len" --label "$label")
      "$bin/sllm-loadgen" "${common[@]}" --num-requests "$c" --seed $((point * 1000003 + 1)) > /dev/null
      cpu_seconds > "$log/cpu.before"
      "$bin/sllm-loadgen" "${common[@]}" --num-requests "$n" --seed $((point * 1000003)) \
        --json "$out/$t-c$c$suffix.json"
      cpu_seconds > "$log/cpu.after"
      # CPU seconds each service process spent during the measured requests.
      awk 'NR == FNR {b[$1] += $2; next} {a[$1] += $2} END {for (k in a) printf "%s %.3f\n", k, a[k] - b[k]}' \
        "$log/cpu.before" "$log/cpu.after" > "$out/$t-c$c$suffix.cpu"
    done
  done
done
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=""

# Table, plot data and the gateway's overhead.
python3 "$root/bench/sweep_report.py" "$out" "$concurrency" "$targets" "$rounds" "$load_start"

# Plots need a curve: three concurrencies or more.
if command -v gnuplot >/dev/null && [ "$(wc -w <<< "$concurrency")" -ge 3 ]; then
  plot() {  # plot FILE YCOLUMN YLABEL
    local cmd="" sep="" color
    for t in $targets; do
      case $t in grpc) color="#1f4e9c" ;; http) color="#d2521b" ;; *) color="#2a8a3e" ;; esac
      cmd+="$sep'$out/$t.dat' using 2:$2 with linespoints lw 2 pt 7 lc rgb '$color' title '$t'"
      cmd+=", '' using 2:$2:1 with labels offset 0.8,0.6 notitle"
      sep=", "
    done
    gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output '$out/$1'
set title '$name: output throughput vs $3 (labels: concurrency)'
set xlabel 'output tokens/s'
set ylabel '$3 (ms)'
set key top left
set grid
set yrange [0:*]
plot $cmd
GP
  }
  plot ttft_p50.png 3 "TTFT p50"
  plot ttft_p99.png 4 "TTFT p99"
  plot itl_p50.png 5 "ITL p50"
  plot tpot_p50.png 7 "TPOT p50"
  echo "plots: $out/*.png"
fi
echo "results: $out"
