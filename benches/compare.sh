#!/usr/bin/env bash
# End-to-end benchmark: dora vs the DuckDB reference on generated data (see benches/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
commits="${1:-2000000}"
repos="${2:-200}"
runs="${3:-3}"
shared="${SHARED:-../shared}"
data="${DATA:-target/bench-data/c${commits}-r${repos}}"

cargo build --release --locked
if [ ! -f "$data/deployments.csv" ]; then
  python3 "$shared/bench/gen.py" --out "$data" --commits "$commits" --repos "$repos" --seed 7
fi
python3 "$shared/bench/compare.py" --dora target/release/dora --data "$data" --runs "$runs"

store="$(mktemp -d)"
trap 'rm -rf "$store"' EXIT
/usr/bin/time -f "import: %e s, peak %M KiB" target/release/dora --store "$store" import "$data" -q
args=(metrics --since 2026-01-05T00:00:00Z --until 2026-07-06T00:00:00Z --by repo --period week
      --tz America/Los_Angeles --format json)
for _ in $(seq "$runs"); do
  /usr/bin/time -f "store -> metrics: %e s, peak %M KiB" target/release/dora --store "$store" "${args[@]}" > /dev/null
done
