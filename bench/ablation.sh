#!/usr/bin/env bash
# The two stages' ablation table: the learned ranker as trained by default, the blend in its
# place, and the ranker with each part left out in turn (`anirec eval --without PART`: a
# candidate source, a group of features, the spread step), on the three protocols (known users,
# `--protocol new-users` and `--protocol new-anime`), over seeds, without story embeddings
# unless STORY=N (then with them, from the cache `anirec train` fills, and N story candidates,
# the story source among the parts). VARIANTS="default spread ..." runs only those (default
# among them). Two runs at a time (the ranker's training is single-threaded). Prints mean ± sd
# per variant and its change from the default. Needs a release build.
#
#   [STORY=N] [VARIANTS=...] bench/ablation.sh [DATA] [SEEDS...]
#                                                (default: ../shared/data/mal2020, 42 43 1 7)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/mal2020}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(42 43 1 7)
bin=target/release/anirec
if [ -n "${STORY:-}" ]; then
  out=bench/out/ablation-story$STORY no_encoder=0 story_source=story-candidates
else
  out=bench/out/ablation no_encoder=1 story_source=
fi
mkdir -p "$out"
# shellcheck disable=SC2206 # a list of names, split on purpose
variants=(${VARIANTS:-default blend collab-candidates content-candidates $story_source
  franchise-candidates new-candidates signal-features relative-features catalogue-features
  list-features fan-features spread})
for seed in "${seeds[@]}"; do
  for variant in "${variants[@]}"; do
    for protocol in ratings new-users new-anime; do
      echo "$seed $variant $protocol"
    done
  done
done | xargs -P 2 -L 1 bash -c '
  seed=$0 variant=$1 protocol=$2 file='"$out"'/$2-$1-$0.json
  [ -s "$file" ] && exit 0
  case $variant in
    default) extra=() ;;
    blend) extra=(--ranker blend) ;;
    *) extra=(--without "$variant") ;;
  esac
  ANIREC_NO_ENCODER='"$no_encoder"' '"$bin"' eval --data '"$data"' --protocol "$protocol" --json \
    --seed "$seed" --story-candidates '"${STORY:-0}"' "${extra[@]}" > "$file.part" &&
    mv "$file.part" "$file"'
python3 - "$out" "${seeds[@]}" -- "${variants[@]}" <<'PY'
import json, statistics as st, sys
args = sys.argv[1:]
out, seeds, variants = args[0], args[1:args.index("--")], args[args.index("--") + 1:]
def cell(xs, base):
    sd = st.stdev(xs) if len(xs) > 1 else 0.0
    delta = "" if base is None else f" ({st.mean(xs) - st.mean(base):+.4f})"
    return f"{st.mean(xs):.4f} ± {sd:.4f}{delta}"
tables = [
    ("ratings", "known users", [
        ("NDCG@10", lambda m: m["ndcg_at_10"]),
        ("coverage", lambda m: m["coverage"]),
        ("grouped new-franchise NDCG@10",
         lambda m: m["franchises"]["anirec_grouped"]["ndcg_at_10_new_franchises"]),
        ("candidate recall", lambda m: m["candidate_recall"]),
    ]),
    ("new-users", "new fans", [
        ("NDCG@10", lambda m: m["anirec"]["ndcg_at_10"]),
        ("Recall@20", lambda m: m["anirec"]["recall_at_20"]),
        ("Recall@50", lambda m: m["anirec"]["recall_at_50"]),
        ("NDCG@100", lambda m: m["anirec"]["ndcg_at_100"]),
        ("candidate recall", lambda m: m["candidate_recall"]),
    ]),
    ("new-anime", "new anime", [
        ("Recall@50", lambda m: m["anirec"]["recall_at_50"]),
        ("NDCG@50", lambda m: m["anirec"]["ndcg_at_50"]),
        ("Recall@50 among the unrated", lambda m: m["among_unrated"]["anirec"]["recall_at_50"]),
        ("candidate recall", lambda m: m["candidate_recall"]),
    ]),
]
for protocol, title, columns in tables:
    runs = {v: [json.load(open(f"{out}/{protocol}-{v}-{s}.json")) for s in seeds] for v in variants}
    print(f"\n{title} ({len(seeds)} seeds: {' '.join(seeds)}; mean ± sd, change from default)")
    print("| variant | " + " | ".join(name for name, _ in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for v in variants:
        cells = []
        for _, get in columns:
            xs = [get(m) for m in runs[v]]
            base = None if v == "default" else [get(m) for m in runs["default"]]
            cells.append(cell(xs, base))
        name = v if v in ("default", "blend") else f"without {v}"
        print(f"| {name} | " + " | ".join(cells) + " |")
PY
