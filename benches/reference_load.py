#!/usr/bin/env python3
"""Time the DuckDB reference's CSV load (../shared/bench/oracle.py's `load`) on a folder, to
compare with `dora import` of the same files (docs/performance.md, "Import").

  python3 benches/reference_load.py DIR [--all-columns] [--threads N]

By default it loads exactly what oracle.py loads (the columns its SQL uses, typed as it types
them); --all-columns loads every column of every file, typed (what `dora import` parses and
validates). Prints one line: seconds and rows per table."""
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
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    con = duckdb.connect()
    if a.threads:
        con.execute(f"SET threads={a.threads}")
    con.execute("SET TimeZone='UTC'")
    rows = {}
    for name, cols in ORACLE.items():
        if a.all_columns:
            cols = {**cols, **EXTRA.get(name, {})}
        path = os.path.join(a.dir, f"{name}.csv")
        header = open(path, newline="").readline().strip().split(",")
        types = {c: t for c, t in cols.items() if c in header}
        sel = ", ".join(c if c in header else f"NULL::{t} AS {c}" for c, t in cols.items())
        con.execute(f"CREATE TABLE {name} AS SELECT {sel} FROM read_csv('{path}', header=true, "
                    f"all_varchar=false, types={types!r})")
        rows[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    print(f"reference load: {time.perf_counter() - t0:.2f} s {rows}")


if __name__ == "__main__":
    main()
