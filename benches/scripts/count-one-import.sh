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
source "$repo/benches/scripts/stack.sh"
start_servers -V
start_intake
"$bin" worker --concurrency 64 >"$work/worker.log" 2>&1 & pids+=($!)
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
