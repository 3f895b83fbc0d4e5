"""zhijian beside DuckDB and polars on one generated drop.

    python benches/compare.py [--samples 1000000] [--work /var/tmp/zhijian-compare]

Builds zhijian in release without polars (unless --zhijian and --aggregate-bench name built
binaries), generates a drop (`zhijian generate`, UTF-8 CSV of all six programmes, about 3.2
records and 3.1 results per sample), then times in this one run, each engine in its own process:

  (a) ingest: `zhijian run` (parse, validate, normalise, assemble, write zstd Parquet, and also
      aggregate and write the report) against DuckDB converting the same CSV files to zstd
      Parquet with nothing checked;
  (b) aggregation: zhijian's pass-rate cube over our `samples` Parquet against DuckDB's
      GROUP BY GROUPING SETS over the same files, checked to give the same cells;
  (c) the same aggregation in polars (Python), checked the same way.

Prints wall time, rows per second and peak RSS (the process's maximum resident set, from
wait4) for each, and the ratios zhijian / DuckDB. Needs duckdb and polars importable by the
Python running it (tests/requirements.txt).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The cube zhijian computes: 3 periods x 4 area levels x (category, all), per programme.
PERIODS = {"month": "m", "quarter": "q", "year": "y"}
AREAS = {"province": None, "city": "city_code", "reporting_unit": "reporting_unit_code", "county": "county_code"}


def measured(argv, cwd=None):
    """Runs argv; returns (seconds, peak RSS in MiB, stdout) using wait4 on that child alone."""
    start = time.perf_counter()
    # Both streams go to files: a pipe left unread while we wait would block a chatty child.
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"zhijian-compare-{os.getpid()}"
    out_path, err_path = base.with_suffix(".out"), base.with_suffix(".err")
    with open(out_path, "w") as out, open(err_path, "w") as err_file:
        proc = subprocess.Popen(argv, stdout=out, stderr=err_file, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    text, err = out_path.read_text(), err_path.read_text()
    out_path.unlink()
    err_path.unlink()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(map(str, argv))} failed:\n{err}\n{text}")
    return seconds, usage.ru_maxrss / 1024, text


def cargo_build(target_dir):
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
    subprocess.run(
        ["cargo", "build", "--release", "--no-default-features", "--bin", "zhijian", "--bin", "zhijian-aggregate-bench",
         "--package", "zhijian", "--package", "zhijian-bench"],
        cwd=REPO, env=env, check=True)
    return target_dir / "release" / "zhijian", target_dir / "release" / "zhijian-aggregate-bench"


DUCKDB_INGEST = """
import duckdb, sys, pathlib
drop, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
con = duckdb.connect()
con.sql("SET enable_progress_bar = false")
rows = 0
for folder in sorted(p for p in drop.iterdir() if p.is_dir() and p.name != "seeds" and p.name != "out"):
    con.sql(f"COPY (SELECT * FROM read_csv('{folder}/*.csv', header = true)) "
            f"TO '{out}/{folder.name}.parquet' (FORMAT parquet, COMPRESSION zstd)")
    rows += con.sql(f"SELECT count(*) FROM '{out}/{folder.name}.parquet'").fetchall()[0][0]
print(rows)
"""


def grouping_sets_sql(samples_glob):
    sets = []
    for period in PERIODS.values():
        for area in AREAS.values():
            for category in (True, False):
                columns = ["programme", period] + ([area] if area else []) + (["category"] if category else [])
                sets.append("(" + ", ".join(columns) + ")")
    return f"""
        WITH s AS (
            SELECT programme, coalesce(category_1, 'unclassified') AS category, city_code,
                   reporting_unit_code, coalesce(county_code, city_code) AS county_code, verdict,
                   strftime(sampling_date, '%Y-%m') AS m,
                   year(sampling_date) || '-Q' || quarter(sampling_date) AS q,
                   CAST(year(sampling_date) AS VARCHAR) AS y
            FROM read_parquet('{samples_glob}', hive_partitioning = true)
        )
        SELECT programme, m, q, y, city_code, reporting_unit_code, county_code, category,
               GROUPING(m, q, y, city_code, reporting_unit_code, county_code, category) AS g,
               count(*) AS tested,
               count(*) FILTER (verdict = 'pass') AS passed,
               count(*) FILTER (verdict = 'fail') AS failed
        FROM s
        GROUP BY GROUPING SETS ({", ".join(sets)})
    """


DUCKDB_AGGREGATE = """
import duckdb, sys
sql = sys.argv[1]
con = duckdb.connect()
con.sql("SET enable_progress_bar = false")
con.sql("CREATE TABLE cells AS " + sql)
# A sample without a county counts in its city's "county not given" cell (the city's code), as
# in zhijian's cube, so county_code is never null here. GROUPING() gives its last argument the
# lowest bit: category 1, county_code 2 (0 when county is a key).
n, tested = con.sql("SELECT count(*), sum(tested) FROM cells WHERE NOT (county_code IS NULL AND g & 2 = 0)").fetchall()[0]
print(n, tested)
"""

POLARS_AGGREGATE = """
import polars as pl, sys
periods = {"month": "m", "quarter": "q", "year": "y"}
areas = [None, "city_code", "reporting_unit_code", "county_code"]
s = pl.scan_parquet(sys.argv[1], hive_partitioning=True).select(
    "programme", pl.col("category_1").fill_null("unclassified").alias("category"), "city_code",
    "reporting_unit_code", pl.col("county_code").fill_null(pl.col("city_code")), "verdict", "sampling_date",
).with_columns(
    pl.col("sampling_date").dt.strftime("%Y-%m").alias("m"),
    (pl.col("sampling_date").dt.year().cast(pl.Utf8) + "-Q" + pl.col("sampling_date").dt.quarter().cast(pl.Utf8)).alias("q"),
    pl.col("sampling_date").dt.year().cast(pl.Utf8).alias("y"),
)
frames = []
for period in periods.values():
    for area in areas:
        for category in (True, False):
            keys = ["programme", period] + ([area] if area else []) + (["category"] if category else [])
            frames.append(s.group_by(keys).agg(
                pl.len().alias("tested"),
                (pl.col("verdict") == "pass").sum().alias("passed"),
                (pl.col("verdict") == "fail").sum().alias("failed"),
            ).select("tested", "passed", "failed"))
cells = pl.concat(pl.collect_all(frames))
print(cells.height, cells["tested"].sum())
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/zhijian-compare"))
    parser.add_argument("--target-dir", type=Path,
                        default=Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")))
    parser.add_argument("--zhijian", type=Path, help="a release zhijian binary (else built)")
    parser.add_argument("--aggregate-bench", type=Path, help="a release zhijian-aggregate-bench (else built)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    if args.zhijian and args.aggregate_bench:
        zhijian, aggregate_bench = args.zhijian, args.aggregate_bench
    else:
        zhijian, aggregate_bench = cargo_build(args.target_dir)
    work = args.work / f"s{args.samples}-seed{args.seed}"
    drop = work / "drop"
    if not (drop / "expected.json").exists():
        shutil.rmtree(drop, ignore_errors=True)
        print(f"generating {args.samples:,} samples into {drop} ...", flush=True)
        subprocess.run([zhijian, "generate", "--samples", str(args.samples), "--seed", str(args.seed),
                        "--out", drop, "--seeds", REPO / "seeds"], check=True, stdout=subprocess.DEVNULL)
    expected = json.loads((drop / "expected.json").read_text())
    rows = expected["rows"]
    csv_bytes = sum(p.stat().st_size for p in drop.rglob("*.csv") if "seeds" not in p.parts)
    samples_accepted = sum(p["samples"] for p in expected["programmes"].values())

    out, duck_out, agg_out = work / "out", work / "duckdb", work / "aggregate"
    for folder in (out, duck_out, agg_out):
        shutil.rmtree(folder, ignore_errors=True)
    duck_out.mkdir(parents=True)

    results = {}
    print("(a) ingest ...", flush=True)
    results["zhijian_ingest"] = measured(
        [zhijian, "-q", "run", drop / "pipeline.toml", "--no-checks", "--full-refresh", "--output", out / "generated"])
    manifest = json.loads((out / "generated" / "_manifest.json").read_text())
    if manifest["totals"]["rows_read"] != rows:
        sys.exit(f"zhijian read {manifest['totals']['rows_read']} rows, the drop has {rows}")
    results["duckdb_ingest"] = measured([sys.executable, "-c", DUCKDB_INGEST, drop, duck_out])
    duck_rows = int(results["duckdb_ingest"][2].split()[-1])
    if duck_rows != rows:
        sys.exit(f"DuckDB read {duck_rows} rows, the drop has {rows}")

    print("(b) aggregation ...", flush=True)
    samples_glob = f"{out / 'generated' / 'samples'}/**/*.parquet"
    results["zhijian_aggregate"] = measured([aggregate_bench, out / "generated" / "samples", agg_out])
    ours_cells = int(results["zhijian_aggregate"][2].split()[0])
    results["duckdb_aggregate"] = measured([sys.executable, "-c", DUCKDB_AGGREGATE, grouping_sets_sql(samples_glob)])
    print("(c) polars ...", flush=True)
    results["polars_aggregate"] = measured([sys.executable, "-c", POLARS_AGGREGATE, samples_glob])

    # The three engines must agree on the cube before their times mean anything.
    import duckdb
    ours = duckdb.sql(f"SELECT count(*), sum(tested) FROM read_parquet('{agg_out}/pass_rates/**/*.parquet')").fetchall()[0]
    duck = tuple(int(x) for x in results["duckdb_aggregate"][2].split()[-2:])
    polars = tuple(int(x) for x in results["polars_aggregate"][2].split()[-2:])
    if not (tuple(ours) == duck == polars and ours[0] == ours_cells):
        sys.exit(f"the cubes differ: zhijian {ours}, DuckDB {duck}, polars {polars}")

    def line(name, key, count, unit):
        seconds, rss, _ = results[key]
        return f"  {name:<44} {seconds:8.2f} s {count / seconds / 1e6:8.2f} M {unit}/s {rss:8.0f} MiB"

    stages = {t["stage"]: t["ms"] for t in manifest["timings"]}
    stage_peaks = {t["stage"]: round(t["peak_rss_kib"] / 1024) for t in manifest["timings"] if "peak_rss_kib" in t}
    print()
    print(f"drop: {args.samples:,} samples requested, {samples_accepted:,} accepted, {rows:,} CSV records, "
          f"{csv_bytes / 2**20:,.0f} MiB UTF-8 CSV in {len(expected['files'])} files; {os.cpu_count()} cores")
    print("(a) ingest: CSV -> zstd Parquet")
    print(line("zhijian run (ingest, judge, aggregate, report)", "zhijian_ingest", rows, "records"))
    print(line("DuckDB COPY read_csv -> parquet", "duckdb_ingest", rows, "records"))
    print(f"  zhijian stages (ms): {stages}")
    print(f"  zhijian peak RSS by the end of each stage (MiB): {stage_peaks}")
    ingest_write = (stages["ingest"] + stages["write"]) / 1000
    print(f"  zhijian ingest + write stages alone: {ingest_write:.2f} s, "
          f"{ingest_write / results['duckdb_ingest'][0]:.2f} of DuckDB's time")
    print(f"(b, c) pass-rate cube: {ours[0]:,} cells over {samples_accepted:,} samples, same cells in all three")
    print(line("zhijian aggregate", "zhijian_aggregate", samples_accepted, "samples"))
    print(line("DuckDB GROUP BY GROUPING SETS", "duckdb_aggregate", samples_accepted, "samples"))
    print(line("polars (Python) group_by x 24, collect_all", "polars_aggregate", samples_accepted, "samples"))
    ingest_ratio = results["zhijian_ingest"][0] / results["duckdb_ingest"][0]
    aggregate_ratio = results["zhijian_aggregate"][0] / results["duckdb_aggregate"][0]
    polars_ratio = results["zhijian_aggregate"][0] / results["polars_aggregate"][0]
    print("ratios (zhijian time / other time; target <= 1.0)")
    print(f"  ingest vs DuckDB:       {ingest_ratio:.2f}")
    print(f"  aggregation vs DuckDB:  {aggregate_ratio:.2f}")
    print(f"  aggregation vs polars:  {polars_ratio:.2f}")
    if args.json:
        args.json.write_text(json.dumps({
            "samples": args.samples, "rows": rows, "csv_bytes": csv_bytes,
            "results": {k: {"seconds": v[0], "peak_rss_mib": v[1]} for k, v in results.items()},
            "stages_ms": stages,
            "stage_peak_rss_mib": stage_peaks,
            "ratios": {"ingest_vs_duckdb": ingest_ratio, "aggregate_vs_duckdb": aggregate_ratio,
                       "aggregate_vs_polars": polars_ratio},
        }, indent=2) + "\n")


if __name__ == "__main__":
    main()
