# Sourced by the scripts beside it: a nats-server, a Valkey and an intake of their own on
# free ports, under the prefix `count`, all stopped and their files removed on exit, and
# ways to submit imports. Set `repo` and `bin` (the participant binary) first;
# VALKEY_SERVER=<path> picks the Valkey (or Redis) server.
nats=$(PATH="$repo/.tools/bin:$PATH:/usr/sbin" command -v nats-server)
valkey=${VALKEY_SERVER:-$(PATH="$repo/.tools/bin:$PATH" command -v valkey-server || command -v redis-server)}
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
np=$(port); vp=$(port); ip=$(port)
tenant=00000000-0000-0000-0000-000000000001
# Put before a command to run it under callgrind (see `instructions`).
callgrind=(valgrind --tool=callgrind --compress-strings=no --callgrind-out-file="$work/callgrind.out")
# What starts Valkey: set to ("${callgrind[@]}") before `start_servers` to count its work.
valkey_under=()

# Starts nats-server (logging to $work/nats.log; extra flags from the arguments) and Valkey,
# and points the roles at them.
start_servers() {
  "$nats" -a 127.0.0.1 -p "$np" -js -sd "$work/js" -l "$work/nats.log" "$@" & pids+=($!)
  "${valkey_under[@]}" "$valkey" --port "$vp" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/valkey.log" 2>&1 & pids+=($!)
  for _ in $(seq 300); do redis-cli -p "$vp" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export Nats__Url=nats://127.0.0.1:$np Valkey__Url=redis://127.0.0.1:$vp Participant__Prefix=count RUST_LOG=warn
}

# Starts the intake (after the arguments, a wrapper such as "${callgrind[@]}") and waits
# until it is ready.
start_intake() {
  "$@" "$bin" intake --listen "127.0.0.1:$ip" >"$work/intake.log" 2>&1 & pids+=($!)
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$ip/health/ready" >/dev/null && break; sleep 0.1; done
}

# Submits a bulk import of 10 items named after $1 and prints its operation id.
import() {
  local body
  body='{"items":['$(for k in $(seq 10); do printf '{"name":"%s-%s"},' "$1" "$k"; done | sed 's/,$//')']}'
  curl -sf -X POST "http://127.0.0.1:$ip/api/sampleentities/bulk-import" -H "X-Tenant-Id: $tenant" \
    -H 'content-type: application/json' -d "$body" | python3 -c 'import sys,json;print(json.load(sys.stdin)["operationId"])'
}

# Submits $2 imports of 10 items named after $1 over one keep-alive connection, waits until
# Valkey records each as completed, then reads each one's status document once over the
# same connection: what the benchmark's client does per operation.
imports() {
  python3 - "$ip" "$vp" "$tenant" "$1" "$2" <<'PY'
import http.client, json, subprocess, sys, time
ip, vp, tenant, name, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
connection = http.client.HTTPConnection("127.0.0.1", int(ip))
headers = {"X-Tenant-Id": tenant, "Content-Type": "application/json"}
ids = []
for i in range(n):
    body = json.dumps({"items": [{"name": f"{name}-{i}-{k}"} for k in range(10)]})
    connection.request("POST", "/api/sampleentities/bulk-import", body, headers)
    answer = connection.getresponse()
    assert answer.status == 202, answer.status
    ids.append(json.loads(answer.read())["operationId"])
for id in ids:
    for _ in range(1200):
        status = subprocess.run(["redis-cli", "-p", vp, "hget", f"count:op:{{{id}}}", "status"],
                                capture_output=True, text=True).stdout.strip()
        if status == "completed":
            break
        time.sleep(0.1)
    else:
        sys.exit(f"operation {id} did not complete")
for id in ids:
    connection.request("GET", f"/api/operations/{id}", headers={"X-Tenant-Id": tenant})
    answer = connection.getresponse()
    assert answer.status == 200 and json.loads(answer.read())["status"] == "completed"
PY
}

# Dumps the counters of the process under callgrind, which zeroes them, and prints the
# instructions of that dump (KEEP=<file> keeps the dump, for callgrind_annotate).
instructions() {
  callgrind_control --dump >/dev/null 2>&1
  local dump
  dump=$(ls -t "$work"/callgrind.out* | head -1)
  [ -n "${KEEP:-}" ] && cp "$dump" "$KEEP"
  callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
