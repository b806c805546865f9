#!/usr/bin/env bash
# Sets up and builds sllm, then starts what exists of the local cluster on the bundled model
# and streams a reply. Today that is the tokenizer service alone: it starts on a free port
# with the bundled stories260K model, and the model's reference continuation of "Once upon a
# time" (llama2.c's greedy output, models/stories260K/reference) is encoded and streamed back
# through DecodeStream one token at a time. The model worker and the gateway, which will make
# this a freshly generated reply (`sllm up`), are not built yet.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SLLM_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" "$build" >&2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$build/bin/sllm-tokenizer-server" --models "stories260K=$root/models/stories260K" \
  --host 127.0.0.1 --port "$port" --metrics_port 0 --minloglevel 1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
text=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cases"][0]["text"])' \
  "$root/models/stories260K/reference/greedy_reference.json")
echo "tokenizer service on 127.0.0.1:$port (model stories260K); streaming:" >&2
"$build/bin/sllm-tokenizer-client" --target "127.0.0.1:$port" --model stories260K --text "$text"
