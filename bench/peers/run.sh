#!/usr/bin/env bash
# Reproduces the comparison tables: writes the protocol's split with anirec, scores anirec on it,
# then installs the reference libraries (implicit, lightfm-next, scikit-surprise) into
# bench/peers/.venv and scores them on exactly the same train.csv / test.csv; then the same for
# the new-fan protocol (`--protocol new-users`: train.csv, fold_in.csv, test.csv).
# Not part of CI (it downloads packages and takes a few minutes).
#
#   bench/peers/run.sh [DATA_DIR]
set -euo pipefail
export OPENBLAS_NUM_THREADS=1 # implicit asks for single-threaded BLAS
cd "$(dirname "$0")/../.."
data=${1:-${ANIREC_DATA:-../shared/data/mal2020}}
out=bench/out/peers
mkdir -p "$out"
cargo build --release -q -p anirec
target/release/anirec split --data "$data" --out "$out" --seed 42
echo "## anirec"
target/release/anirec eval --data "$data" --train "$out/train.csv" --test "$out/test.csv" --json | tee "$out/anirec.json"
if [ ! -x bench/peers/.venv/bin/python ]; then
  python3 -m venv bench/peers/.venv
fi
bench/peers/.venv/bin/pip install -q -r bench/peers/requirements.txt
echo "## peers"
bench/peers/.venv/bin/python bench/peers/run.py --train "$out/train.csv" --test "$out/test.csv" --catalog "$data/anime.csv"
echo "## new fans: anirec"
target/release/anirec split --data "$data" --out "$out/new-users" --seed 42 --protocol new-users
target/release/anirec eval --data "$data" --seed 42 --protocol new-users
echo "## new fans: peers"
bench/peers/.venv/bin/python bench/peers/new_users.py --dir "$out/new-users" --catalog "$data/anime.csv"
