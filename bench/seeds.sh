#!/usr/bin/env bash
# How much the sample's figures move with the seeds: `anirec eval` (no story embeddings; with
# STORY=1, with them, from the default embedding cache; bench/out/seeds-story keeps those runs'
# JSON apart) over a list of seeds, (a) each seed drawing both the protocol's split and the models, (b) the split
# fixed at seed 42 and only the models' seed (factor initialisation, the validation users the
# blend is tuned on) changing. Prints one row per run and the mean and standard deviation of
# test NDCG@10, coverage and RMSE. Needs a release build.
#
#   [STORY=1] [EVAL_ARGS="--validation-carvings 2"] bench/seeds.sh [DATA] [SEEDS...]
#                                         (default: ../shared/data/mal2020, 42 43 1 2 3 7)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/mal2020}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(42 43 1 2 3 7)
bin=target/release/anirec
out=bench/out/seeds
encoder=(--no-encoder)
if [ "${STORY:-0}" = 1 ]; then
  encoder=()
  out=bench/out/seeds-story
fi
mkdir -p "$out"
read -r -a extra <<< "${EVAL_ARGS:-}"
"$bin" split --data "$data" --out "$out/split42" --seed 42 > /dev/null

row() {
  python3 - "$@" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
w = m["blend"]
print(f"{sys.argv[2]:<6} {sys.argv[3]:<10} {m['ndcg_at_10']:.4f}  {m['coverage']:.4f}  {m['rmse']:.4f}  "
      f"{m['validation']['ndcg_at_10']:.4f}  rating {w['rating']:.2f} content {w['content']:.2f} "
      f"popularity {w['popularity']:.2f} exposure {w['exposure']:.2f} story {w.get('story', 0):.2f}")
PY
}
summary() {
  python3 - "$@" <<'PY'
import json, statistics as st, sys
ms = [json.load(open(f)) for f in sys.argv[2:]]
for key in ("ndcg_at_10", "coverage", "rmse"):
    xs = [m[key] for m in ms]
    print(f"{sys.argv[1]}: {key} mean {st.mean(xs):.4f} sd {st.stdev(xs):.4f} min {min(xs):.4f} max {max(xs):.4f}")
PY
}

echo "seed   split      NDCG@10 cover   RMSE    val NDCG blend"
a=() b=()
for s in "${seeds[@]}"; do
  "$bin" eval --data "$data" --json "${encoder[@]}" --seed "$s" "${extra[@]}" > "$out/a$s.json"
  row "$out/a$s.json" "$s" "seed $s"
  a+=("$out/a$s.json")
done
for s in "${seeds[@]}"; do
  "$bin" eval --data "$data" --train "$out/split42/train.csv" --test "$out/split42/test.csv" \
    --json "${encoder[@]}" --seed "$s" "${extra[@]}" > "$out/b$s.json"
  row "$out/b$s.json" "$s" "seed 42"
  b+=("$out/b$s.json")
done
summary "(a) split and models seeded alike" "${a[@]}"
summary "(b) split 42, models seeded" "${b[@]}"
