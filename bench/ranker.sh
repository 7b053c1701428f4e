#!/usr/bin/env bash
# The blend against the learned ranker over seeds, on both protocols: `anirec eval` (known users:
# NDCG@10, coverage, the grouped list's new-franchise NDCG@10, the continue row, the candidates'
# recall) and `anirec eval --protocol new-users` (NDCG@10, Recall@20, Recall@50, NDCG@100 beside
# EASE's fold-in), without story embeddings. Each seed draws the split and the models. Prints one
# row per run and mean ± sd per system. Needs a release build.
#
#   bench/ranker.sh [DATA] [SEEDS...]          (default: ../shared/data/mal2020, 42 43 1 7)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/mal2020}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(42 43 1 7)
bin=target/release/anirec
out=bench/out/ranker
mkdir -p "$out"
for seed in "${seeds[@]}"; do
  for ranker in blend lambdamart; do
    ANIREC_NO_ENCODER=1 "$bin" eval --data "$data" --json --seed "$seed" --ranker "$ranker" \
      > "$out/known-$ranker-$seed.json"
    ANIREC_NO_ENCODER=1 "$bin" eval --data "$data" --protocol new-users --json --seed "$seed" \
      --ranker "$ranker" > "$out/new-$ranker-$seed.json"
  done
done
python3 - "$out" "${seeds[@]}" <<'PY'
import json, statistics as st, sys
out, seeds = sys.argv[1], sys.argv[2:]
def ms(xs):
    return f"{st.mean(xs):.4f} ± {st.stdev(xs) if len(xs) > 1 else 0:.4f}"
print("known users: NDCG@10, coverage, grouped new-franchise NDCG@10, continue-row precision, candidate recall, fit s")
for ranker in ["blend", "lambdamart"]:
    rows = [json.load(open(f"{out}/known-{ranker}-{s}.json")) for s in seeds]
    for s, m in zip(seeds, rows):
        f = m["franchises"]
        print(f"  {ranker:<10} seed {s:<3} {m['ndcg_at_10']:.4f} {m['coverage']:.4f} "
              f"{f['anirec_grouped']['ndcg_at_10_new_franchises']:.4f} "
              f"{f['continue_row']['precision']:.4f} {m['candidate_recall']:.4f} {m['fit_seconds']:.1f}")
    pick = lambda g: [g(m) for m in rows]
    print(f"  {ranker:<10} mean     NDCG@10 {ms(pick(lambda m: m['ndcg_at_10']))}  coverage "
          f"{ms(pick(lambda m: m['coverage']))}  grouped new {ms(pick(lambda m: m['franchises']['anirec_grouped']['ndcg_at_10_new_franchises']))}"
          f"  RMSE {ms(pick(lambda m: m['rmse']))}")
print("new users: NDCG@10, Recall@20, Recall@50, NDCG@100")
keys = ["ndcg_at_10", "recall_at_20", "recall_at_50", "ndcg_at_100"]
for ranker in ["blend", "lambdamart"]:
    rows = [json.load(open(f"{out}/new-{ranker}-{s}.json")) for s in seeds]
    systems = ["anirec", "anirec_served"] + (["ease"] if ranker == "blend" else [])
    for system in systems:
        cells = "  ".join(f"{k} {ms([m[system][k] for m in rows])}" for k in keys)
        print(f"  {ranker:<10} {system:<14} {cells}")
    print(f"  {ranker:<10} candidate recall {ms([m['candidate_recall'] for m in rows])}")
PY
