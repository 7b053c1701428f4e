#!/usr/bin/env bash
# The API against its own OpenAPI document, checked by a property-based client: schemathesis runs
# every check (server errors, status codes, content types, headers, response schemas, schema-valid
# requests accepted and schema-violating ones refused, ...) with a fixed seed and a bounded number
# of examples, against `anirec serve` on loopback.
#
#   e2e/contract.sh ANIREC_BINARY MODEL_DIR SCHEMATHESIS_BINARY
set -euo pipefail
bin=$1 model=$2 st=$3
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
db=$(mktemp -d)
token=contract-$RANDOM$RANDOM
"$bin" serve --model "$model" --addr "127.0.0.1:$port" --admin-token "$token" \
  --db "sqlite://$db/accounts.db" 2> "$log" &
pid=$!
trap 'kill $pid 2> /dev/null || true; rm -rf "$log" "$db"' EXIT
for _ in $(seq 300); do
  if "$bin" probe "http://127.0.0.1:$port/readyz" > /dev/null 2>&1; then break; fi
  sleep 0.1
done
"$bin" probe "http://127.0.0.1:$port/readyz" > /dev/null || { cat "$log" >&2; exit 1; }
# A signed-in fan's token, for a second pass over the account endpoints as that fan.
fan_token=$(python3 - "http://127.0.0.1:$port" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
creds = {"username": "contract_fan", "password": "contract password"}
post("/api/v1/accounts", creds)
print(post("/api/v1/tokens", creds)["token"])
PY
)
# One worker: schemathesis' generator is not thread-safe on every Python (AST errors seen on 3.11).
run() {
  "$st" --config-file "$(dirname "$0")/schemathesis.toml" run "http://127.0.0.1:$port/api/openapi.json" --checks all --seed 42 --max-examples 50 \
    --workers 1 --generation-database none --no-color "$@"
}
echo "pass 1: the whole API, with the admin token"
# Story search is left out: this model has no story embeddings (CI trains it with --no-encoder),
# so it answers 503 by design (tested in crates/anirec-server/tests/story.rs).
run -H "Authorization: Bearer $token" --exclude-operation-id searchStories
echo "pass 2: the whole API without the admin token (admin endpoints answer 401)"
run --exclude-operation-id searchStories
echo "pass 3: the account endpoints, as a signed-in fan"
run -H "Authorization: Bearer $fan_token" --include-path-regex '^/api/v1/(me|tokens|sessions)'
