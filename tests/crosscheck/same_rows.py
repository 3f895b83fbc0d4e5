"""Runs one SQL query over zhijian's tables with DuckDB and compares its rows with the rows
`zhijian query --format json` returned for the same query.

    python tests/crosscheck/same_rows.py OUTPUT_DIR QUERY_FILE ZHIJIAN_JSON

The tables are DuckDB views over the Parquet files with Hive partitioning, named as in
`zhijian query`. Rows must agree in order and value; floats to 1e-9 relative. Prints the row
count and exits 0 when they agree; prints the first difference and exits 1 otherwise.
"""
import datetime
import json
import math
import pathlib
import sys

import duckdb

out, query_file, zhijian_file = sys.argv[1:4]
con = duckdb.connect()
for table in ["samples", "results", "rejects", "pass_rates", "attainment"]:
    con.execute(f"create view {table} as select * from read_parquet('{out}/{table}/**/*.parquet', hive_partitioning = 1)")
query = pathlib.Path(query_file).read_text(encoding="utf-8")
cursor = con.execute(query)
names = [d[0] for d in cursor.description]
duck = [dict(zip(names, row)) for row in cursor.fetchall()]
theirs = json.loads(pathlib.Path(zhijian_file).read_text(encoding="utf-8"))


def same(a, b):
    if isinstance(a, datetime.date):
        a = a.isoformat()
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) or isinstance(b, list):
        return list(a or []) == list(b or [])
    return a == b


if len(duck) != len(theirs):
    print(f"DuckDB returned {len(duck)} rows, zhijian query {len(theirs)}")
    sys.exit(1)
for i, (d, z) in enumerate(zip(duck, theirs)):
    if list(d) != list(z):
        print(f"columns differ: DuckDB {list(d)}, zhijian {list(z)}")
        sys.exit(1)
    for column in d:
        if not same(d[column], z[column]):
            print(f"row {i}, column {column}: DuckDB {d[column]!r}, zhijian {z[column]!r}")
            sys.exit(1)
print(f"{len(duck)} rows agree")
