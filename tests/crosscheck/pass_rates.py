"""Recomputes zhijian's pass_rates from its samples table with DuckDB, independently of
zhijian's aggregation code, and compares every cell. Also reads every table with DuckDB's
Hive partitioning and with pyarrow.dataset, and checks they agree on row counts.

    python tests/crosscheck/pass_rates.py OUTPUT_DIR

Exits 0 and prints `N cells compared, 0 mismatches` when all agree; 1 otherwise.
"""
import math
import sys

import duckdb
import pyarrow.dataset as ds

out = sys.argv[1]
con = duckdb.connect()
samples = f"read_parquet('{out}/samples/**/*.parquet', hive_partitioning = 1)"
pass_rates = f"read_parquet('{out}/pass_rates/**/*.parquet', hive_partitioning = 1)"

recomputed = con.execute(f"""
with base as (
    select programme, coalesce(category_1, 'unclassified') as category, verdict, verdict_after_uncertainty, sampling_date,
           province_code, city_code, reporting_unit_code, county_code
    from {samples}
),
areas as (
    select *, 'province' as area_level, province_code as area_code from base
    union all select *, 'city', city_code from base
    union all select *, 'reporting_unit', reporting_unit_code from base
    -- a sample without a county counts in its city's "county not given" cell (the city's code)
    union all select *, 'county', coalesce(county_code, city_code) from base
),
periods as (
    select *, 'month' as period_type, strftime(sampling_date, '%Y-%m') as period from areas
    union all select *, 'quarter', cast(year(sampling_date) as varchar) || '-Q' || cast(quarter(sampling_date) as varchar) from areas
    union all select *, 'year', cast(year(sampling_date) as varchar) from areas
)
select period_type, period, area_level, area_code, programme, coalesce(category, 'all') as category,
       count(*) as tested,
       count(*) filter (where verdict = 'pass') as passed,
       count(*) filter (where verdict = 'fail') as failed,
       count(*) filter (where verdict = 'pending') as pending,
       count(*) filter (where verdict = 'not_judged') as not_judged,
       count(*) filter (where verdict_after_uncertainty = 'pass') as passed_u,
       count(*) filter (where verdict_after_uncertainty = 'fail') as failed_u
from periods
group by grouping sets ((period_type, period, area_level, area_code, programme, category),
                        (period_type, period, area_level, area_code, programme))
""").fetchall()

ours = con.execute(f"""
select period_type, period, area_level, area_code, programme, category, tested, passed, failed, pending,
       pass_rate, wilson_low, wilson_high, passed_after_uncertainty, failed_after_uncertainty,
       pass_rate_after_uncertainty, not_judged
from {pass_rates}
""").fetchall()

Z = 1.959963984540054


def wilson(passed, judged):
    if judged == 0:
        return None
    p = passed / judged
    d = 1 + Z * Z / judged
    c = (p + Z * Z / (2 * judged)) / d
    h = Z * math.sqrt(p * (1 - p) / judged + Z * Z / (4 * judged * judged)) / d
    return max(c - h, 0.0), min(c + h, 1.0)


expected = {tuple(r[:6]): r[6:] for r in recomputed}
got = {tuple(r[:6]): r[6:] for r in ours}
mismatches = []
for key in sorted(set(expected) | set(got), key=str):
    e, g = expected.get(key), got.get(key)
    if e is None or g is None:
        mismatches.append((key, e, g))
        continue
    tested, passed, failed, pending, not_judged, passed_u, failed_u = e
    if g[10] != not_judged:
        mismatches.append((key, "not_judged", not_judged, g[10]))
    if tuple(g[:4]) != (tested, passed, failed, pending):
        mismatches.append((key, e, g[:4]))
        continue
    if tuple(g[7:9]) != (passed_u, failed_u):
        mismatches.append((key, "after uncertainty", (passed_u, failed_u), g[7:9]))
    rate_u = passed_u / (passed_u + failed_u) if passed_u + failed_u else None
    if (rate_u is None) != (g[9] is None) or (rate_u is not None and abs(rate_u - g[9]) > 1e-12):
        mismatches.append((key, "pass_rate_after_uncertainty", rate_u, g[9]))
    judged = passed + failed
    rate = passed / judged if judged else None
    interval = wilson(passed, judged)
    if (rate is None) != (g[4] is None) or (rate is not None and abs(rate - g[4]) > 1e-12):
        mismatches.append((key, "pass_rate", rate, g[4]))
    if interval is None:
        if g[5] is not None or g[6] is not None:
            mismatches.append((key, "wilson", None, g[5:]))
    elif abs(interval[0] - g[5]) > 1e-12 or abs(interval[1] - g[6]) > 1e-12:
        mismatches.append((key, "wilson", interval, g[5:]))

# Every table reads unchanged with DuckDB's Hive partitioning and with pyarrow.dataset.
for table in ["samples", "results", "rejects", "pass_rates", "attainment"]:
    pattern = f"{out}/{table}/**/*.parquet" if table != "rejects" else f"{out}/{table}/*.parquet"
    duck = con.execute(f"select count(*) from read_parquet('{pattern}', hive_partitioning = 1)").fetchone()[0]
    arrow = ds.dataset(f"{out}/{table}", format="parquet", partitioning="hive").count_rows()
    if duck != arrow:
        mismatches.append((table, "row count", duck, arrow))
    print(f"{table}: {duck} rows")

for m in mismatches[:20]:
    print("MISMATCH", m)
print(f"{len(expected)} cells compared, {len(mismatches)} mismatches")
sys.exit(1 if mismatches or not expected else 0)
