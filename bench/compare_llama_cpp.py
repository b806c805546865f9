#!/usr/bin/env python3
"""Runs sllm-bench on the synthetic model shapes of ../shared/testdata/perf and prints each
figure next to llama.cpp's (bench/results/llama_cpp_reference.json) as a ratio.

  bench/compare_llama_cpp.py [--build build] [--models /tmp/sllm-perf-models]
      [--shapes tiny,small] [--threads 1,2] [--json OUT.json]

Models are made once with sllm-make-model (deterministic weights; speed depends only on the
shape and dtype). Weight classes compare like for like: F32 with F32, our bfloat16 with
llama.cpp's F16, our int8 with Q8_0. llama.cpp's figures were measured on another day: the
host is shared and noisy, so treat ratios within +-15 % as ties (see the reference README).
Before and after the runs a 2-thread busy loop is timed against a 1-thread one: when the
second vCPU is taken by the host, 2-thread figures are not valid and are marked so.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from multiprocessing import Process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (our dtype flag, our quantize flag, llama.cpp weight class, sllm-make-model dtype)
CLASSES = [("float32", "none", "F32", "F32"), ("bfloat16", "none", "F16", "BF16"),
           ("float32", "int8", "Q8_0", "F32")]


def busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def second_cpu_free():
    """True when two busy threads take no longer than one (both vCPUs really free)."""
    def run(n):
        start = time.perf_counter()
        procs = [Process(target=busy, args=(0.3,)) for _ in range(n)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        return time.perf_counter() - start
    one, two = run(1), run(2)
    return two < one * 1.25, one, two


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--models", default="/tmp/sllm-perf-models")
    ap.add_argument("--shapes", default="tiny,small")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--classes", default="F32,F16,Q8_0", help="llama.cpp weight classes to run")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--json", help="write all results here")
    args = ap.parse_args()
    with open(os.path.join(ROOT, "bench/results/llama_cpp_reference.json")) as f:
        ref = {(r["shape"], r["weights"], r["threads"]): r for r in json.load(f)["llama_bench"]["rows"]}
    bin_dir = os.path.join(args.build, "bin")
    free_before = second_cpu_free()
    rows = []
    for shape in args.shapes.split(","):
        for dtype, quantize, klass, disk in CLASSES:
            if klass not in args.classes.split(","):
                continue
            model = os.path.join(args.models, f"{shape}-{disk}")
            if not os.path.exists(os.path.join(model, "config.json")):
                subprocess.run([os.path.join(bin_dir, "sllm-make-model"), "--out", model,
                                "--shape", shape, "--dtype", disk], check=True)
            for threads in [int(t) for t in args.threads.split(",")]:
                r = ref.get((shape, klass, threads))
                if r is None:
                    continue
                cmd = [os.path.join(bin_dir, "sllm-bench"), "--model", model, "--dtype", dtype,
                       "--threads", str(threads), "--prompt-len", "64", "--gen-len", "32",
                       "--repetitions", str(args.repetitions)]
                if quantize != "none":
                    cmd += ["--quantize", quantize]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                ours = json.loads(out.strip().splitlines()[-1])
                rows.append({"shape": shape, "class": klass, "threads": threads, "sllm": ours,
                             "llama_cpp": r, "command": " ".join(cmd)})
                print(f"{shape} {klass} t{threads}: pp {ours['prefill_tokens_per_s']:.0f} "
                      f"(llama.cpp {r['pp64']}), tg {ours['decode_tokens_per_s']:.1f} "
                      f"(llama.cpp {r['tg32']})", file=sys.stderr)
    free_after = second_cpu_free()
    two_ok = free_before[0] and free_after[0]
    print("| shape | weights (ours / llama.cpp) | threads | prefill 64 tok/s | ratio | "
          "decode tok/s | ratio | weight GB/s | of read bandwidth |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        o, r = row["sllm"], row["llama_cpp"]
        ours_class = {"F32": "float32", "F16": "bfloat16", "Q8_0": "int8"}[row["class"]]
        note = "" if row["threads"] == 1 or two_ok else " (2nd vCPU busy: not valid)"
        print(f"| {row['shape']} | {ours_class} / {row['class']} | {row['threads']}{note} | "
              f"{o['prefill_tokens_per_s']:.0f} | {o['prefill_tokens_per_s'] / r['pp64']:.2f} | "
              f"{o['decode_tokens_per_s']:.1f} | {o['decode_tokens_per_s'] / r['tg32']:.2f} | "
              f"{o['weight_gb_per_s']:.1f} | {o.get('bandwidth_fraction', 0):.0%} |")
    print(f"\n2-thread check (1 vs 2 busy threads, s): before {free_before[1]:.2f}/"
          f"{free_before[2]:.2f}, after {free_after[1]:.2f}/{free_after[2]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "second_cpu_free": two_ok}, f, indent=1)


if __name__ == "__main__":
    main()
