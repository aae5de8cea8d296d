#!/usr/bin/env python3
"""Time the DuckDB reference's CSV load (../shared/bench/oracle.py's `load`) on a folder, to
compare with `dora import` of the same files (docs/performance.md, "Import").

  python3 benches/reference_load.py DIR [--all-columns] [--to-parquet OUT] [--threads N]

By default it loads exactly what oracle.py loads (the columns its SQL uses, typed as it types
them); --all-columns loads every column of every file, typed (what `dora import` parses and
validates). --to-parquet OUT (implies --all-columns) writes each table to OUT/<table>.parquet
with zstd instead of keeping it in memory: the part of `dora import`'s work that DuckDB can do
(it does not check keys, merge with a store, derive columns, hash or sync the files). Prints one
line: seconds and rows per table."""
import argparse, os, time
import duckdb

TS = "TIMESTAMPTZ"
# Columns and types of oracle.py's load calls.
ORACLE = {
    "deployments": {"id": "VARCHAR", "repo": "VARCHAR", "environment": "VARCHAR", "sha": "VARCHAR",
                    "status": "VARCHAR", "deployed_at": TS, "kind": "VARCHAR"},
    "commits": {"repo": "VARCHAR", "sha": "VARCHAR", "committed_at": TS},
    "incidents": {"id": "VARCHAR", "repo": "VARCHAR", "created_at": TS, "resolved_at": TS,
                  "deployment_id": "VARCHAR"},
    "deployment_commits": {"deployment_id": "VARCHAR", "sha": "VARCHAR"},
}
EXTRA = {"deployments": {"started_at": TS}, "commits": {"authored_at": TS}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--all-columns", action="store_true")
    ap.add_argument("--to-parquet", metavar="OUT")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    con = duckdb.connect()
    if a.threads:
        con.execute(f"SET threads={a.threads}")
    con.execute("SET TimeZone='UTC'")
    rows = {}
    for name, cols in ORACLE.items():
        if a.all_columns or a.to_parquet:
            cols = {**cols, **EXTRA.get(name, {})}
        path = os.path.join(a.dir, f"{name}.csv")
        header = open(path, newline="").readline().strip().split(",")
        types = {c: t for c, t in cols.items() if c in header}
        sel = ", ".join(c if c in header else f"NULL::{t} AS {c}" for c, t in cols.items())
        query = (f"SELECT {sel} FROM read_csv('{path}', header=true, all_varchar=false, "
                 f"types={types!r})")
        if a.to_parquet:
            os.makedirs(a.to_parquet, exist_ok=True)
            out = os.path.join(a.to_parquet, f"{name}.parquet")
            con.execute(f"COPY ({query}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
            rows[name] = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
        else:
            con.execute(f"CREATE TABLE {name} AS {query}")
            rows[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    what = "reference CSV -> Parquet" if a.to_parquet else "reference load"
    print(f"{what}: {time.perf_counter() - t0:.2f} s {rows}")


if __name__ == "__main__":
    main()
