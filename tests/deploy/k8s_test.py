#!/usr/bin/env python3
"""deploy/k8s: every overlay renders with `kubectl kustomize`, every rendered object validates
against the Kubernetes / CRD schemas (validate_k8s.mjs: types and unknown fields), and the
objects fit together: references resolve, selectors select, probes use grpc.health.v1, the
flags in ConfigMaps and container args are flags the real binaries define, and the gpu overlay
has what GPU nodes need.

  k8s_test.py --root REPO --bin BUILD/bin
Exit 77 (ctest SKIP) when kubectl is missing."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

RENDERS = ["base", "overlays/cpu", "overlays/gpu"]
WORKLOADS = ("Deployment", "StatefulSet", "Job")
BINARIES = {"tokenizer": "sllm-tokenizer-server", "worker": "sllm-worker-server",
            "gateway": "sllm-gateway"}
HEALTH_SERVICE = {"tokenizer": "sllm.v1.TokenizerService", "worker": "sllm.v1.WorkerService",
                  "gateway": "sllm.v1.Generation"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def render(root, rel):
    out = subprocess.run(["kubectl", "kustomize", os.path.join(root, "deploy/k8s", rel)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"kubectl kustomize {rel}: {out.stderr.strip()}")
        return []
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def validate(root, objects, label):
    """Runs validate_k8s.mjs; returns its (exit code, output)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(objects, f)
    try:
        out = subprocess.run(["node", os.path.join(root, "tests/deploy/validate_k8s.mjs"), f.name,
                              os.path.join(root, "tests/reference")],
                             capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    return out.returncode, (out.stdout + out.stderr).strip()


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def check_references(rel, objs):
    by_kind = {}
    for o in objs:
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
    names = lambda kind: by_kind.get(kind, {})
    workloads = [o for o in objs if o["kind"] in WORKLOADS]
    for o in objs:
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") != "sllm":
            fail(f"{rel}: {o['kind']}/{o['metadata']['name']} is not in namespace sllm")
    for w in workloads:
        spec = pod_spec(w)
        wname = f"{rel}: {w['kind']}/{w['metadata']['name']}"
        if w["kind"] != "Job" and not selects(w["spec"]["selector"]["matchLabels"],
                                              w["spec"]["template"]["metadata"]["labels"]):
            fail(f"{wname}: selector does not match its pod labels")
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        for v in vols.values():
            if "configMap" in v and v["configMap"]["name"] not in names("ConfigMap"):
                fail(f"{wname}: volume {v['name']} names a missing ConfigMap {v['configMap']['name']}")
            pvc = v.get("persistentVolumeClaim")
            if pvc and pvc["claimName"] not in names("PersistentVolumeClaim"):
                fail(f"{wname}: volume {v['name']} names a missing PVC {pvc['claimName']}")
        for c in spec.get("initContainers", []) + spec["containers"]:
            for m in c.get("volumeMounts", []):
                if m["name"] not in vols:
                    fail(f"{wname}/{c['name']}: mounts the missing volume {m['name']}")
            for ef in c.get("envFrom", []):
                ref = ef.get("configMapRef")
                if ref and ref["name"] not in names("ConfigMap"):
                    fail(f"{wname}/{c['name']}: envFrom names a missing ConfigMap {ref['name']}")
    for s in names("Service").values():
        pods = [w for w in workloads if selects(s["spec"]["selector"],
                                                w["spec"]["template"]["metadata"]["labels"])]
        if not pods:
            fail(f"{rel}: Service/{s['metadata']['name']} selects no pods")
            continue
        ports = {p["name"] for c in pod_spec(pods[0])["containers"] for p in c.get("ports", [])}
        for p in s["spec"]["ports"]:
            if p["targetPort"] not in ports:
                fail(f"{rel}: Service/{s['metadata']['name']} targets a missing port {p['targetPort']}")
    for sm in names("ServiceMonitor").values():
        svcs = [s for s in names("Service").values()
                if selects(sm["spec"]["selector"]["matchLabels"], s["metadata"].get("labels", {}))]
        if len(svcs) != 1:
            fail(f"{rel}: ServiceMonitor/{sm['metadata']['name']} selects {len(svcs)} Services")
            continue
        for ep in sm["spec"]["endpoints"]:
            if ep["port"] not in {p["name"] for p in svcs[0]["spec"]["ports"]}:
                fail(f"{rel}: ServiceMonitor/{sm['metadata']['name']} scrapes a missing port")
    for kind in ("PodDisruptionBudget", "NetworkPolicy"):
        for o in names(kind).values():
            sel = (o["spec"]["selector"] if kind == "PodDisruptionBudget"
                   else o["spec"]["podSelector"])["matchLabels"]
            pods = [w for w in workloads if w["kind"] != "Job" and
                    selects(sel, w["spec"]["template"]["metadata"]["labels"])]
            if not pods:
                fail(f"{rel}: {kind}/{o['metadata']['name']} selects no pods")
            if kind == "NetworkPolicy" and pods:
                ports = {p["name"] for c in pod_spec(pods[0])["containers"] for p in c.get("ports", [])}
                for rule in o["spec"]["ingress"]:
                    for p in rule.get("ports", []):
                        if p["port"] not in ports:
                            fail(f"{rel}: NetworkPolicy/{o['metadata']['name']} opens a missing port {p['port']}")
    for kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        for o in names(kind).values():
            ref = o["spec"]["scaleTargetRef"]
            if ref["name"] not in names(ref.get("kind", "Deployment")):
                fail(f"{rel}: {kind}/{o['metadata']['name']} scales a missing {ref.get('kind')}/{ref['name']}")
    # Only the gateway reaches workers and tokenizer (and Prometheus their metrics port).
    for comp in ("worker", "tokenizer"):
        np = names("NetworkPolicy").get(f"sllm-{comp}")
        if not np:
            fail(f"{rel}: no NetworkPolicy for the {comp}")
            continue
        grpc_rules = [r for r in np["spec"]["ingress"] if any(p["port"] == "grpc" for p in r["ports"])]
        peers = [f for r in grpc_rules for f in r.get("from", [])]
        if not peers or any(f.get("podSelector", {}).get("matchLabels", {}).get(
                "app.kubernetes.io/component") != "gateway" or "namespaceSelector" in f for f in peers):
            fail(f"{rel}: the {comp}'s gRPC port is open to more than the gateway: {peers}")
    sts = names("StatefulSet").get("sllm-worker")
    headless = names("Service").get("sllm-worker")
    if not sts or not headless or sts["spec"]["serviceName"] != "sllm-worker" or \
            headless["spec"].get("clusterIP") != "None":
        fail(f"{rel}: the worker StatefulSet needs the headless Service sllm-worker")
    return by_kind


def container_flags(obj, container, by_kind):
    """The flags a container runs with: its flagfile lines, then its args."""
    flags = []
    spec = pod_spec(obj)
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    env = {e["name"]: "0" for e in container.get("env", [])}
    for a in container.get("args", []):
        a = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), a)
        m = re.match(r"--flagfile=(.*)/([^/]+)$", a)
        if m:
            cm = by_kind["ConfigMap"][vols[mounts[m.group(1)]]["configMap"]["name"]]
            flags += [l.strip() for l in cm["data"][m.group(2)].splitlines() if l.strip()]
        else:
            flags.append(a)
    return flags


def check_pods(rel, by_kind, bindir):
    for comp, binary in BINARIES.items():
        objs = [o for k in ("Deployment", "StatefulSet") for o in by_kind.get(k, {}).values()
                if o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") == comp]
        if len(objs) != 1:
            fail(f"{rel}: {len(objs)} workloads for the {comp}")
            continue
        c = pod_spec(objs[0])["containers"][0]
        if c["command"] != [binary]:
            fail(f"{rel}: the {comp} runs {c['command']}, not {binary}")
        grpc_port = next(p["containerPort"] for p in c["ports"] if p["name"] == "grpc")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            g = c.get(probe, {}).get("grpc")
            if not g or g["port"] != grpc_port:
                fail(f"{rel}: the {comp}'s {probe} is not grpc.health.v1 on port {grpc_port}")
        if c.get("readinessProbe", {}).get("grpc", {}).get("service") != HEALTH_SERVICE[comp]:
            fail(f"{rel}: the {comp}'s readiness probe does not ask for {HEALTH_SERVICE[comp]}")
        flags = container_flags(objs[0], c, by_kind)
        # Unknown flags in a --flagfile are silently ignored by gflags; on the command line they
        # are reported. An out-of-range --port makes the binary exit right after parsing.
        out = subprocess.run([os.path.join(bindir, binary)] + flags + ["--port=70000"],
                             capture_output=True, text=True, timeout=60)
        errors = [l for l in out.stderr.splitlines()
                  if l.startswith("ERROR") and "for flag 'port'" not in l]
        if errors or out.returncode == 0:
            fail(f"{rel}: {binary} rejects its flags {flags}: {errors}")
        if comp == "gateway":
            f = dict(x[2:].split("=", 1) for x in flags if "=" in x)
            host, port = f.get("workers_dns", ":").split(":")
            svc = by_kind["Service"].get(host)
            if not svc or int(port) not in [p["port"] for p in svc["spec"]["ports"]] or \
                    svc["spec"].get("clusterIP") != "None":
                fail(f"{rel}: --workers_dns={host}:{port} is not the worker headless Service")
            host, port = f.get("tokenizer", ":").split(":")
            svc = by_kind["Service"].get(host)
            if not svc or int(port) not in [p["port"] for p in svc["spec"]["ports"]]:
                fail(f"{rel}: --tokenizer={host}:{port} is not the tokenizer Service")


def check_gpu(by_kind):
    w = by_kind["StatefulSet"]["sllm-worker"]
    spec = pod_spec(w)
    c = spec["containers"][0]
    if str(c["resources"].get("limits", {}).get("nvidia.com/gpu")) != "1":
        fail("gpu: the worker has no nvidia.com/gpu limit")
    if spec.get("runtimeClassName") != "nvidia":
        fail("gpu: the worker's runtimeClassName is not nvidia")
    if not any(t.get("key") == "nvidia.com/gpu" for t in spec.get("tolerations", [])):
        fail("gpu: the worker does not tolerate nvidia.com/gpu")
    terms = spec.get("affinity", {}).get("nodeAffinity", {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution", {}).get("nodeSelectorTerms", [])
    if not any(e["key"] == "nvidia.com/gpu.present" for t in terms for e in t["matchExpressions"]):
        fail("gpu: no node affinity on nvidia.com/gpu.present")
    shm = [m for m in c["volumeMounts"] if m["mountPath"] == "/dev/shm"]
    vols = {v["name"]: v for v in spec["volumes"]}
    if not shm or vols[shm[0]["name"]].get("emptyDir", {}).get("medium") != "Memory":
        fail("gpu: no memory-backed /dev/shm")
    if vols["models"].get("persistentVolumeClaim", {}).get("claimName") != "sllm-models":
        fail("gpu: the worker's models are not on the PVC")
    if "cuda" not in c["image"] or "cuda" in pod_spec(by_kind["Deployment"]["sllm-gateway"])["containers"][0]["image"]:
        fail("gpu: the worker must run the CUDA image, the gateway the CPU one")
    so = by_kind.get("ScaledObject", {}).get("sllm-worker")
    if not so or "sllm_requests_waiting" not in so["spec"]["triggers"][0]["metadata"]["query"]:
        fail("gpu: no KEDA ScaledObject on sllm_requests_waiting")
    if "sllm-model-fetch" not in by_kind.get("Job", {}):
        fail("gpu: no Job fills the models PVC")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    if not shutil.which("kubectl"):
        print("SKIP: kubectl is not installed (not in Debian 12; see deploy/README.md)")
        return 77
    total = 0
    for rel in RENDERS:
        objs = render(args.root, rel)
        if not objs:
            continue
        rc, out = validate(args.root, objs, rel)
        print(f"{rel}: {out.splitlines()[-1] if out else ''}")
        if rc != 0:
            fail(f"{rel}: schema validation:\n{out}")
        total += len(objs)
        by_kind = check_references(rel, objs)
        if rel != "base":
            check_pods(rel, by_kind, args.bin)
        if rel == "overlays/gpu":
            check_gpu(by_kind)
    # The validator must catch what it claims to: an unknown field deep in a pod spec, a
    # misspelt CRD field, a wrong type.
    objs = render(args.root, "overlays/gpu")
    sts = next(o for o in objs if o["kind"] == "StatefulSet")
    pod_spec(sts)["containers"][0]["readinessProbe"]["grpc"]["servce"] = "x"
    so = next(o for o in objs if o["kind"] == "ScaledObject")
    so["spec"]["maxReplicas"] = 3
    sm = next(o for o in objs if o["kind"] == "ServiceMonitor")
    sm["spec"]["endpoints"][0]["interval"] = 15
    rc, out = validate(args.root, objs, "mutated")
    for needle in ("'\"servce\"' does not exist", "'\"maxReplicas\"' does not exist", "interval"):
        if rc == 0 or needle not in out:
            fail(f"the validator missed a planted error ({needle}):\n{out}")
    print(f"{total} rendered objects validated in {len(RENDERS)} renders")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
