# Sourced by the scripts beside it: a nats-server, a Valkey and an intake of their own on
# free ports, under the prefix `count`, all stopped and their files removed on exit, and
# one 10-item import. Set `repo` and `bin` (the participant binary) first.
nats=$(PATH="$repo/.tools/bin:$PATH:/usr/sbin" command -v nats-server)
valkey=$(PATH="$repo/.tools/bin:$PATH" command -v valkey-server || command -v redis-server)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
np=$(port); vp=$(port); ip=$(port)
tenant=00000000-0000-0000-0000-000000000001

# Starts nats-server (logging to $work/nats.log; extra flags from the arguments) and Valkey,
# and points the roles at them.
start_servers() {
  "$nats" -a 127.0.0.1 -p "$np" -js -sd "$work/js" -l "$work/nats.log" "$@" & pids+=($!)
  "$valkey" --port "$vp" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/valkey.log" 2>&1 & pids+=($!)
  for _ in $(seq 50); do redis-cli -p "$vp" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export Nats__Url=nats://127.0.0.1:$np Valkey__Url=redis://127.0.0.1:$vp Participant__Prefix=count RUST_LOG=warn
}

# Starts the intake and waits until it is ready.
start_intake() {
  "$bin" intake --listen "127.0.0.1:$ip" >"$work/intake.log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ip/health/ready" >/dev/null && break; sleep 0.1; done
}

# Submits a bulk import of 10 items named after $1 and prints its operation id.
import() {
  local body
  body='{"items":['$(for k in $(seq 10); do printf '{"name":"%s-%s"},' "$1" "$k"; done | sed 's/,$//')']}'
  curl -sf -X POST "http://127.0.0.1:$ip/api/sampleentities/bulk-import" -H "X-Tenant-Id: $tenant" \
    -H 'content-type: application/json' -d "$body" | python3 -c 'import sys,json;print(json.load(sys.stdin)["operationId"])'
}
