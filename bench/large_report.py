#!/usr/bin/env python3
"""Summarize a generated large site for the report: the load rate with the
full-text index built alongside (from cairn-generate's output), and the sizes of
the database and the index.

usage: large_report.py DATA_DIR
Writes DATA_DIR/large.json.
"""
import json
import os
import sys


def size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def main():
    data = sys.argv[1]
    gen = json.load(open(os.path.join(data, "generated.json")))
    db = sum(size(os.path.join(data, f)) for f in os.listdir(data) if f.startswith("cairn.sqlite"))
    out = {"objects": gen["objects"], "load_seconds": round(gen["seconds"], 1),
           "load_per_second": round(gen["per_second"]),
           # Seconds the indexer still needed after the last batch was stored.
           "index_lag_seconds": round(gen.get("index_lag_seconds", 0), 2),
           "database_bytes": db, "index_bytes": size(os.path.join(data, "search")),
           "rare_word": gen.get("rare_word")}
    if os.environ.get("BENCH_PG_BYTES"):
        # On PostgreSQL (run.sh measured the schema): the full text is a
        # part of the database.
        out["database_bytes"] = int(os.environ["BENCH_PG_BYTES"])
        out["index_bytes"] = int(os.environ.get("BENCH_PG_FULLTEXT_BYTES") or 0)
        out["database"] = "postgresql"
    with open(os.path.join(data, "large.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
