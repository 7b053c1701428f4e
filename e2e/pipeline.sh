#!/usr/bin/env bash
# The DVC pipeline (dvc.yaml, params.yaml) from scratch: `dvc repro` runs every stage; a second
# `dvc repro` runs none; a changed train parameter re-runs exactly train and eval. The
# parameters are put back as they were at the end, and the results stay in pipeline/.
#
#   e2e/pipeline.sh DVC_BINARY     (from the repository root, after
#                                   `cargo build --release -p anirec`)
set -euo pipefail
dvc=$1
log=$(mktemp)
saved=$(mktemp)
cp params.yaml "$saved"
trap 'cp "$saved" params.yaml; rm -f "$log" "$saved"' EXIT

# Which stages ran (or were restored from DVC's run cache) in the last repro.
ran() {
  grep -E "Running stage '|' is cached" "$log" | grep -oE "'[a-z]+'" | tr -d "'" | sort -u | tr '\n' ' ' || true
}
repro() {
  local started=$SECONDS
  "$dvc" repro > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
  echo "dvc repro ($((SECONDS - started)) s): ran $(ran)"
}
expect() {
  [ "$(ran)" = "$1" ] || { cat "$log" >&2; echo "expected stages: '$1', ran: '$(ran)'" >&2; exit 1; }
}

rm -rf pipeline dvc.lock
repro
expect "eval ingest split train "
repro
expect ""
grep -q "Data and pipelines are up to date" "$log" || { cat "$log" >&2; exit 1; }
# The figures as DVC reads them.
"$dvc" metrics show --json > "$log"
python3 - "$log" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))[""]["data"]["pipeline/eval.json"]["data"]
print(f"metrics: test NDCG@10 {m['ndcg_at_10']:.4f}, coverage {m['coverage']:.4f}, RMSE {m['rmse']:.4f}")
PY

# One parameter of the training changed: train and eval run again, ingest and split do not.
python3 - <<'PY'
import re
text = open("params.yaml").read()
head, train = text.split("\ntrain:", 1)
train = re.sub(r"(\n  seed: )42\b", r"\g<1>43", train, count=1)
open("params.yaml", "w").write(head + "\ntrain:" + train)
PY
grep -A3 '^train:' params.yaml | grep -q 'seed: 43'
repro
expect "eval train "
echo "pipeline: dvc repro ran every stage, then none, then train and eval after train.seed changed"
