#!/usr/bin/env bash
# Ingest benchmark: the real sample and a 57M-rating synthetic file, beside pandas.read_csv of
# the same files. Prints Markdown rows for BENCHMARKS.md. Not part of CI.
#
#   bench/ingest.sh [RUNS]
#
# Needs: a release build (made here), ~1 GB free under bench/out, Python 3 (pandas is installed
# into bench/.venv). Data: ../shared/data/mal2020 (or $ANIREC_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
data=${ANIREC_DATA:-../shared/data/mal2020}
out=bench/out
mkdir -p "$out/synth57m"
cargo build --release -q -p anirec
bin=target/release/anirec

if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
fi
bench/.venv/bin/python -c 'import pandas' 2>/dev/null || bench/.venv/bin/pip install -q pandas

synth=$out/synth57m
ln -sf "$(realpath "$data/anime.csv")" "$synth/anime.csv"
if [ ! -s "$synth/rating_complete.csv" ]; then
  /usr/bin/time -f "synth: %e s wall, %M KB peak" \
    "$bin" synth --catalog "$data/anime.csv" --users 310000 --ratings 57000000 --seed 42 \
    --out "$synth/rating_complete.csv"
fi

# median of a list of numbers
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# measure LABEL CMD...: runs CMD $runs times, prints median wall seconds and max peak RSS (MB)
measure() {
  local label=$1; shift
  local times=() peaks=()
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > /dev/null
    read -r t m < "$out/time.txt"
    times+=("$t"); peaks+=("$m")
  done
  local t m
  t=$(printf '%s\n' "${times[@]}" | median)
  m=$(printf '%s\n' "${peaks[@]}" | sort -g | tail -1)
  printf '| %s | %s s | %d MB |\n' "$label" "$t" "$((m / 1024))"
}


echo "| what | median wall time ($runs runs) | peak RSS |"
echo "| --- | --- | --- |"
measure "anirec ingest, sample (catalogue + synopses + 250k ratings)" "$bin" ingest --data "$data"
measure "pandas read_csv, sample rating_complete.csv" bench/.venv/bin/python bench/pandas_read.py "$data/rating_complete.csv"
"$bin" ingest --data "$data" --snapshot "$out/sample.snap" > /dev/null
measure "anirec ingest, sample snapshot load" "$bin" ingest --data "$out/sample.snap"
measure "anirec ingest, 57M synthetic (whole process, catalogue included)" "$bin" ingest --data "$synth"
measure "pandas read_csv, 57M synthetic rating_complete.csv" bench/.venv/bin/python bench/pandas_read.py "$synth/rating_complete.csv"
"$bin" ingest --data "$synth" --snapshot "$out/synth57m.snap" > /dev/null
measure "anirec ingest, 57M snapshot load" "$bin" ingest --data "$out/synth57m.snap"
echo
echo "file sizes: $(stat -L -c %s "$synth/rating_complete.csv") bytes CSV, $(stat -c %s "$out/synth57m.snap") bytes snapshot"
echo "ingest's own timing of the 57M file (parse, validate, encode, CSR + CSC), seconds:"
for _ in $(seq "$runs"); do "$bin" ingest --data "$synth" --json | grep '"seconds"'; done
