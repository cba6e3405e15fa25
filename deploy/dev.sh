#!/usr/bin/env bash
# Development in one command: builds the service, starts NATS (with nats.conf)
# and Valkey unless something already listens on their ports, then runs all
# roles in this terminal. Arguments are passed to `participant all`.
# The servers started here keep running after the service stops.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
run=.tools/run

bash deploy/setup.sh
cargo build --release -p participant --bin participant

# Succeeds when something accepts TCP connections on 127.0.0.1:<port>.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The project-local server, else the first of the given names on PATH.
server_bin() {
  local name
  [ -x ".tools/bin/$1" ] && { echo "$PWD/.tools/bin/$1"; return; }
  for name in "$@"; do
    PATH="$PATH:/usr/sbin" command -v "$name" && return
  done
  echo "deploy/dev.sh: no $* found; run deploy/setup.sh" >&2
  return 1
}

# Starts a server in its own session (so Ctrl-C here does not stop it).
start_bg() {
  local log=$1
  shift
  setsid "$@" </dev/null >>"$log" 2>&1 &
}

mkdir -p "$run"
started=() pidfiles=()

if listening 4222; then
  echo "NATS:   already listening on 127.0.0.1:4222 (using it; it needs JetStream)"
else
  nats=$(server_bin nats-server)
  start_bg "$run/nats.log" "$nats" -c nats.conf --pid "$run/nats.pid"
  started+=("NATS on 127.0.0.1:4222 ($nats, log $run/nats.log)")
  pidfiles+=("$run/nats.pid")
fi

if listening 6379; then
  echo "Valkey: already listening on 127.0.0.1:6379 (using it)"
else
  valkey=$(server_bin valkey-server redis-server)
  start_bg "$run/valkey.log" "$valkey" \
    --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$PWD/$run" --pidfile "$PWD/$run/valkey.pid"
  started+=("Valkey on 127.0.0.1:6379 ($valkey, log $run/valkey.log)")
  pidfiles+=("$run/valkey.pid")
fi

# Wait up to 10 s for both ports to answer.
for _ in $(seq 50); do
  listening 4222 && listening 6379 && break
  sleep 0.2
done
if ! listening 4222 || ! listening 6379; then
  echo "deploy/dev.sh: NATS or Valkey did not come up within 10 s; see $run/*.log" >&2
  tail -n 20 "$run"/*.log >&2 2>/dev/null || true
  exit 1
fi

for s in "${started[@]}"; do
  echo "Started $s"
done
if [ ${#started[@]} -gt 0 ]; then
  echo "They keep running after the service exits; stop them with:"
  echo "  kill \$(cat ${pidfiles[*]})"
fi

cat <<'EOF'

Service: http://127.0.0.1:8080

Start a bulk import:
  curl -i -X POST http://127.0.0.1:8080/api/sampleentities/bulk-import -H 'Content-Type: application/json' -H 'X-Tenant-Id: 00000000-0000-0000-0000-000000000001' -d '{"items":[{"name":"alice"},{"name":"bob"}]}'

Then poll the operation (its id is "operationId" in the 202 body, also in the Location header):
  curl -i http://127.0.0.1:8080/api/operations/{id} -H 'X-Tenant-Id: 00000000-0000-0000-0000-000000000001'

Or watch it in the console:
  http://127.0.0.1:8080/ui?tenantId=00000000-0000-0000-0000-000000000001

EOF

# Webhooks in development: a fresh signing secret unless one is set, and callbacks to
# plain http on this machine (production refuses both loopback and http).
if [ -z "${Callbacks__SigningSecrets:-}" ]; then
  Callbacks__SigningSecrets=$(target/release/participant secret)
  echo "Webhook signing secret for this run (verify callbacks with it):"
  echo "  $Callbacks__SigningSecrets"
  echo
fi
export Callbacks__SigningSecrets
export Callbacks__AllowHttp="${Callbacks__AllowHttp:-true}"
export Callbacks__AllowedNetworks="${Callbacks__AllowedNetworks:-127.0.0.1/32,::1/128}"

exec target/release/participant all "$@"
