#!/usr/bin/env bash
# Serving benchmark: cold start of `anirec serve` from a bundle to ready, then wrk on loopback
# against the known-user endpoint (random users) and the fold-in endpoint (random real rating
# lists), reporting latency percentiles and throughput.
#
#   [CACHE=4096] [BIN=target/release/anirec] bench/serve.sh MODEL RATINGS.csv [SECONDS] [CONNECTIONS]
#
# MODEL is a bundle from `anirec train`; RATINGS.csv is the file it was trained on (user ids and
# fold-in bodies are drawn from it). CACHE is the server's --response-cache (0: every known-user
# request is computed; otherwise a first pass over the users warms it and the timed run is
# answered from it). The server logs every request (to a file). Needs wrk (Debian package) and a
# release build.
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 ratings=$2 seconds=${3:-20} conns=${4:-32}
bin=${BIN:-target/release/anirec}
out=bench/out/serve
mkdir -p "$out"
python3 bench/serve_inputs.py "$ratings" "$out/users.txt" "$out/bodies.txt" 500
port=$((20000 + RANDOM % 20000))

start=$(date +%s.%N)
cache=${CACHE:-4096}
"$bin" serve --model "$model" --addr "127.0.0.1:$port" --threads 2 --response-cache "$cache" \
  2> "$out/server.log" &
pid=$!
trap 'kill $pid 2> /dev/null || true' EXIT
until curl -fs "http://127.0.0.1:$port/readyz" > /dev/null; do sleep 0.01; done
ready=$(date +%s.%N)
echo "cold start to ready: $(echo "$ready - $start" | bc) s"
grep -m1 "ready in" "$out/server.log"

run() {
  echo "== $1 ($seconds s, $conns connections, wrk 1 thread)"
  wrk -t1 -c"$conns" -d"${seconds}s" --latency -s "$2" "http://127.0.0.1:$port" \
    | grep -E "Latency|50%|90%|99%|Requests/sec|requests in|Non-2xx|Socket errors"
}
if [ "$cache" != 0 ]; then
  while read -r u; do curl -fs "http://127.0.0.1:$port/api/v1/users/$u/recommendations?k=10" > /dev/null; done < "$out/users.txt"
fi
USERS=$out/users.txt run "GET /api/v1/users/{id}/recommendations (response cache $cache)" bench/wrk/users.lua
BODIES=$out/bodies.txt run "POST /api/v1/recommendations (fold-in)" bench/wrk/foldin.lua
echo "server: $(grep -c 'request' "$out/server.log") access-log lines, peak RSS $(awk '/VmHWM/ {print $2 / 1024 " MB"}' /proc/$pid/status)"
