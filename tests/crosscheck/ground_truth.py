"""Compares a run's outputs with the generators' ground truth, source by source.

Each folder of sample-data/ holds an expected.json that its generator wrote while deciding every
sample's fate, before any row existed: rows per file, every deliberate fault (file, line, rule,
field), every sample's verdict, place and category. This script reads zhijian's Parquet
outputs with DuckDB and checks, per source folder:

- the manifest's per-file counts (read = accepted + rejected + superseded);
- the rejects table: exactly the expected (file, line, rule, field), nothing more;
- the samples: the same ids with the same verdict (and original verdict, re-test flag,
  superseded deliveries where the truth names them);
- pass_rates (year 2013, city and province levels, per category and `all`): tested, passed,
  failed, pending and the pass rate, recomputed here from the truth's verdicts;
- attainment at province level: achieved samples, tests or kinds from the truth.

    python tests/crosscheck/ground_truth.py OUTPUT_DIR SAMPLE_DATA_DIR [FOLDER ...]

Exits 0 and prints one `ok` line per folder when all agree; prints every mismatch and exits 1
otherwise.
"""
import collections
import json
import pathlib
import sys

import duckdb

out = pathlib.Path(sys.argv[1])
data = pathlib.Path(sys.argv[2])
folders = sys.argv[3:] or sorted(p.parent.name for p in data.glob("*/expected.json"))
con = duckdb.connect()
manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
problems = []


def table(name):
    return f"read_parquet('{out}/{name}/**/*.parquet', hive_partitioning = 1, union_by_name = 1)"


def rows(sql, *params):
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def check(folder):
    truth = json.loads((data / folder / "expected.json").read_text(encoding="utf-8"))
    prefix = f"../sample-data/{folder}/"
    before = len(problems)

    # Files.
    inputs = {f["path"]: f for f in manifest["inputs"] if f["path"].startswith(prefix)}
    for name, want in truth["files"].items():
        got = inputs.get(prefix + name)
        if got is None:
            problems.append(f"{folder}: {name} not in the manifest")
            continue
        for key, value in want.items():
            if got.get(key, 0) != value:
                problems.append(f"{folder}: {name}: {key} = {got.get(key)}, expected {value}")
        if got["rows_read"] != got["rows_accepted"] + got["rows_rejected"] + got.get("rows_superseded", 0):
            problems.append(f"{folder}: {name}: rows do not add up: {got}")
    if set(inputs) != {prefix + n for n in truth["files"]}:
        problems.append(f"{folder}: manifest files {sorted(inputs)} differ from {sorted(truth['files'])}")

    # Skipped rows (totals rows, blank runs among the data): exactly those the truth lists, if
    # it lists any; they are in no table.
    if "skipped_rows" in truth:
        got_skipped = sorted(
            (path[len(prefix):], s["first_line"], s["last_line"], s["kind"])
            for path, f in inputs.items() for s in f.get("skipped_rows", []))
        want_skipped = sorted(
            (s["file"], s["first_line"], s["last_line"], s["kind"]) for s in truth["skipped_rows"])
        if got_skipped != want_skipped:
            problems.append(f"{folder}: skipped rows {got_skipped}, expected {want_skipped}")

    # Rejects: exactly the faults.
    got = sorted(
        (r["source_file"][len(prefix):], r["source_line"], r["rule"], r["field"])
        for r in rows(f"select * from {table('rejects')} where starts_with(source_file, ?)", prefix))
    want = sorted((f["file"], f["line"], f["rule"], f["field"]) for f in truth["faults"])
    for extra in sorted(set(got) - set(want)):
        problems.append(f"{folder}: unexpected reject {extra}")
    for missing in sorted(set(want) - set(got)):
        problems.append(f"{folder}: missing reject {missing}")

    # Samples.
    samples = {s["source_sample_id"]: s for s in rows(
        f"select * from {table('samples')} where starts_with(source_file, ?)", prefix)}
    for sample_id, want in truth["samples"].items():
        s = samples.get(sample_id)
        if s is None:
            problems.append(f"{folder}: sample {sample_id} missing")
            continue
        checks = [("verdict", want["verdict"]), ("city_code", want["city"]), ("county_code", want.get("county"))]
        if "original_verdict" in want:
            checks.append(("original_verdict", want["original_verdict"]))
        if "is_retest" in want:
            checks.append(("is_retest", want["is_retest"]))
        if "superseded_deliveries" in want:
            checks.append(("superseded_deliveries", want["superseded_deliveries"]))
        if "tests" in want:
            checks.append(("result_count", want["tests"]))
        if s["sampling_date"].strftime("%Y-%m") != want["month"]:
            problems.append(f"{folder}: sample {sample_id}: sampled {s['sampling_date']}, expected in {want['month']}")
        for column, value in checks:
            if s[column] != value:
                problems.append(f"{folder}: sample {sample_id}: {column} = {s[column]!r}, expected {value!r}")
    for extra in sorted(set(samples) - set(truth["samples"])):
        problems.append(f"{folder}: unexpected sample {extra}")

    # Pass rates, recomputed from the truth.
    programmes = {s["programme"] for s in samples.values()}
    if len(programmes) != 1:
        problems.append(f"{folder}: expected one programme, found {programmes}")
        return
    programme = programmes.pop()
    cells = collections.defaultdict(lambda: collections.Counter())
    for want in truth["samples"].values():
        if not want["month"].startswith("2013"):
            continue
        for area_level, area in (("province", "410000"), ("city", want["city"])):
            for category in ("all", want["category_1"] or "unclassified"):
                c = cells[(area_level, area, category)]
                c["tested"] += 1
                c[want["verdict"]] += 1
    got_cells = {(r["area_level"], r["area_code"], r["category"]): r for r in rows(
        f"select * from {table('pass_rates')} where programme = ? and period_type = 'year' and period = '2013' "
        "and area_level in ('province', 'city')", programme)}
    for key, c in cells.items():
        r = got_cells.get(key)
        if r is None:
            problems.append(f"{folder}: no pass_rates cell {key}")
            continue
        judged = c["pass"] + c["fail"]
        want_rate = c["pass"] / judged if judged else None
        got_counts = (r["tested"], r["passed"], r["failed"], r["pending"])
        if got_counts != (c["tested"], c["pass"], c["fail"], c["pending"]):
            problems.append(f"{folder}: {key}: (tested, passed, failed, pending) = {got_counts}, "
                            f"expected {(c['tested'], c['pass'], c['fail'], c['pending'])}")
        if (want_rate is None) != (r["pass_rate"] is None) or (
                want_rate is not None and abs(want_rate - r["pass_rate"]) > 1e-12):
            problems.append(f"{folder}: {key}: pass_rate {r['pass_rate']}, expected {want_rate}")
    for extra in sorted(set(got_cells) - set(cells)):
        problems.append(f"{folder}: unexpected pass_rates cell {extra}")

    # Attainment at province level, from the truth.
    for a in rows(f"select * from {table('attainment')} where programme = ? and area_level = 'province'", programme):
        if a["unit"] == "samples":
            want = len(truth["samples"])
        elif a["unit"] == "tests":
            want = sum(s["tests"] for s in truth["samples"].values())
        else:
            want = len({s["category_1"] for s in truth["samples"].values() if s["category_1"]})
        if a["achieved"] != want:
            problems.append(f"{folder}: attainment ({a['unit']}) achieved {a['achieved']}, expected {want}")
        expected = a["target"] * 273 / 365  # 2013-09-30 is day 273
        if abs(a["expected"] - expected) > 1e-9:
            problems.append(f"{folder}: attainment expected {a['expected']}, expected {expected}")
        status = "met" if want >= a["target"] else "on_track" if want >= expected else "behind"
        if a["status"] != status:
            problems.append(f"{folder}: attainment status {a['status']}, expected {status}")

    if len(problems) == before:
        print(f"ok {folder}: {len(truth['files'])} file(s), {len(truth['faults'])} fault(s), "
              f"{len(truth['samples'])} sample(s), {len(cells)} pass-rate cell(s)")


for folder in folders:
    check(folder)
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
