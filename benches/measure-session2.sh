#!/bin/bash
# Release measurements of docs/performance.md ("Final code of session 2"); needs
# /work/bench-data/c2m (gen.py --commits 2000000 --repos 200 --seed 7), a store of it written
# by an earlier dora at /tmp/store2m, and the duckdb package. Run after `cargo build --release`.
set -u
D="$(dirname "$0")/../target/release/dora"
W="--since 2026-01-05T00:00:00Z --until 2026-07-06T00:00:00Z --by repo --period week --tz America/Los_Angeles"
echo "== import 2M (new store, derived committed_at)"
rm -rf /tmp/store2m-new
/usr/bin/time -f "import %e s %M KB" $D --store /tmp/store2m-new -q import /work/bench-data/c2m
echo "== store -> metrics, new store (no sha join) vs old store (sha join), alternating, 3 runs each"
for i in 1 2 3; do
  /usr/bin/time -f "new %e s %M KB" $D --store /tmp/store2m-new metrics $W --format csv > /dev/null
  /usr/bin/time -f "old %e s %M KB" $D --store /tmp/store2m metrics $W --format csv > /dev/null
done
$D --store /tmp/store2m-new metrics $W --format json > /tmp/m-new.json
$D --store /tmp/store2m metrics $W --format json > /tmp/m-old.json
python3 - <<'PY'
import json
a=json.load(open('/tmp/m-new.json')); b=json.load(open('/tmp/m-old.json'))
a.pop('inputs'); b.pop('inputs')
print("new store == old store:", a==b)
PY
$D metrics --input /work/bench-data/c2m $W --format json > /tmp/m-csv.json
python3 - <<'PY'
import json
a=json.load(open('/tmp/m-new.json')); b=json.load(open('/tmp/m-csv.json'))
a.pop('inputs'); b.pop('inputs')
print("new store == CSV folder:", a==b)
PY
echo "== compare.py (CSV -> metrics vs DuckDB reference)"
python3 /work/shared/bench/compare.py --dora $D --data /work/bench-data/c2m --runs 3 2>&1 | tail -2
echo "== query bench"
python3 "$(dirname "$0")/query.py" --dora $D --store /tmp/store2m-new --runs 3
