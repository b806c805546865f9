#!/usr/bin/env python3
"""Summarises a bench/sweep.sh run: table.md, overhead.json and one gnuplot .dat per target.

  sweep_report.py OUT "CONCURRENCIES" "TARGETS" ROUNDS LOAD_AVERAGE

Reads OUT/<target>-c<N>.json (ROUNDS = 1) or OUT/<target>-c<N>-r<K>.json (K = 1..ROUNDS), the
sllm-loadgen reports, and the .cpu files beside them (CPU seconds per service process). With
several rounds every number in the table is the median over the rounds, and the gateway's
overhead is computed per round (each round ran every target back to back) and given as median,
min and max.
"""
import json
import os
import statistics
import sys

out, cs, ts, rounds, load = sys.argv[1], [int(c) for c in sys.argv[2].split()], \
    sys.argv[3].split(), int(sys.argv[4]), sys.argv[5]


def stem(t, c, k):
    return f"{out}/{t}-c{c}" + ("" if rounds == 1 else f"-r{k}")


def cpu_per_token(t, c, k, report):
    """CPU microseconds per output token of worker, gateway and tokenizer, or None."""
    path = stem(t, c, k) + ".cpu"
    if not os.path.exists(path) or not report["output_tokens"]:
        return None
    used = dict((name, float(s)) for name, s in (l.split() for l in open(path) if l.strip()))
    return [1e6 * used.get(p, 0) / report["output_tokens"] for p in ("worker", "gateway", "tokenizer")]


runs = {(t, c, k): json.load(open(stem(t, c, k) + ".json"))
        for t in ts for c in cs for k in range(1, rounds + 1)}

# Each row's metrics: name -> function of one report.
metrics = {
    "req_s": lambda r: r["request_throughput"],
    "out_tok_s": lambda r: r["output_throughput"],
    "total_tok_s": lambda r: r["total_token_throughput"],
    "ttft_p50": lambda r: r["ttft_ms"]["p50"],
    "ttft_p99": lambda r: r["ttft_ms"]["p99"],
    "itl_p50": lambda r: r["itl_ms"]["p50"],
    "itl_p99": lambda r: r["itl_ms"]["p99"],
    "tpot_p50": lambda r: r["tpot_ms"]["p50"],
    "e2e_p50": lambda r: r["e2e_ms"]["p50"],
    "bad": lambda r: r["failed"] + r["length_mismatches"] + r["token_count_mismatches"],
}


def median(t, c, f):
    return statistics.median(f(runs[(t, c, k)]) for k in range(1, rounds + 1))


def cpu_median(t, c):
    per_round = [cpu_per_token(t, c, k, runs[(t, c, k)]) for k in range(1, rounds + 1)]
    if any(p is None for p in per_round):
        return ""
    return ", ".join(f"{statistics.median(col):.0f}" for col in zip(*per_round))


first = runs[(ts[0], cs[0], 1)]["config"]
lines = [f"# Sweep: {first['model']}, prompt {first['prompt_len']} / output {first['output_len']} tokens",
         "", f"{first['label']}; load average before the run (1, 5, 15 min): {load}", ""]
if rounds > 1:
    lines += [f"Every number is the median over {rounds} rounds (each round runs every point once).", ""]
lines += ["| target | conc | req/s | output tok/s | total tok/s | TTFT p50 | TTFT p99 | ITL p50 | "
          "ITL p99 | TPOT p50 | E2E p50 | CPU µs/token worker, gateway, tokenizer | errors |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for t in ts:
    with open(f"{out}/{t}.dat", "w") as dat:
        dat.write("# concurrency output_tok_s ttft_p50_ms ttft_p99_ms itl_p50_ms itl_p99_ms "
                  "tpot_p50_ms e2e_p50_ms\n")
        for c in cs:
            m = {name: median(t, c, f) for name, f in metrics.items()}
            dat.write(f"{c} {m['out_tok_s']:.3f} {m['ttft_p50']:.4f} {m['ttft_p99']:.4f} "
                      f"{m['itl_p50']:.4f} {m['itl_p99']:.4f} {m['tpot_p50']:.4f} {m['e2e_p50']:.3f}\n")
            bad = sum(metrics["bad"](runs[(t, c, k)]) for k in range(1, rounds + 1))
            lines.append(f"| {t} | {c} | {m['req_s']:.2f} | {m['out_tok_s']:.1f} | {m['total_tok_s']:.1f} | "
                         f"{m['ttft_p50']:.2f} | {m['ttft_p99']:.2f} | {m['itl_p50']:.2f} | "
                         f"{m['itl_p99']:.2f} | {m['tpot_p50']:.2f} | {m['e2e_p50']:.1f} | "
                         f"{cpu_median(t, c)} | {bad} |")
lines += ["", "Latencies in ms. CPU µs/token: CPU time of each service process during the measured "
          "requests (warm-up excluded) per output token. errors: failed requests + outputs of the "
          "wrong length + stream/usage disagreements (summed over rounds)."]

# The gateway's overhead, round by round, against the worker directly.
summary = {}
if "worker" in ts and len(ts) > 1:
    lo, hi = min(cs), (16 if 16 in cs else max(cs))

    def spread(values):
        return {"median": statistics.median(values), "min": min(values), "max": max(values),
                "rounds": values}

    for t in ts:
        if t == "worker":
            continue
        ks = range(1, rounds + 1)
        summary[t] = {
            f"ttft_p50_added_ms_at_c{lo}": spread(
                [runs[(t, lo, k)]["ttft_ms"]["p50"] - runs[("worker", lo, k)]["ttft_ms"]["p50"] for k in ks]),
            f"itl_p50_added_ms_at_c{lo}": spread(
                [runs[(t, lo, k)]["itl_ms"]["p50"] - runs[("worker", lo, k)]["itl_ms"]["p50"] for k in ks]),
            f"output_throughput_ratio_at_c{hi}": spread(
                [runs[(t, hi, k)]["output_throughput"] / runs[("worker", hi, k)]["output_throughput"]
                 for k in ks]),
        }
    lines += ["", f"Gateway overhead against worker-direct (TTFT and ITL at concurrency {lo}, output "
              f"throughput at {hi})" + ("; median [min, max] over rounds:" if rounds > 1 else
                                        ", one round:"), ""]
    for t, s in summary.items():
        lines.append(f"- {t}: " + "; ".join(
            f"{k} = {v['median']:.4g}" + (f" [{v['min']:.4g}, {v['max']:.4g}]" if rounds > 1 else "")
            for k, v in s.items()))
    json.dump(summary, open(f"{out}/overhead.json", "w"), indent=2)
open(f"{out}/table.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
