#!/usr/bin/env bash
# The test suite: makes sure the servers exist, then runs every test. The test
# harness starts its own nats-server and valkey-server (or redis-server) on
# free ports, found on PATH: the project-local ones first.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

bash deploy/setup.sh
bash deploy/test-clients.sh
# .tools/bin first; /usr/sbin last, where Debian's nats-server lives.
export PATH="$repo/.tools/bin:$PATH:/usr/sbin"

# Exits with the test command's status. --all-targets: the crates have no doc tests, and
# without them the run closes on the last real suite's result rather than an empty one.
# The contract tests that matter most, first against a 3-master Valkey Cluster.
PARTICIPANT_TEST_VALKEY_CLUSTER=1 cargo test -p participant --locked --test it -- \
  --test-threads 4 bulk_import idempotency cancellation sweeper webhooks operations compensation
exec cargo test --workspace --locked --all-targets -- --test-threads 4
