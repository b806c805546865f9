#!/usr/bin/env python3
"""Soak benchmark: a local cluster (`sllm up`) under steady mixed traffic for minutes, sampling
each process's resident memory. After a warm-up, RSS should stay flat (growth within a few
percent): leaks in any service show up as steady growth.

Traffic (fixed seed): CLIENTS threads loop over OpenAI HTTP requests: unary completions and
chat completions, SSE streams read to the end, and SSE streams dropped at a random point.

  bench/soak/soak.py [--minutes 5] [--warmup 1] [--clients 8] [--workers 2] [--out FILE]

Prints a table and writes JSON (per process: RSS after warm-up, at the end, growth %).
Not part of CI: it runs for minutes. Needs the build (scripts/setup.sh).
"""
import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SLLM = os.path.join(ROOT, "build", "bin", "sllm")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    name = os.path.basename(f.read().split(b"\0")[0].decode())
                out.append((int(entry), name))
        except (OSError, IndexError, ValueError):
            pass
    return out


def request(port, path, body, stream_cut=None):
    """Sends one request; reads the reply to the end, or `stream_cut` bytes of it."""
    data = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Type: application/json\r\nContent-Length: " +
                  str(len(data)).encode() + b"\r\n\r\n" + data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            if stream_cut is not None and len(got) >= stream_cut:
                break
        return got[:12]
    finally:
        s.close()


def client(port, model, seed, stop, counts, lock):
    rng = random.Random(seed)
    prompts = ["Once upon a time", "The little dog", "Lily and Tom went", "One day, a bird"]
    while not stop.is_set():
        kind = rng.choice(["completion", "chat", "stream", "cut"])
        prompt = rng.choice(prompts) + " " + str(rng.randint(0, 999))
        tokens = rng.randint(8, 96)
        try:
            if kind == "chat":
                head = request(port, "/v1/chat/completions",
                               {"model": model, "max_tokens": tokens,
                                "messages": [{"role": "user", "content": prompt}]})
            else:
                body = {"model": model, "prompt": prompt, "max_tokens": tokens,
                        "stream": kind in ("stream", "cut")}
                head = request(port, "/v1/completions", body,
                               stream_cut=rng.randint(200, 2000) if kind == "cut" else None)
            key = kind if head.startswith(b"HTTP/1.1 200") else "http_" + head[9:12].decode()
        except OSError as e:
            key = "error_" + type(e).__name__
        with lock:
            counts[key] = counts.get(key, 0) + 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=1, help="minutes before the baseline")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--interval", type=float, default=5, help="seconds between RSS samples")
    ap.add_argument("--out", default="")
    args = ap.parse_args()

    up = subprocess.Popen([SLLM, "up", "--workers", str(args.workers), "--http-port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = None
    for line in up.stdout:
        m = re.search(r"OpenAI HTTP\): http://127\.0\.0\.1:(\d+)/v1", line)
        if m:
            port = int(m.group(1))
        if "try:" in line:
            break
    if port is None:
        sys.exit("sllm up did not start")
    procs = children(up.pid)
    model = "stories260K"
    stop, lock, counts = threading.Event(), threading.Lock(), {}
    threads = [threading.Thread(target=client, args=(port, model, 1000 + i, stop, counts, lock))
               for i in range(args.clients)]
    for t in threads:
        t.start()
    samples = []  # (seconds, {pid: rss})
    start = time.time()
    try:
        while time.time() - start < args.minutes * 60:
            samples.append((time.time() - start, {pid: rss_kib(pid) for pid, _ in procs}))
            time.sleep(args.interval)
        samples.append((time.time() - start, {pid: rss_kib(pid) for pid, _ in procs}))
    finally:
        stop.set()
        for t in threads:
            t.join()
        up.terminate()
        up.wait()
    base = next(s for s in samples if s[0] >= args.warmup * 60)
    end = samples[-1]
    report = {"minutes": args.minutes, "warmup_minutes": args.warmup, "clients": args.clients,
              "requests": counts, "processes": []}
    print(f"{'process':<24}{'pid':>8}{'RSS@warm-up MiB':>18}{'RSS@end MiB':>14}{'max MiB':>10}"
          f"{'growth %':>10}")
    for pid, name in procs:
        b, e = base[1][pid] / 1024, end[1][pid] / 1024
        peak = max(s[1][pid] for s in samples if s[0] >= base[0]) / 1024
        growth = 100 * (e - b) / b if b else 0
        report["processes"].append({"name": name, "pid": pid, "rss_warm_mib": round(b, 1),
                                    "rss_end_mib": round(e, 1), "rss_max_mib": round(peak, 1),
                                    "growth_percent": round(growth, 2)})
        print(f"{name:<24}{pid:>8}{b:>18.1f}{e:>14.1f}{peak:>10.1f}{growth:>10.2f}")
    print("requests:", json.dumps(counts, sort_keys=True))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
