"""Compares a run over a generated drop with the drop's expected.json, through DuckDB.

Usage: generated.py DROP_DIR OUTPUT_DIR. Checks samples, passes, fails and results per
programme, rejected rows per rule, and rows per file (from the manifest); prints each
difference and exits 1 when there is any.
"""
import json
import sys
from pathlib import Path

import duckdb

drop, output = Path(sys.argv[1]), Path(sys.argv[2])
expected = json.loads((drop / "expected.json").read_text())
con = duckdb.connect()


def scan(table):
    return f"read_parquet('{output}/{table}/**/*.parquet', hive_partitioning=1, union_by_name=1)"


problems = []
samples = {
    programme: (n, passed, failed)
    for programme, n, passed, failed in con.sql(
        f"""select programme, count(*), count(*) filter (verdict = 'pass'), count(*) filter (verdict = 'fail')
            from {scan('samples')} group by programme"""
    ).fetchall()
}
results = dict(con.sql(f"select programme, count(*) from {scan('results')} group by programme").fetchall())
for programme, truth in expected["programmes"].items():
    got = samples.get(programme, (0, 0, 0))
    want = (truth["samples"], truth["passed"], truth["failed"])
    if got != want:
        problems.append(f"{programme}: samples/passed/failed {got}, expected {want}")
    if results.get(programme, 0) != truth["results"]:
        problems.append(f"{programme}: {results.get(programme, 0)} results, expected {truth['results']}")
rejects = dict(con.sql(f"select rule, count(*) from {scan('rejects')} group by rule").fetchall())
if rejects != expected["rejected_rows"]:
    problems.append(f"rejected rows by rule {rejects}, expected {expected['rejected_rows']}")
flags = con.sql(
    f"select f, count(*) from (select unnest(flags) f from {scan('samples')}) group by f order by f"
).fetchall()
if flags:
    problems.append(f"warnings on generated samples, which should carry none: {flags}")
manifest = json.loads((output / "_manifest.json").read_text())
# Inputs are named relative to the pipeline file, which sits at the drop's top.
rows = {i["path"]: i["rows_read"] for i in manifest["inputs"]}
if rows != expected["files"]:
    problems.append(f"rows per file {rows}, expected {expected['files']}")
for problem in problems:
    print(problem)
print(f"generated drop: {sum(t['samples'] for t in expected['programmes'].values())} samples, "
      f"{sum(expected['rejected_rows'].values())} rejected rows, {len(problems)} mismatches")
sys.exit(1 if problems else 0)
