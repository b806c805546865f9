#!/usr/bin/env bash
# deploy/: yamllint over every YAML file, `promtool check config` / `check rules`, and the rule
# unit tests (`promtool test rules`). Usage: static_test.sh REPO_ROOT
set -euo pipefail
cd "$1/deploy"
for tool in yamllint promtool; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/setup.sh)"; exit 77; }
done
yamllint -c .yamllint --strict .
cd prometheus
promtool check config prometheus.yml
promtool check rules rules/*.yml
promtool test rules tests/*.yml
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["uid"] and d["panels"]' \
  ../grafana/dashboards/sllm.json
echo "deploy static checks passed"
