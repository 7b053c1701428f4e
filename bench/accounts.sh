#!/usr/bin/env bash
# Accounts benchmark on one database: signed-in recommendations (the list read from the
# database, folded in, ranked), list writes, and a sign-in storm (Argon2id at full cost) with
# /healthz polled meanwhile. wrk on loopback, 1 thread; the server on 2 async threads.
#
#   bench/accounts.sh MODEL RATINGS.csv DB_URL [SECONDS]
#
# DB_URL: sqlite://PATH (a new file) or postgres://... (an empty database or schema). The
# sign-in limit per address is raised for the storm (every request comes from loopback).
# Needs wrk and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 ratings=$2 db=$3 seconds=${4:-20}
bin=target/release/anirec
out=bench/out/accounts
mkdir -p "$out"
port=$((20000 + RANDOM % 20000))
"$bin" serve --model "$model" --db "$db" --addr "127.0.0.1:$port" --threads 2 \
  --sign-ins-per-address 100000000 2> "$out/server.log" &
pid=$!
trap 'kill $pid 2> /dev/null || true' EXIT
until curl -fs "http://127.0.0.1:$port/readyz" > /dev/null; do sleep 0.05; done
python3 bench/accounts_setup.py "http://127.0.0.1:$port" "$ratings" "$out" 100

run() {
  local name=$1 script=$2 conns=$3
  echo "== $name ($seconds s, $conns connections, wrk 1 thread)"
  wrk -t1 -c"$conns" -d"${seconds}s" --latency -s "$script" "http://127.0.0.1:$port" \
    | grep -E "Latency|50%|90%|99%|Requests/sec|requests in|Non-2xx|Socket errors"
}
TOKENS=$out/tokens.txt run "GET /api/v1/me/recommendations" bench/wrk/me.lua 4
TOKENS=$out/tokens.txt ANIME=$out/anime.txt run "PUT /api/v1/me/list/{anime} (list writes)" \
  bench/wrk/writes.lua 4
python3 bench/health_poll.py "http://127.0.0.1:$port" "$seconds" > "$out/health.txt" &
poller=$!
CREDENTIALS=$out/credentials.txt run "POST /api/v1/tokens (sign-in storm)" bench/wrk/signin.lua 16
wait $poller
cat "$out/health.txt"
echo "server: peak RSS $(awk '/VmHWM/ {print $2 / 1024 " MB"}' /proc/$pid/status)"
