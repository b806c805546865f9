"""A local sllm cluster (`sllm up`) for the deploy tests, real requests against it, and
/metrics scrapes parsed into {(name, labels): value}."""
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

MODEL = "stories260K"


class Cluster:
    """`sllm up` with two worker shards on free ports; stop() ends every process."""

    def __init__(self, root, bindir, workers=2, timeout=120):
        self.bindir = bindir
        self.proc = subprocess.Popen(
            [os.path.join(bindir, "sllm"), "up", "--model", os.path.join(root, "models", MODEL),
             "--workers", str(workers), "--http_port", "0", "--max_tokens", "8"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        out = ""
        deadline = time.monotonic() + timeout
        # `sllm up` prints its endpoints, streams the demo reply, then this line.
        for line in self.proc.stdout:
            out += line
            if "Ctrl-C stops every process" in line:
                break
            if time.monotonic() > deadline:
                break
        if "Ctrl-C stops every process" not in out:
            self.stop()
            raise RuntimeError("sllm up did not start:\n" + out)
        self.grpc_target = re.search(r"Generation\): (\S+)", out).group(1)
        self.worker_targets = re.search(r"worker shards: ([\d.: ]+)", out).group(1).split()
        self.http = re.search(r"OpenAI HTTP\): (http://\S+)/v1", out).group(1)
        ports = [int(p) for p in re.search(r"metrics ports: ([\d ]+)", out).group(1).split()]
        # tokenizer, workers..., gateway
        self.metrics = {"tokenizer": [ports[0]], "worker": ports[1:-1], "gateway": [ports[-1]]}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill_worker(self, index):
        """SIGKILLs worker shard `index` (a child of our `sllm up`, found by its --port)."""
        port = self.worker_targets[index].rsplit(":", 1)[1]
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
                ppid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == self.proc.pid and f"--port={port}".encode() in argv:
                os.kill(int(pid), signal.SIGKILL)
                return
        raise RuntimeError(f"no worker process with --port={port}")

    def post(self, path, body):
        """POSTs JSON; returns (status, parsed body or SSE events)."""
        req = urllib.request.Request(self.http + path, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if body.get("stream"):
            events = [l[6:] for l in text.splitlines() if l.startswith("data: ")]
            return status, [json.loads(e) for e in events if e != "[DONE]"]
        return status, json.loads(text)

    def grpc_generate(self, prompt, max_tokens):
        """One sllm.v1.Generation/GenerateStream call through the `sllm generate` client."""
        out = subprocess.run([os.path.join(self.bindir, "sllm"), "generate", "--target",
                              self.grpc_target, "--model", MODEL, "--max_tokens",
                              str(max_tokens), "--json", prompt],
                             capture_output=True, text=True, timeout=60, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


def http_get(port, path="/metrics"):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.read().decode()


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Prometheus text format -> {(name, frozenset(labels)): value}."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError("unparsable sample line: " + line)
        labels = frozenset(_LABEL.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples


def total(samples, name, **labels):
    """Sum of `name` over series whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))
