#!/usr/bin/env bash
# Growth measurements of docs/performance.md ("Scale"): for each size, generate (once), import
# into a new store, time store -> metrics, time the reference's CSV load, and check the store's
# figures against the DuckDB reference with compare.py (which also times the reference).
# Time and peak memory (RSS) come from /usr/bin/time.
#
#   cargo build --release && benches/scale.sh 1000000 10000000 20000000 100000000
#
# Needs: python3 with duckdb; disk: about 170 bytes per commit for the CSV files and as much
# again for the store and the import's spill files (100M commits: about 35 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
D="${DORA_BIN:-$PWD/target/release/dora}"
ROOT="${DATA_ROOT:-target/bench-data}"
SHARED="${SHARED:-../shared}"
RUNS="${RUNS:-3}"
W=(--since 2026-01-05T00:00:00Z --until 2026-07-06T00:00:00Z --by repo --period week --tz America/Los_Angeles)
mkdir -p "$ROOT"
for n in "${@:-1000000 10000000}"; do
  data="$ROOT/gen-$n"
  store="$ROOT/store-$n"
  repos=$(( n / 10000 )); (( repos < 10 )) && repos=10; (( repos > 5000 )) && repos=5000
  echo "== $n commits, $repos repositories"
  if [ ! -f "$data/incidents.csv" ]; then
    /usr/bin/time -f "generate: %e s, peak %M KB" "$D" generate "$data" --commits "$n" --repos "$repos" --seed 7
  fi
  rm -rf "$store"
  /usr/bin/time -f "import: %e s, peak %M KB" "$D" --store "$store" -q import "$data"
  du -sh "$store/data/" | sed 's/^/store size: /'
  /usr/bin/time -f "reference load (oracle's columns): %e s, peak %M KB" python3 benches/reference_load.py "$data"
  /usr/bin/time -f "reference load (all columns): %e s, peak %M KB" python3 benches/reference_load.py "$data" --all-columns
  rm -rf "$ROOT/reference-parquet"
  /usr/bin/time -f "reference CSV -> zstd Parquet: %e s, peak %M KB" \
    python3 benches/reference_load.py "$data" --to-parquet "$ROOT/reference-parquet"
  rm -rf "$ROOT/reference-parquet"
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "store -> metrics: %e s, peak %M KB" "$D" --store "$store" metrics "${W[@]}" --format json > /dev/null
  done
  /usr/bin/time -f "compare.py (reference + dora from the store, 1 run each): %e s, peak %M KB" \
    env DORA_BIN="$D" DORA_STORE="$store" python3 "$SHARED/bench/compare.py" \
    --dora benches/store-metrics.sh --data "$data" --runs 1
done
