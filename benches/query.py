#!/usr/bin/env python3
"""Times `dora query` over a store against DuckDB on the same Parquet files, in the same run.

    python3 benches/query.py --dora target/release/dora --store /path/to/.dora [--runs 5]

Each query runs as a fresh process on both sides (dora: the binary; DuckDB: `python3 -c` with
the duckdb package), so both pay their start-up; the median wall time of --runs is reported,
with the ratio dora / DuckDB. Both answers are compared (sorted rows, numbers to 1e-6).
"""
import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import time

QUERIES = [
    (
        "commits per repository",
        "SELECT repo, COUNT(*) AS n FROM commits GROUP BY repo",
        "SELECT repo, COUNT(*) AS n FROM read_parquet('{d}/commits.parquet') GROUP BY repo",
    ),
    (
        "deployments and failures per repository",
        "SELECT repo, COUNT(*) AS n, SUM(CASE WHEN status = 'failure' THEN 1 ELSE 0 END) AS failed "
        "FROM deployments GROUP BY repo",
        "SELECT repo, COUNT(*) AS n, SUM(CASE WHEN status = 'failure' THEN 1 ELSE 0 END) AS failed "
        "FROM read_parquet('{d}/deployments.parquet') GROUP BY repo",
    ),
    (
        "commits per week (whole history)",
        "SELECT EXTRACT(YEAR FROM committed_at) AS y, EXTRACT(WEEK FROM committed_at) AS w, COUNT(*) AS n "
        "FROM commits GROUP BY y, w",
        "SELECT EXTRACT(YEAR FROM committed_at AT TIME ZONE 'UTC') AS y, EXTRACT(WEEK FROM committed_at AT TIME ZONE 'UTC') AS w, "
        "COUNT(*) AS n FROM read_parquet('{d}/commits.parquet') GROUP BY y, w",
    ),
]


def run(cmd, env=None):
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"failed: {cmd}\n{out.stderr}")
    return elapsed, out.stdout


def rows(text):
    def norm(v):
        try:
            return round(float(v), 6)
        except ValueError:
            return v
    return sorted(tuple(norm(v) for v in r) for r in list(csv.reader(io.StringIO(text)))[1:])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dora", required=True)
    p.add_argument("--store", required=True)
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args()
    data = os.path.realpath(os.path.join(a.store, "data"))
    print(f"store {a.store} ({data}), {a.runs} runs each, median wall time")
    print(f"{'query':<42} {'dora':>8} {'duckdb':>8} {'ratio':>6}  same answer")
    for name, dora_sql, duck_sql in QUERIES:
        duck_sql = duck_sql.format(d=data)
        dora_cmd = [a.dora, "--store", a.store, "query", dora_sql, "--all", "--format", "csv"]
        duck_cmd = [
            sys.executable,
            "-c",
            "import duckdb,sys; r=duckdb.sql(sys.argv[1]); "
            "import csv; w=csv.writer(sys.stdout); w.writerow(r.columns); w.writerows(r.fetchall())",
            duck_sql,
        ]
        dt, dd = [], []
        for _ in range(a.runs):
            t, dora_out = run(dora_cmd)
            dt.append(t)
            t, duck_out = run(duck_cmd)
            dd.append(t)
        same = rows(dora_out) == rows(duck_out)
        md, mk = statistics.median(dt), statistics.median(dd)
        print(f"{name:<42} {md:>7.3f}s {mk:>7.3f}s {md / mk:>6.2f}  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
