"""PromQL helpers for the deploy tests: the queries of the Grafana dashboard and the rules
file, parsed by promtool, and the metric names each one reads."""
import json
import os
import re
import subprocess
import tempfile

import yaml

# Grafana's variables, replaced before parsing.
GRAFANA_VARS = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$model": ".*",
                "${model}": ".*"}
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
             "group_left", "group_right", "inf", "nan", "Inf", "NaN", "start", "end"}


def dashboard_queries(path):
    """[(where, expr)] of every panel target and query variable of a dashboard."""
    dash = json.load(open(path))
    out = []

    def panels(ps):
        for p in ps:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dash["panels"]):
        for t in p.get("targets", []):
            out.append((f"panel '{p['title']}' {t['refId']}", t["expr"]))
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q)
            out.append((f"variable ${v['name']}", m.group(1) if m else q))
    return out


def rules_queries(path):
    """([(where, expr)], recorded names) of a Prometheus rules file."""
    out, recorded = [], set()
    for g in yaml.safe_load(open(path))["groups"]:
        for r in g["rules"]:
            out.append((f"rule {r.get('record') or r.get('alert')}", r["expr"]))
            if "record" in r:
                recorded.add(r["record"])
    return out, recorded


def substitute(expr):
    for k in sorted(GRAFANA_VARS, key=len, reverse=True):
        expr = expr.replace(k, GRAFANA_VARS[k])
    return expr


def promtool_parse(queries):
    """Parses every query with promtool (as recording rules); returns promtool's errors."""
    rules = {"groups": [{"name": "queries", "rules": [
        {"record": f"sllm_query:q{i}", "expr": substitute(e)} for i, (_, e) in enumerate(queries)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump(rules, f)
    try:
        out = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    return "" if out.returncode == 0 else (out.stdout + out.stderr)


def metric_names(expr):
    """The metric names a (valid) PromQL expression selects."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', substitute(expr))
    s = re.sub(r"\{[^}]*\}", " ", s)            # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)           # ranges and subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", s):
        if m.start() > 0 and (s[m.start() - 1].isdigit() or s[m.start() - 1] == "."):
            continue                            # 1e3, 0.5e-3, durations
        if m.group() in _KEYWORDS or s[m.end():].lstrip().startswith("("):
            continue                            # keywords, functions, aggregations
        names.add(m.group())
    return names


def exported_names(samples):
    """Metric family names in parsed scrapes; a histogram's series are name_bucket etc."""
    return {name for (name, _labels) in samples}
