#!/usr/bin/env python3
"""A real Prometheus server (Debian's `prometheus`) on loopback scrapes a running local cluster
with deploy/prometheus/prometheus.yml (its jobs and rules; 1 s intervals, targets from file_sd
files written here). Through the HTTP query API: every target is up, the TTFT histograms and
token counters moved by exactly the requests made, and the recording rules and alerts
evaluate (healthy, with samples for the served model).

  prometheus_live_test.py --root REPO --bin BUILD/bin"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_lib as cl  # noqa: E402

failures = []


def expect(cond, msg):
    print(("ok:   " if cond else "FAIL: ") + msg)
    if not cond:
        failures.append(msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, root, cluster, tmp):
        cfg = yaml.safe_load(open(os.path.join(root, "deploy/prometheus/prometheus.yml")))
        cfg["global"].update(scrape_interval="1s", evaluation_interval="1s")
        rules_dir = os.path.abspath(os.path.join(root, "deploy/prometheus"))
        cfg["rule_files"] = [os.path.join(rules_dir, f) for f in cfg["rule_files"]]
        comp = {"sllm-tokenizer": "tokenizer", "sllm-worker": "worker", "sllm-gateway": "gateway"}
        for job in cfg["scrape_configs"]:
            path = os.path.join(tmp, job["job_name"] + ".json")
            json.dump([{"targets": [f"127.0.0.1:{p}" for p in cluster.metrics[comp[job["job_name"]]]]}],
                      open(path, "w"))
            job["file_sd_configs"] = [{"files": [path]}]
        config = os.path.join(tmp, "prometheus.yml")
        yaml.safe_dump(cfg, open(config, "w"))
        self.port = free_port()
        self.log = open(os.path.join(tmp, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.targets = sum(len(v) for v in cluster.metrics.values())

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, q):
        return self.api("query", query=q)["result"]

    def scalar(self, q):
        r = self.query(q)
        return float(r[0]["value"][1]) if r else None

    def poll(self, what, fn, timeout=60):
        """Calls fn() until it returns a truthy value or `timeout` s pass; returns the last."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited; see its log")
            try:
                v = fn()
            except (OSError, AssertionError):
                v = None
            if v or time.monotonic() > deadline:
                expect(bool(v), what)
                return v
            time.sleep(0.2)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    if not shutil.which("prometheus"):
        print("SKIP: the prometheus server is not installed (apt-get install prometheus)")
        return 77
    tmp = tempfile.mkdtemp(prefix="sllm-prom-")
    cluster = cl.Cluster(args.root, args.bin)
    prom = None
    try:
        prom = Prometheus(args.root, cluster, tmp)
        up = lambda: [t for t in prom.api("targets")["activeTargets"] if t["health"] == "up"]
        prom.poll(f"all {prom.targets} targets up", lambda: len(up()) == prom.targets)
        jobs = sorted({t["labels"]["job"] for t in up()})
        expect(jobs == ["sllm-gateway", "sllm-tokenizer", "sllm-worker"], f"jobs {jobs}")
        m = cl.MODEL
        series = {
            "ttft_worker": f'sum(sllm_time_to_first_token_seconds_count{{model="{m}"}})',
            "ttft_gateway": f'sum(sllm_gateway_time_to_first_token_seconds_count{{model="{m}"}})',
            "ttft_gateway_inf": f'sum(sllm_gateway_time_to_first_token_seconds_bucket{{model="{m}",le="+Inf"}})',
            "gen_tokens": f'sum(sllm_generation_tokens_total{{model="{m}"}})',
            "prompt_tokens": f'sum(sllm_prompt_tokens_total{{model="{m}"}})',
        }
        # Baseline: the demo reply of `sllm up` has been scraped.
        before = prom.poll("baseline series scraped", lambda: (
            lambda v: v if all(x is not None and x > 0 for x in v.values()) else None)(
                {k: prom.scalar(q) for k, q in series.items()}))
        usage = []
        for p in ("Once upon a time", "The little dog"):
            st, body = cluster.post("/v1/completions", {"model": m, "prompt": p, "max_tokens": 8})
            expect(st == 200, f"POST /v1/completions -> {st}")
            usage.append(body["usage"])
        r = cluster.grpc_generate("Lily", 6)
        usage.append({"prompt_tokens": r["prompt_tokens"], "completion_tokens": r["completion_tokens"]})
        want = {"ttft_worker": 3, "ttft_gateway": 3, "ttft_gateway_inf": 3,
                "gen_tokens": sum(u["completion_tokens"] for u in usage),
                "prompt_tokens": sum(u["prompt_tokens"] for u in usage)}
        got = prom.poll("Prometheus saw every series move", lambda: (
            lambda v: v if all(v[k] is not None and v[k] - before[k] >= want[k] for k in want) else None)(
                {k: prom.scalar(q) for k, q in series.items()}), timeout=30) or {}
        for k in want:
            if got:
                expect(got[k] - before[k] == want[k], f"{k}: +{got[k] - before[k]:g} == +{want[k]}")
        p99 = prom.scalar(f'histogram_quantile(0.99, sum by (le) (rate(sllm_gateway_time_to_first_token_seconds_bucket{{model="{m}"}}[1m])))')
        expect(p99 is not None and 0 < p99 <= 60, f"gateway TTFT p99 over 1m: {p99}")
        # Recording rules and alerts: every rule evaluated without error; the model's recorded
        # series exist; no alert fires on a healthy cluster.
        def rules_ok():
            groups = prom.api("rules")["groups"]
            rules = [r for g in groups for r in g["rules"]]
            if not rules or any(r["health"] != "ok" or r["lastEvaluation"].startswith("0001")
                                for r in rules):
                return None
            return rules
        rules = prom.poll("every rule evaluated, healthy", rules_ok, timeout=30) or []
        if not rules:
            print(json.dumps([(r["name"], r["health"], r.get("lastError"), r["lastEvaluation"])
                              for g in prom.api("rules")["groups"] for r in g["rules"]], indent=1))
        in_file = sum(len(g["rules"]) for g in yaml.safe_load(open(os.path.join(
            args.root, "deploy/prometheus/rules/sllm.rules.yml")))["groups"])
        expect(len(rules) == in_file, f"{len(rules)} rules loaded and evaluated, of {in_file}")
        for rec in ("model:sllm_generation_tokens:rate5m", "model:sllm_prompt_tokens:rate5m",
                    "model:sllm_time_to_first_token_seconds:p99_5m",
                    "model:sllm_gateway_time_to_first_token_seconds:p99_5m",
                    "model:sllm_requests_waiting:sum", "job:sllm_gateway_errors:ratio_rate5m"):
            v = prom.poll(f"recorded {rec} has a sample",
                          lambda: prom.query(rec), timeout=15)
            if v and rec.startswith("model:"):
                expect(v[0]["metric"].get("model") == m, f"{rec} is per model: {v[0]['metric']}")
        # A rule's first samples may come from evaluations before the scrapes that saw the
        # requests: wait for one after them (rate > 0, a ratio that is a number).
        rate = prom.poll("recorded generation rate is above 0", lambda: (
            lambda v: v if v is not None and v > 0 else None)(
                prom.scalar("sum(model:sllm_generation_tokens:rate5m)")), timeout=30)
        expect(rate is not None and rate > 0, f"generation tokens/s recorded: {rate}")
        ratio = (prom.poll("recorded error ratio is a number", lambda: (  # (ratio,): 0 is falsy.
            lambda v: (v,) if v is not None and v == v else None)(
                prom.scalar("job:sllm_gateway_errors:ratio_rate5m")), timeout=30) or (None,))[0]
        expect(ratio == 0, f"gateway server-side error ratio on a healthy cluster: {ratio}")
        firing = [a for a in prom.api("alerts")["alerts"]]
        expect(not firing, f"no alert pending or firing on a healthy cluster: {firing}")
    finally:
        if prom:
            prom.stop()
        cluster.stop()
        if failures and prom:
            print(open(prom.log.name).read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
