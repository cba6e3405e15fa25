#!/usr/bin/env bash
# Counts the instructions one process spends per 10-item bulk import, with valgrind's
# callgrind, which counts the same for the same work whatever else the machine is doing.
# Starts its own nats-server, Valkey, intake and worker, with ROLE under callgrind: the
# intake (its POST and one status GET per import, over one keep-alive connection, with the
# canonical log line at `info` as in production), the worker, or Valkey. Runs 10 imports
# (start-up and warm-up) and dumps the counters, which zeroes them, then N more, and
# prints the instructions of the second dump divided by N.
#
#   bash benches/scripts/instructions.sh intake|worker|valkey [target/release/participant] [N]
#
# KEEP=<file> keeps the counted dump, for callgrind_annotate.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
role=${1:?intake, worker or valkey}
bin=${2:-$repo/target/release/participant}
n=${3:-200}
source "$repo/benches/scripts/stack.sh"
[ "$role" = valkey ] && valkey_under=("${callgrind[@]}")
start_servers
worker=(); [ "$role" = worker ] && worker=("${callgrind[@]}")
"${worker[@]}" "$bin" worker --concurrency 16 >"$work/worker.log" 2>&1 & pids+=($!)
if [ "$role" = intake ]; then
  RUST_LOG=info start_intake "${callgrind[@]}"
else
  start_intake
fi
imports warm 10
instructions >/dev/null
imports counted "$n"
counted=$(instructions)
echo "$role: $((counted / n)) instructions per 10-item import ($n imports, $bin)"
