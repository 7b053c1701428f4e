#!/usr/bin/env bash
# The new-anime protocol on validation: a data folder whose ratings are the train side of the
# evaluation split (`anirec split --seed SPLIT`), the test side never read, and `anirec eval
# --protocol new-anime` on it (its own seeds carve the new anime and the held-out ratings out of
# that train side). How new anime enter the lists (hybrid/cold.rs) is chosen on these figures,
# then reported on the test split (BENCHMARKS.md "New anime enter by what they borrow").
#
#   [BIN=target/release/anirec] bench/new_anime/validation.sh DATA SPLIT SEED...
#
# DATA is a data folder (../shared/data/mal2020: its relations and Jikan folders beside it are
# used too). Prints one line per seed: anirec, content and members Recall@50. Without story
# embeddings (ANIREC_NO_ENCODER=1), as the protocol's documented figures.
set -euo pipefail
data=$(realpath "$1") split=$2
shift 2
bin=$(realpath "${BIN:-target/release/anirec}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/data" "$work/split"
for f in "$data"/*; do
  case $(basename "$f") in
    rating_complete.csv | SHA256SUMS) ;;
    *) ln -s "$f" "$work/data/" ;;
  esac
done
for side in relations jikan; do
  [ -d "$data/../$side" ] && ln -s "$(realpath "$data/../$side")" "$work/$side"
done
"$bin" split --data "$data" --out "$work/split" --seed "$split" > /dev/null
cp "$work/split/train.csv" "$work/data/rating_complete.csv"
for seed in "$@"; do
  ANIREC_NO_ENCODER=1 "$bin" eval --data "$work/data" --protocol new-anime --seed "$seed" --json \
    2> /dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("split '"$split"' seed '"$seed"': anirec %.4f  content %.4f  members %.4f" % tuple(
    d[s]["recall_at_50"] for s in ("anirec", "content", "popularity")))'
done
