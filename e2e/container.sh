#!/usr/bin/env bash
# The container image, built and run for real: a Debian base made with debootstrap (no image is
# pulled), deploy/Dockerfile's `prebuilt` stage around the host's release binary, then the image
# run read-only as its non-root user with a model bundle mounted, on the host's network (the
# engine runs without a bridge or iptables: all traffic stays on loopback). Checks /readyz,
# Docker's HEALTHCHECK, a few API calls, and a clean stop on SIGTERM within the grace period.
#
#   e2e/container.sh MODEL_DIR      (as root; run from the repository root after
#                                    `cargo build --release -p anirec`)
# RUNTIME_IMAGE=IMAGE uses that base (pulled) instead, e.g. the host's own distribution where
# the binary needs a newer glibc than Debian bookworm's.
set -euo pipefail
model=$(realpath "$1")
image=anirec:ci
name=anirec-ci-$$
grace=30

# The engine: Debian's docker.io, started here when none answers.
if ! docker info > /dev/null 2>&1; then
  mkdir -p target
  nohup dockerd --bridge=none --iptables=false --ip6tables=false > target/dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info > /dev/null 2>&1 && break; sleep 1; done
  docker info > /dev/null || { tail -20 target/dockerd.log >&2; exit 1; }
fi

runtime=${RUNTIME_IMAGE:-}
if [ -z "$runtime" ]; then
  runtime=anirec-base:bookworm
  deploy/base-image.sh "$runtime"
fi
# The image holds a stripped copy of the release binary (symbols are for profiling at home).
mkdir -p target/image
strip -o target/image/anirec target/release/anirec
DOCKER_BUILDKIT=0 docker build -q -f deploy/Dockerfile --target prebuilt \
  --build-arg RUNTIME_IMAGE="$runtime" --build-arg BINARY=target/image/anirec \
  -t "$image" . > /dev/null 2> target/image/build.log || { cat target/image/build.log >&2; exit 1; }
echo "image: $image, $(docker image inspect --format '{{.Size}}' "$image" | numfmt --to=iec)" \
  "(binary $(stat -c %s target/image/anirec | numfmt --to=iec))"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
trap 'docker rm -f "$name" > /dev/null 2>&1 || true' EXIT
# The image's own command (serve /models/current --watch 30 --log-json); the accounts database
# on a tmpfs, as the root file system is read-only; no encoder in the image: story search says so.
docker run -d --name "$name" --network host --read-only --tmpfs /tmp \
  --cap-drop ALL --security-opt no-new-privileges --stop-timeout "$grace" \
  -v "$model:/models/current:ro" \
  -e ANIREC_ADDR="127.0.0.1:$port" -e ANIREC_DB=sqlite:///tmp/accounts.db -e ANIREC_NO_ENCODER=1 \
  "$image" > /dev/null
started=$(date +%s.%N)
ready=""
for _ in $(seq 600); do
  if curl -sf "$base/readyz" > /dev/null; then
    ready=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$started" "$(date +%s.%N)")
    break
  fi
  sleep 0.1
done
[ -n "$ready" ] || { docker logs "$name" >&2; echo "the container never became ready" >&2; exit 1; }
echo "ready: /readyz 200 after ${ready} s"
health=""
for _ in $(seq 60); do
  health=$(docker inspect --format '{{.State.Health.Status}}' "$name")
  [ "$health" = healthy ] && break
  sleep 1
done
[ "$health" = healthy ] || { docker logs "$name" >&2; echo "HEALTHCHECK says $health" >&2; exit 1; }
echo "health: Docker's HEALTHCHECK reports $health"
# The image's own user, not root, and a root file system it cannot write.
uid=$(docker exec "$name" id -u)
[ "$uid" = 10001 ] || { echo "the server runs as uid $uid, not 10001" >&2; exit 1; }
if docker exec "$name" touch /models/written 2> /dev/null; then
  echo "the root file system is writable" >&2
  exit 1
fi
echo "user: uid $uid, read-only root file system"

# A few API calls, their answers checked.
python3 - "$base" <<'PY'
import json, sys, urllib.error, urllib.request
base = sys.argv[1]
def call(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
status, body = call("/api/v1/model")
assert status == 200, (status, body)
model = json.loads(body)
status, body = call("/api/v1/anime?q=cowboy+bebop")
assert status == 200 and "Cowboy Bebop" in body, (status, body[:300])
status, body = call("/api/v1/recommendations?k=5", {"ratings": [{"anime_id": 1, "rating": 10}, {"anime_id": 5114, "rating": 9}]})
items = json.loads(body)["items"] if status == 200 else []
assert status == 200 and len(items) == 5, (status, body[:300])
status, body = call("/api/v1/search?q=time+loop")
assert status == 503 and "encoder" in body, (status, body[:300])
status, body = call("/metrics")
assert status == 200 and "anirec_" in body, (status, body[:300])
print(f"api: model {model.get('version')}, title search, fold-in ({len(items)} items), story search 503 without an encoder, metrics")
PY

# SIGTERM: the server finishes what is in flight and exits 0 before the grace period ends
# (a container still running at the end is killed: exit code 137).
stop_started=$(date +%s.%N)
docker stop -t "$grace" "$name" > /dev/null
took=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$stop_started" "$(date +%s.%N)")
code=$(docker inspect --format '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || { docker logs "$name" >&2; echo "exit code $code after SIGTERM" >&2; exit 1; }
docker logs "$name" 2>&1 | grep -q '^stopped$' || { docker logs "$name" >&2; echo "no clean stop in the log" >&2; exit 1; }
echo "stop: SIGTERM, exit code 0 after ${took} s (grace ${grace} s)"
