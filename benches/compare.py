"""zhijian beside DuckDB and polars on one generated drop.

    python benches/compare.py [--samples 1000000] [--encoding gb18030] [--repeat 3]
                              [--work /var/tmp/zhijian-compare]

Builds zhijian in release without polars (unless --zhijian and --aggregate-bench name built
binaries), generates a drop (`zhijian generate`, CSV of all six programmes, about 3.2 records
and 3.1 results per sample, in UTF-8 or GB18030), then times in this one run, each engine in its
own process:

  (a) ingest, --repeat rounds (median shown, every round printed): `zhijian run --full-refresh
      --no-checks` (parse, decode, validate, normalise, judge, assemble, write zstd Parquet, and
      also aggregate and write the report) against plain copies of the same CSV files to zstd
      Parquet with nothing checked: DuckDB `COPY (SELECT * FROM read_csv(...))` with its types
      inferred (as in the figures before 2026-12-01) and with every column as text
      (all_varchar), and polars (Python) `scan_csv(infer_schema=False).sink_parquet(zstd)`;
  (b) aggregation: zhijian's pass-rate cube over our `samples` Parquet against DuckDB's
      GROUP BY GROUPING SETS over the same files, checked to give the same cells;
  (c) the same aggregation in polars (Python), checked the same way.

With --encoding gb18030 the drop is written in GB18030 and zhijian decodes it. DuckDB and polars
cannot read GB18030, so they copy a UTF-8 transcode of the drop, made before their timed runs:
their figures leave decoding out, zhijian's include it. The transcode (Python's codec, one
process) is timed on its own line, so the cost of decoding outside zhijian can be read beside.

For each process: wall time, CPU (user + system, from wait4's rusage of that child alone), peak
RSS (the child's maximum resident set, from the same call), the ratios zhijian / DuckDB and
zhijian / polars of each, and the machine's 1-minute load before and after with the CPU other
processes used meanwhile (from /proc/stat), since a shared machine skews the figures. Needs
duckdb and polars importable by the Python running it (tests/requirements.txt).
"""

import argparse
import filecmp
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The cube zhijian computes: 3 periods x 4 area levels x (category, all), per programme.
PERIODS = {"month": "m", "quarter": "q", "year": "y"}
AREAS = {"province": None, "city": "city_code", "reporting_unit": "reporting_unit_code", "county": "county_code"}


def busy_cpu_seconds():
    """CPU seconds the whole machine has spent busy since boot (every core, from /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy.
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    """One process's run."""
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    stdout: str
    load_before: float
    load_after: float
    # CPU the rest of the machine used while the child ran (busy time less the child's).
    others_cpu_seconds: float

    def json(self):
        return {k: v for k, v in self.__dict__.items() if k != "stdout"}


def measured(argv, cwd=None):
    """Runs argv; measures it with wait4 on that child alone (see Measured)."""
    # Both streams go to files: a pipe left unread while we wait would block a chatty child.
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"zhijian-compare-{os.getpid()}"
    out_path, err_path = base.with_suffix(".out"), base.with_suffix(".err")
    load_before, busy_before = os.getloadavg()[0], busy_cpu_seconds()
    start = time.perf_counter()
    with open(out_path, "w") as out, open(err_path, "w") as err_file:
        proc = subprocess.Popen(argv, stdout=out, stderr=err_file, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    busy, load_after = busy_cpu_seconds() - busy_before, os.getloadavg()[0]
    text, err = out_path.read_text(), err_path.read_text()
    out_path.unlink()
    err_path.unlink()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(map(str, argv))} failed:\n{err}\n{text}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(seconds, cpu, usage.ru_maxrss / 1024, text, load_before, load_after, max(0.0, busy - cpu))


def median_of(runs):
    """The median of each figure over rounds (each figure on its own), as a Measured."""
    def median(attr):
        return statistics.median(getattr(r, attr) for r in runs)
    return Measured(median("seconds"), median("cpu_seconds"), median("peak_rss_mib"), runs[0].stdout,
                    median("load_before"), median("load_after"), median("others_cpu_seconds"))


def cargo_build(target_dir):
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
    subprocess.run(
        ["cargo", "build", "--release", "--no-default-features", "--bin", "zhijian", "--bin", "zhijian-aggregate-bench",
         "--package", "zhijian", "--package", "zhijian-bench"],
        cwd=REPO, env=env, check=True)
    return target_dir / "release" / "zhijian", target_dir / "release" / "zhijian-aggregate-bench"


# argv: drop folder, output folder, then "typed" (DuckDB infers column types) or "text" (every
# column VARCHAR, as polars' copy below and zhijian's reading).
DUCKDB_INGEST = """
import duckdb, sys, pathlib
drop, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
options = "header = true" + (", all_varchar = true" if sys.argv[3] == "text" else "")
con = duckdb.connect()
con.sql("SET enable_progress_bar = false")
rows = 0
for folder in sorted(p for p in drop.iterdir() if p.is_dir() and p.name != "seeds" and p.name != "out"):
    con.sql(f"COPY (SELECT * FROM read_csv('{folder}/*.csv', {options})) "
            f"TO '{out}/{folder.name}.parquet' (FORMAT parquet, COMPRESSION zstd)")
    rows += con.sql(f"SELECT count(*) FROM '{out}/{folder.name}.parquet'").fetchall()[0][0]
print(rows)
"""

POLARS_INGEST = """
import polars as pl, sys, pathlib
drop, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
rows = 0
for folder in sorted(p for p in drop.iterdir() if p.is_dir() and p.name != "seeds" and p.name != "out"):
    target = out / f"{folder.name}.parquet"
    pl.scan_csv(f"{folder}/*.csv", infer_schema=False).sink_parquet(target, compression="zstd")
    rows += pl.scan_parquet(target).select(pl.len()).collect().item()
print(rows)
"""

# GB18030 -> UTF-8 with Python's codec (strict: an undecodable byte stops it), file by file.
TRANSCODE = """
import shutil, sys, pathlib
drop, copy = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for path in sorted(drop.rglob("*.csv")):
    relative = path.relative_to(drop)
    if relative.parts[0] in ("seeds", "out"):
        continue
    target = copy / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(path, encoding="gb18030", newline="") as text, open(target, "w", encoding="utf-8", newline="") as out:
        shutil.copyfileobj(text, out, 1 << 20)
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


def drop_folder(args):
    """The drop of these options in the work folder, generated unless it is there."""
    suffix = "" if args.encoding == "utf-8" else f"-{args.encoding}"
    work = args.work / f"s{args.samples}-seed{args.seed}{suffix}"
    return work, work / "drop"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--encoding", choices=["utf-8", "gb18030"], default="utf-8",
                        help="the drop's CSV encoding (zhijian generate --encoding)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the ingest comparison; the median is shown")
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/zhijian-compare"))
    parser.add_argument("--target-dir", type=Path,
                        default=Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")))
    parser.add_argument("--zhijian", type=Path, help="a release zhijian binary (else built)")
    parser.add_argument("--aggregate-bench", type=Path, help="a release zhijian-aggregate-bench (else built)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    if args.zhijian and args.aggregate_bench:
        zhijian, aggregate_bench = args.zhijian, args.aggregate_bench
    else:
        zhijian, aggregate_bench = cargo_build(args.target_dir)
    work, drop = drop_folder(args)
    if not (drop / "expected.json").exists():
        shutil.rmtree(drop, ignore_errors=True)
        print(f"generating {args.samples:,} samples ({args.encoding}) into {drop} ...", flush=True)
        subprocess.run([zhijian, "generate", "--samples", str(args.samples), "--seed", str(args.seed),
                        "--out", drop, "--seeds", REPO / "seeds", "--encoding", args.encoding],
                       check=True, stdout=subprocess.DEVNULL)
    expected = json.loads((drop / "expected.json").read_text())
    rows = expected["rows"]
    csv_bytes = sum(p.stat().st_size for p in drop.rglob("*.csv") if "seeds" not in p.parts)
    samples_accepted = sum(p["samples"] for p in expected["programmes"].values())

    out, duck_out, polars_out, agg_out = work / "out", work / "duckdb", work / "polars", work / "aggregate"
    results = {}
    # What DuckDB and polars read: the drop itself, or its UTF-8 transcode made here, untimed
    # for them, and timed on its own.
    plain_input = drop
    if args.encoding != "utf-8":
        plain_input = work / "utf8-transcode"
        shutil.rmtree(plain_input, ignore_errors=True)
        print("transcoding the drop to UTF-8 for DuckDB and polars ...", flush=True)
        results["transcode"] = measured([sys.executable, "-c", TRANSCODE, drop, plain_input])
        utf8_twin = drop_folder(argparse.Namespace(**{**vars(args), "encoding": "utf-8"}))[1]
        if (utf8_twin / "expected.json").exists():
            # In chunks: this process stays small, since its children's peak RSS cannot be
            # below its own (see the note printed below).
            differing = [name for name in expected["files"]
                         if not filecmp.cmp(plain_input / name, utf8_twin / name, shallow=False)]
            if differing:
                sys.exit(f"the transcode differs from the UTF-8 drop of the same seed in {differing}")
            print(f"  the transcode is byte for byte the UTF-8 drop of the same seed ({utf8_twin})")

    engines = {
        "zhijian": lambda: [zhijian, "-q", "run", drop / "pipeline.toml", "--no-checks", "--full-refresh",
                            "--output", out / "generated"],
        "duckdb": lambda: [sys.executable, "-c", DUCKDB_INGEST, plain_input, duck_out, "typed"],
        "duckdb_text": lambda: [sys.executable, "-c", DUCKDB_INGEST, plain_input, duck_out, "text"],
        "polars": lambda: [sys.executable, "-c", POLARS_INGEST, plain_input, polars_out],
    }
    output_of = {"zhijian": out, "duckdb": duck_out, "duckdb_text": duck_out, "polars": polars_out}
    rounds = {name: [] for name in engines}
    manifests = []
    for round_number in range(1, args.repeat + 1):
        print(f"(a) ingest, round {round_number} of {args.repeat} ...", flush=True)
        for name, argv in engines.items():
            # Each starts from nothing (no cache, no earlier output), outside the timed run;
            # zhijian's last round stays for the aggregation.
            shutil.rmtree(output_of[name], ignore_errors=True)
            if name != "zhijian":
                output_of[name].mkdir(parents=True)
            run = measured(argv())
            rounds[name].append(run)
            if name == "zhijian":
                manifest = json.loads((out / "generated" / "_manifest.json").read_text())
                if manifest["totals"]["rows_read"] != rows:
                    sys.exit(f"zhijian read {manifest['totals']['rows_read']} rows, the drop has {rows}")
                manifests.append(manifest)
            elif int(run.stdout.split()[-1]) != rows:
                sys.exit(f"{name} read {run.stdout.split()[-1]} rows, the drop has {rows}")
    for name, runs in rounds.items():
        results[f"{name}_ingest"] = median_of(runs)
    # The stages of zhijian's median round (by wall time), and its output for the aggregation.
    walls = [r.seconds for r in rounds["zhijian"]]
    median_round = sorted(range(len(walls)), key=walls.__getitem__)[len(walls) // 2]
    manifest = manifests[median_round]

    print("(b) aggregation ...", flush=True)
    shutil.rmtree(agg_out, ignore_errors=True)
    samples_glob = f"{out / 'generated' / 'samples'}/**/*.parquet"
    results["zhijian_aggregate"] = measured([aggregate_bench, out / "generated" / "samples", agg_out])
    ours_cells = int(results["zhijian_aggregate"].stdout.split()[0])
    results["duckdb_aggregate"] = measured([sys.executable, "-c", DUCKDB_AGGREGATE, grouping_sets_sql(samples_glob)])
    print("(c) polars ...", flush=True)
    results["polars_aggregate"] = measured([sys.executable, "-c", POLARS_AGGREGATE, samples_glob])

    # Linux carries a parent's peak resident set into a child it starts (vfork, then exec keeps
    # the larger high-water mark), so no child's figure above can be below this process's own
    # peak so far: it is printed, and duckdb is imported here only after every measured run.
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # The three engines must agree on the cube before their times mean anything.
    import duckdb
    ours = duckdb.sql(f"SELECT count(*), sum(tested) FROM read_parquet('{agg_out}/pass_rates/**/*.parquet')").fetchall()[0]
    duck = tuple(int(x) for x in results["duckdb_aggregate"].stdout.split()[-2:])
    polars = tuple(int(x) for x in results["polars_aggregate"].stdout.split()[-2:])
    if not (tuple(ours) == duck == polars and ours[0] == ours_cells):
        sys.exit(f"the cubes differ: zhijian {ours}, DuckDB {duck}, polars {polars}")

    def line(name, run, count, unit):
        return (f"  {name:<52} {run.seconds:8.2f} s {run.cpu_seconds:8.2f} s {run.peak_rss_mib:7.0f} MiB "
                f"{count / run.seconds / 1e6:7.2f} M {unit}/s")

    def machine(run):
        return f"load {run.load_before:.2f} -> {run.load_after:.2f}, others' CPU {run.others_cpu_seconds:.1f} s"

    header = f"  {'':<52} {'wall':>10} {'CPU':>10} {'peak RSS':>11} {'throughput':>16}"
    names = {
        "zhijian": "zhijian run --full-refresh --no-checks",
        "duckdb": "DuckDB COPY read_csv -> parquet, types inferred",
        "duckdb_text": "DuckDB COPY read_csv(all_varchar) -> parquet",
        "polars": "polars scan_csv(infer_schema=False) -> sink_parquet",
    }
    stages = {t["stage"]: t["ms"] for t in manifest["timings"]}
    stage_peaks = {t["stage"]: round(t["peak_rss_kib"] / 1024) for t in manifest["timings"] if "peak_rss_kib" in t}
    print()
    print(f"drop: {args.samples:,} samples requested, {samples_accepted:,} accepted, {rows:,} CSV records, "
          f"{csv_bytes / 2**20:,.0f} MiB of {args.encoding.upper()} CSV in {len(expected['files'])} files; "
          f"{os.cpu_count()} cores")
    print(f"(a) ingest: CSV -> zstd Parquet, each its own process, median of {args.repeat} round(s)")
    if args.encoding != "utf-8":
        print(f"  zhijian reads the {args.encoding.upper()} files and decodes them; DuckDB and polars read a UTF-8 "
              f"transcode made before their runs (decoding not in their figures)")
    print(header)
    for name, label in names.items():
        print(line(label, results[f"{name}_ingest"], rows, "records"))
    if "transcode" in results:
        print(line(f"(apart) transcode {args.encoding.upper()} -> UTF-8, Python codec", results["transcode"],
                   rows, "records"))
    print("  every round (wall s, CPU s, peak RSS MiB; machine):")
    for name in names:
        for number, run in enumerate(rounds[name], 1):
            print(f"    {name:<12} {number}: {run.seconds:7.2f} {run.cpu_seconds:7.2f} {run.peak_rss_mib:6.0f}; "
                  f"{machine(run)}")
    print(f"  zhijian stages of its median round (ms): {stages}")
    print(f"  zhijian peak RSS by the end of each stage (MiB): {stage_peaks}")
    zhijian_run = results["zhijian_ingest"]
    ratios = {}
    print("  ratios zhijian / other (wall, CPU, peak RSS; target wall <= 1.0 against DuckDB):")
    for name in ("duckdb", "duckdb_text", "polars"):
        other = results[f"{name}_ingest"]
        ratios[f"ingest_vs_{name}"] = {
            "wall": zhijian_run.seconds / other.seconds,
            "cpu": zhijian_run.cpu_seconds / other.cpu_seconds,
            "peak_rss": zhijian_run.peak_rss_mib / other.peak_rss_mib,
        }
        r = ratios[f"ingest_vs_{name}"]
        print(f"    vs {names[name]:<52} wall {r['wall']:5.2f}  CPU {r['cpu']:5.2f}  peak RSS {r['peak_rss']:5.2f}")
    print(f"  (no peak RSS above can be below this script's own, {floor:.0f} MiB: Linux carries a parent's "
          f"peak into the child it starts)")
    print(f"(b, c) pass-rate cube: {ours[0]:,} cells over {samples_accepted:,} samples, same cells in all three")
    print(header)
    print(line("zhijian aggregate", results["zhijian_aggregate"], samples_accepted, "samples"))
    print(line("DuckDB GROUP BY GROUPING SETS", results["duckdb_aggregate"], samples_accepted, "samples"))
    print(line("polars (Python) group_by x 24, collect_all", results["polars_aggregate"], samples_accepted, "samples"))
    for name in ("zhijian_aggregate", "duckdb_aggregate", "polars_aggregate"):
        print(f"    {name:<20} {machine(results[name])}")
    ratios["aggregate_vs_duckdb"] = results["zhijian_aggregate"].seconds / results["duckdb_aggregate"].seconds
    ratios["aggregate_vs_polars"] = results["zhijian_aggregate"].seconds / results["polars_aggregate"].seconds
    print("  ratios zhijian / other (wall; target <= 1.0)")
    print(f"    aggregation vs DuckDB:  {ratios['aggregate_vs_duckdb']:.2f}")
    print(f"    aggregation vs polars:  {ratios['aggregate_vs_polars']:.2f}")
    if args.json:
        args.json.write_text(json.dumps({
            "samples": args.samples, "seed": args.seed, "peak_rss_floor_mib": floor, "encoding": args.encoding, "repeat": args.repeat,
            "rows": rows, "csv_bytes": csv_bytes,
            "results": {k: v.json() for k, v in results.items()},
            "rounds": {k: [r.json() for r in v] for k, v in rounds.items()},
            "stages_ms": stages,
            "stage_peak_rss_mib": stage_peaks,
            "ratios": ratios,
        }, indent=2) + "\n")


if __name__ == "__main__":
    main()
