#!/usr/bin/env python3
"""Each service's /metrics after real requests: the exposition passes `promtool check metrics`,
the expected series moved by exactly the requests made, the histograms have the LLM buckets,
and every query of the Grafana dashboard and the Prometheus rules parses (promtool) and reads
only metric names that the services really export (or that a recording rule records).

  metrics_test.py --root REPO --bin BUILD/bin"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_lib as cl  # noqa: E402
import promql_names as pq  # noqa: E402

failures = []


def expect(cond, msg):
    print(("ok:   " if cond else "FAIL: ") + msg)
    if not cond:
        failures.append(msg)


def scrape(cluster):
    """{component: [(raw text, parsed)]} for every metrics port."""
    return {c: [(t, cl.parse(t)) for t in (cl.http_get(p) for p in ports)]
            for c, ports in cluster.metrics.items()}


def summed(scr, comp, name, **labels):
    return sum(cl.total(parsed, name, **labels) for _, parsed in scr[comp])


def check_values(cluster):
    before = scrape(cluster)
    m = cl.MODEL
    usage = []  # (prompt_tokens, completion_tokens) of every generation
    completion_prompts = ["Once upon a time", "The cat sat"]
    for p in completion_prompts:
        st, body = cluster.post("/v1/completions", {"model": m, "prompt": p, "max_tokens": 8})
        expect(st == 200, f"POST /v1/completions -> {st}")
        usage.append((body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"]))
    st, events = cluster.post("/v1/completions", {"model": m, "prompt": "A dog", "max_tokens": 6,
                                                  "stream": True,
                                                  "stream_options": {"include_usage": True}})
    expect(st == 200, f"POST /v1/completions (stream) -> {st}")
    u = events[-1]["usage"]
    usage.append((u["prompt_tokens"], u["completion_tokens"]))
    st, body = cluster.post("/v1/chat/completions", {
        "model": m, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5})
    expect(st == 200, f"POST /v1/chat/completions -> {st}")
    usage.append((body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"]))
    st, _ = cluster.post("/v1/completions", {"model": "no-such-model", "prompt": "x"})
    expect(st == 404, f"POST /v1/completions with an unknown model -> {st}")
    grpc_prompts = ["Hello there", "Lily"]
    for p, n in zip(grpc_prompts, (7, 4)):
        r = cluster.grpc_generate(p, n)
        usage.append((r["prompt_tokens"], r["completion_tokens"]))
    gens = len(usage)
    prompt_tokens = sum(u[0] for u in usage)
    gen_tokens = sum(u[1] for u in usage)
    after = scrape(cluster)

    for comp, scr in after.items():
        for i, (text, _) in enumerate(scr):
            out = subprocess.run(["promtool", "check", "metrics"], input=text,
                                 capture_output=True, text=True)
            expect(out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(),
                   f"promtool check metrics: {comp}[{i}] {out.stdout}{out.stderr}".strip())

    d = lambda comp, name, **l: summed(after, comp, name, **l) - summed(before, comp, name, **l)
    eq = lambda got, want, what: expect(got == want, f"{what}: {got:g} == {want:g}")
    # Gateway: requests by route/rpc and code, TTFT and e2e per front, routing per shard.
    eq(d("gateway", "sllm_http_requests_total", route="/v1/completions", status="200"), 3,
       "gateway HTTP /v1/completions 200")
    eq(d("gateway", "sllm_http_requests_total", route="/v1/chat/completions", status="200"), 1,
       "gateway HTTP /v1/chat/completions 200")
    eq(d("gateway", "sllm_http_requests_total", route="/v1/completions", status="404"), 1,
       "gateway HTTP /v1/completions 404")
    eq(d("gateway", "sllm_rpc_requests_total", service="sllm.v1.Generation", rpc="GenerateStream",
         code="OK"), 2, "gateway gRPC GenerateStream OK")
    for front, n in (("http", 4), ("grpc", 2)):
        for h in ("sllm_gateway_time_to_first_token_seconds", "sllm_gateway_e2e_request_latency_seconds"):
            eq(d("gateway", h + "_count", front=front, model=m), n, f"gateway {h}_count{{front={front}}}")
            eq(d("gateway", h + "_bucket", front=front, model=m, le="+Inf"), n,
               f"gateway {h}_bucket{{le=+Inf,front={front}}}")
    eq(d("gateway", "sllm_gateway_routed_requests_total", model=m), gens, "gateway routed to shards")
    eq(summed(after, "gateway", "sllm_gateway_requests_in_flight"), 0, "gateway in flight after")
    eq(summed(after, "gateway", "sllm_service_serving", service="sllm.v1.Generation"), 1,
       "gateway serving")
    # Workers (summed over shards): requests, tokens, latency histograms.
    eq(d("worker", "sllm_requests_total", model=m), gens, "worker sllm_requests_total")
    for h in ("sllm_time_to_first_token_seconds", "sllm_e2e_request_latency_seconds",
              "sllm_request_queue_time_seconds"):
        eq(d("worker", h + "_count", model=m), gens, f"worker {h}_count")
    eq(d("worker", "sllm_inter_token_latency_seconds_count", model=m), gen_tokens - gens,
       "worker sllm_inter_token_latency_seconds_count (tokens - requests)")
    eq(d("worker", "sllm_prompt_tokens_total", model=m), prompt_tokens, "worker prompt tokens")
    eq(d("worker", "sllm_generation_tokens_total", model=m), gen_tokens, "worker generation tokens")
    eq(summed(after, "worker", "sllm_requests_running"), 0, "workers running after")
    for i, (_, parsed) in enumerate(after["worker"]):
        shards = {dict(ls).get("shard") for (n, ls) in parsed if n.startswith("sllm_") and
                  n != "sllm_service_serving"}
        expect(shards == {str(i)}, f"worker {i}: every sllm_ series has shard=\"{i}\" ({shards})")
        eq(cl.total(parsed, "sllm_service_serving", service="sllm.v1.WorkerService"), 1,
           f"worker {i} serving")
    # Tokenizer: calls and latency by rpc, bytes, tokens. Every request's detokenization goes
    # over the gateway's one DecodeStreams call (its call count depends on idle closes).
    eq(d("tokenizer", "sllm_rpc_requests_total", service="tokenizer", rpc="Encode", code="OK"),
       gens, "tokenizer Encode OK")
    eq(d("tokenizer", "sllm_rpc_latency_seconds_count", service="tokenizer", rpc="Encode"), gens,
       "tokenizer Encode latency count")
    eq(d("tokenizer", "sllm_tokenizer_tokens_total", rpc="Encode", model=m), prompt_tokens,
       "tokenizer Encode tokens = prompt tokens")
    eq(d("tokenizer", "sllm_tokenizer_tokens_total", rpc="DecodeStreams", model=m), gen_tokens,
       "tokenizer DecodeStreams tokens = generated tokens")
    text_bytes = sum(len(p.encode()) for p in completion_prompts + ["A dog"] + grpc_prompts)
    chat_bytes = d("tokenizer", "sllm_tokenizer_input_bytes_total", rpc="Encode", model=m) - text_bytes
    expect(chat_bytes >= len("hi"), f"tokenizer Encode bytes: {text_bytes} of prompts + "
           f"{chat_bytes:g} of the rendered chat")
    # Buckets that suit LLM latencies.
    les = lambda comp, name: {dict(ls)["le"] for (n, ls) in after[comp][0][1] if n == name + "_bucket"}
    for comp, name, lo, hi in (("gateway", "sllm_gateway_time_to_first_token_seconds", "0.001", "60"),
                               ("worker", "sllm_time_to_first_token_seconds", "0.001", "60"),
                               ("worker", "sllm_inter_token_latency_seconds", "0.0005", "5")):
        b = les(comp, name)
        expect(lo in b and hi in b and min(float(x) for x in b) == float(lo) and
               max(float(x) for x in b if x != "+Inf") == float(hi),
               f"{name} buckets span {lo} s .. {hi} s ({len(b)} buckets)")
    # Shards that die under a stream: the gateway counts the failed shard call by code.
    u = cluster.http.split("//")[1]
    conn = http.client.HTTPConnection(u, timeout=60)
    conn.request("POST", "/v1/completions", json.dumps(
        {"model": m, "prompt": "Once", "max_tokens": 400, "ignore_eos": True, "stream": True}),
        {"Content-Type": "application/json"})
    resp = conn.getresponse()
    while True:
        line = resp.readline()
        if not line or line.startswith(b"data: "):
            break
    cluster.kill_worker(0)
    cluster.kill_worker(1)
    tail = resp.read().decode()
    conn.close()
    failed, deadline = 0, time.monotonic() + 10
    while not failed and time.monotonic() < deadline:
        failed = cl.total(cl.parse(cl.http_get(cluster.metrics["gateway"][0])),
                          "sllm_gateway_shard_failures_total", code="UNAVAILABLE")
        time.sleep(0 if failed else 0.05)
    expect(failed == 1, f"gateway shard failures (UNAVAILABLE) after the shards died mid-stream: "
           f"{failed:g} (stream ended: {tail[-80:]!r})")
    after["gateway"] = [(t, cl.parse(t)) for t in (cl.http_get(p) for p in cluster.metrics["gateway"])]
    names = set()
    for scr in after.values():
        for _, parsed in scr:
            names |= pq.exported_names(parsed)
    return names


def check_queries(root, names):
    dash = os.path.join(root, "deploy/grafana/dashboards/sllm.json")
    rules = os.path.join(root, "deploy/prometheus/rules/sllm.rules.yml")
    queries = pq.dashboard_queries(dash)
    rule_queries, recorded = pq.rules_queries(rules)
    queries += rule_queries
    known = names | recorded | {"up"}  # `up`: Prometheus's own per-target series
    errors = pq.promtool_parse(queries)
    expect(not errors, f"promtool parses all {len(queries)} queries {errors}")
    unknown = {}
    for where, expr in queries:
        for n in pq.metric_names(expr) - known:
            unknown.setdefault(n, []).append(where)
    expect(not unknown, f"every query reads exported names; unknown: {unknown}")
    used = set().union(*(pq.metric_names(e) for _, e in queries))
    print(f"{len(queries)} queries ({len(queries) - len(rule_queries)} dashboard, "
          f"{len(rule_queries)} rules) read {len(used)} names; {len(names)} names exported")
    # The checks can fail: a name no service exports, and a syntax error.
    planted = [("planted", 'sum(rate(sllm_no_such_metric_total{model=~"$model"}[$__rate_interval]))')]
    expect(pq.metric_names(planted[0][1]) - known == {"sllm_no_such_metric_total"},
           "a query on an unexported name is caught")
    expect(pq.promtool_parse([("planted", "sum(rate(x[5m])")]) != "",
           "promtool rejects an unbalanced query")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    cluster = cl.Cluster(args.root, args.bin)
    try:
        names = check_values(cluster)
    finally:
        cluster.stop()
    check_queries(args.root, names)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
