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
source "$repo/benches/scripts/stack.sh"
start_servers
start_intake
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
  "$bin" worker --concurrency 16 >"$work/worker.log" 2>&1 & pids+=($!)
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
