#!/usr/bin/env bash
# Sets up and builds sllm, then starts the local cluster on the bundled stories260K model
# (`sllm up`: the tokenizer service, two worker shards and the gateway, each a process on a
# free port), prints the endpoints and streams a generated reply to "Once upon a time".
# Ctrl-C stops every process. Extra arguments go to `sllm up` (e.g. --model DIR --workers 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SLLM_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" "$build" >&2
exec "$build/bin/sllm" up "$@"
