#!/usr/bin/env bash
# Counts the instructions a worker spends per 10-item bulk import, with valgrind's
# callgrind, which counts the same for the same work whatever else the machine is doing.
# Starts its own nats-server and Valkey, an intake, and the worker under callgrind; runs
# a few imports (start-up and warm-up) and dumps the counters, which zeroes them, then N
# more, and prints the instructions of the second dump divided by N.
#
#   bash benches/scripts/worker-instructions.sh [target/release/participant] [N]
#
# KEEP=<file> keeps the counted dump, for callgrind_annotate.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${1:-$repo/target/release/participant}
n=${2:-200}
nats=$(PATH="$repo/.tools/bin:$PATH:/usr/sbin" command -v nats-server)
valkey=$(PATH="$repo/.tools/bin:$PATH" command -v valkey-server || command -v redis-server)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
np=$(port); vp=$(port); ip=$(port)
"$nats" -a 127.0.0.1 -p "$np" -js -sd "$work/js" -l "$work/nats.log" & pids+=($!)
"$valkey" --port "$vp" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/valkey.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do redis-cli -p "$vp" ping >/dev/null 2>&1 && break; sleep 0.1; done
export Nats__Url=nats://127.0.0.1:$np Valkey__Url=redis://127.0.0.1:$vp Participant__Prefix=count RUST_LOG=warn
"$bin" intake --listen "127.0.0.1:$ip" >"$work/intake.log" 2>&1 & pids+=($!)
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
  "$bin" worker --concurrency 16 >"$work/worker.log" 2>&1 & worker=$!
pids+=($worker)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ip/health/ready" >/dev/null && break; sleep 0.1; done
tenant=00000000-0000-0000-0000-000000000001
import() {
  local body
  body='{"items":['$(for k in $(seq 10); do printf '{"name":"%s-%s"},' "$1" "$k"; done | sed 's/,$//')']}'
  curl -sf -X POST "http://127.0.0.1:$ip/api/sampleentities/bulk-import" -H "X-Tenant-Id: $tenant" \
    -H 'content-type: application/json' -d "$body" | python3 -c 'import sys,json;print(json.load(sys.stdin)["operationId"])'
}
completed() { [ "$(redis-cli -p "$vp" hget "count:op:{$1}" status)" = completed ]; }
until_completed() {
  for _ in $(seq 1200); do completed "$1" && return 0; sleep 0.1; done
  echo "operation $1 did not complete" >&2; return 1
}
instructions() {
  callgrind_control --dump >/dev/null 2>&1
  local dump
  dump=$(ls -t "$work"/callgrind.out* | head -1)
  callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
for k in $(seq 10); do until_completed "$(import "warm$k")"; done
instructions >/dev/null
ids=()
for k in $(seq "$n"); do ids+=("$(import "counted$k")"); done
for id in "${ids[@]}"; do until_completed "$id"; done
counted=$(instructions)
[ -n "${KEEP:-}" ] && cp "$(ls -t "$work"/callgrind.out* | head -1)" "$KEEP"
echo "worker: $((counted / n)) instructions per 10-item import ($n imports, $bin)"
