#!/usr/bin/env bash
# Counts what one 10-item bulk import costs in messages: every Valkey command (MONITOR;
# the commands a script runs inside Valkey are shown indented) and every NATS protocol
# message (nats-server's trace), from the POST to one status GET of the completed
# operation. A first import warms the topology and the script cache and is not counted.
#
#   bash benches/scripts/count-one-import.sh [target/debug/participant]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${1:-$repo/target/debug/participant}
nats=$(PATH="$repo/.tools/bin:$PATH:/usr/sbin" command -v nats-server)
valkey=$(PATH="$repo/.tools/bin:$PATH" command -v valkey-server || command -v redis-server)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
np=$(port); vp=$(port); ip=$(port)
"$nats" -a 127.0.0.1 -p "$np" -js -sd "$work/js" -V -l "$work/nats.log" & pids+=($!)
"$valkey" --port "$vp" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/valkey.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do redis-cli -p "$vp" ping >/dev/null 2>&1 && break; sleep 0.1; done
export Nats__Url=nats://127.0.0.1:$np Valkey__Url=redis://127.0.0.1:$vp Participant__Prefix=count RUST_LOG=warn
"$bin" intake --listen "127.0.0.1:$ip" >"$work/intake.log" 2>&1 & pids+=($!)
"$bin" worker --concurrency 64 >"$work/worker.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ip/health/ready" >/dev/null && break; sleep 0.1; done
tenant=00000000-0000-0000-0000-000000000001
import() {
  local body
  body='{"items":['$(for k in $(seq 10); do printf '{"name":"%s%s"},' "$1" "$k"; done | sed 's/,$//')']}'
  curl -sf -X POST "http://127.0.0.1:$ip/api/sampleentities/bulk-import" -H "X-Tenant-Id: $tenant" \
    -H 'content-type: application/json' -d "$body" | python3 -c 'import sys,json;print(json.load(sys.stdin)["operationId"])'
}
status() { curl -sf "http://127.0.0.1:$ip/api/operations/$1" -H "X-Tenant-Id: $tenant" | python3 -c 'import sys,json;print(json.load(sys.stdin)["status"])'; }
until_completed() { for _ in $(seq 100); do [ "$(status "$1")" = completed ] && return 0; sleep 0.1; done; echo "not completed" >&2; return 1; }
until_completed "$(import warm)"
sleep 1 # let the warm-up's heartbeats and acks pass before counting starts
: >"$work/nats.log"
redis-cli -p "$vp" monitor >"$work/monitor.log" & monitor=$!
sleep 0.3
id=$(import counted)
for _ in $(seq 100); do redis-cli -p "$vp" hget "count:op:{$id}" status | grep -q completed && break; sleep 0.05; done
sleep 0.3 # the worker's ack reaches the server after the record
echo "final GET: $(status "$id")"
sleep 0.3
kill "$monitor"
grep -v '"hget" "count:op' "$work/monitor.log" | grep -v '^OK' >"$work/commands.log"
echo "== Valkey: $(grep -vc '\[0 lua\]' "$work/commands.log") commands from clients, $(grep -c '\[0 lua\]' "$work/commands.log") inside scripts"
awk '{cmd=$4; gsub(/"/,"",cmd); if ($3 ~ /lua/) print "      " cmd; else printf "  %-16s %6d bytes\n", cmd, length($0)}' "$work/commands.log"
echo "== NATS: messages published by clients"
grep -E '<<- \[(PUB|HPUB)' "$work/nats.log" | sed -E 's/.*<<- \[//; s/\]$//' |
  awk '{printf "  %-60s %5s bytes\n", $2, $NF}' | sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<id>/g; s/(\$JS\.ACK\.[^.]+\.[^.]+)\.[^ ]+/\1.…/'
echo "== NATS: messages delivered to clients"
grep -E '\->> \[(MSG|HMSG)' "$work/nats.log" | sed -E 's/.*->> \[//; s/\]$//' |
  awk '{printf "  %-60s %5s bytes\n", $2, $NF}' | sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<id>/g; s/_INBOX\.[^ ]+/_INBOX.… (PubAck or pull answer)/'
