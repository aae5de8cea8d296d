#!/usr/bin/env python3
"""Reads the store's Parquet files with another engine (DuckDB) and checks it gets the same
answer as `dora query` for a saved query: the store layout (docs/store.md) is a stable format.

    python3 .ci/cross-engine.py DORA_BINARY

Imports fixtures/csv/sample into a temporary store, runs the saved query `deployment-outcomes`
with dora, runs the same SQL with DuckDB on `STORE/data/deployments.parquet`, and compares.
"""
import csv
import io
import os
import subprocess
import sys
import tempfile

import duckdb

SINCE, UNTIL = "2026-02-01T00:00:00Z", "2026-04-01T00:00:00Z"


def main():
    dora = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "store")
        subprocess.run([dora, "--store", store, "-q", "import", os.path.join(root, "fixtures/csv/sample")], check=True)
        out = subprocess.run(
            [dora, "--store", store, "query", "deployment-outcomes", "--since", SINCE, "--until", UNTIL, "--format", "csv"],
            check=True, capture_output=True, text=True,
        ).stdout
        ours = [tuple(r) for r in list(csv.reader(io.StringIO(out)))[1:]]
        sql = open(os.path.join(root, "queries/deployment-outcomes.sql")).read()
        # The same text, with the table and the bound parameters written for DuckDB.
        path = os.path.join(store, "data", "deployments.parquet")
        sql = (sql.replace("FROM deployments", f"FROM read_parquet('{path}')")
                  .replace("$since", f"TIMESTAMPTZ '{SINCE}'")
                  .replace("$until", f"TIMESTAMPTZ '{UNTIL}'"))
        theirs = [tuple(str(v) for v in row) for row in duckdb.sql(sql).fetchall()]
    if ours != theirs:
        sys.exit(f"dora and DuckDB disagree:\ndora:   {ours[:5]}...\nDuckDB: {theirs[:5]}...")
    if not ours:
        sys.exit("the query returned nothing: the check would prove nothing")
    print(f"dora query and DuckDB agree on deployment-outcomes ({len(ours)} rows)")


if __name__ == "__main__":
    main()
