"""Reads every table of a run with the clients analysts use — DuckDB, polars and pyarrow — the way
the README tells them to, and checks that all three see what zhijian wrote.

    python tests/crosscheck/clients.py OUTPUT_DIR ZHIJIAN_PASS_RATES_JSON

- row counts: each client's count of every table equals the manifest's;
- the partition column: partitioned tables show `year`, from the folder names;
- pass rates: every cell of pass_rates, as each client reads it, equals the cell as
  `zhijian query --format json` returned it (ZHIJIAN_PASS_RATES_JSON);
- samples: each client's count of samples per programme and verdict agrees;
- every file carries the schema version in its key/value metadata.

Prints one line per check and exits 1 on the first disagreement.
"""
import json
import pathlib
import sys

import duckdb
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq

out = pathlib.Path(sys.argv[1])
zhijian_cells = json.loads(pathlib.Path(sys.argv[2]).read_text(encoding="utf-8"))
manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
expected_rows = {o["table"]: o["rows"] for o in manifest["outputs"]}
PARTITIONED = {"samples", "results", "pass_rates", "attainment"}
failures = []


def duck(table):
    return duckdb.sql(f"select * from read_parquet('{out}/{table}/**/*.parquet', hive_partitioning = 1)").pl()


def polars(table):
    return pl.scan_parquet(f"{out}/{table}/**/*.parquet", hive_partitioning=True).collect()


def arrow(table):
    return pl.from_arrow(ds.dataset(out / table, format="parquet", partitioning="hive").to_table())


CLIENTS = {"duckdb": duck, "polars": polars, "pyarrow": arrow}
KEY = ["period", "area_level", "area_code", "programme", "category"]
VALUES = ["tested", "passed", "failed", "pending", "pass_rate", "wilson_low", "wilson_high"]


def cells(frame):
    return {tuple(r[k] for k in KEY): tuple(r[v] for v in VALUES) for r in frame.select(KEY + VALUES).to_dicts()}


reference = {tuple(c[k] for k in KEY): tuple(c[v] for v in VALUES) for c in zhijian_cells}
for name, read in CLIENTS.items():
    for table, rows in expected_rows.items():
        frame = read(table)
        if frame.height != rows:
            failures.append(f"{name}: {table} has {frame.height} rows, the manifest says {rows}")
        if table in PARTITIONED and "year" not in frame.columns:
            failures.append(f"{name}: {table} lacks the partition column `year`")
        if table == "pass_rates":
            got = cells(frame)
            if got != reference:
                diff = sorted(set(got.items()) ^ set(reference.items()))[:5]
                failures.append(f"{name}: pass_rates differ from zhijian query's, e.g. {diff}")
        if table == "samples":
            counts = frame.group_by(["programme", "verdict"]).len().sort(["programme", "verdict"]).rows()
            if name == "duckdb":
                baseline = counts
            elif counts != baseline:
                failures.append(f"{name}: samples per programme and verdict {counts} != duckdb's {baseline}")
    print(f"{name}: {len(expected_rows)} tables read, {len(reference)} pass-rate cells compared")

files = sorted(out.glob("*/**/*.parquet"))
versions = {pq.read_metadata(f).metadata.get(b"zhijian.schema_version") for f in files}
if versions != {manifest["schema_version"].encode()}:
    failures.append(f"schema versions in the files: {versions}, the manifest says {manifest['schema_version']}")
print(f"schema version {manifest['schema_version']} in all {len(files)} files")

for f in failures:
    print(f)
sys.exit(1 if failures else 0)
