"""An incremental night against a full run, on one generated drop of many files.

    python benches/night.py [--samples 300000] [--rows-per-file 10000] [--repeat 3]
                            [--work /var/tmp/zhijian-night] [--zhijian target/release/zhijian]

Generates a drop cut into files of --rows-per-file records (`zhijian generate`; 300,000
samples in files of 10,000 rows are 100 files), then times, each its own process:

  full    `zhijian run --full-refresh --no-checks` over the drop, --repeat times;
  night   one file changed (two data rows of one food file swapped: other bytes, a real change
          of `source_record`), then `zhijian run --no-checks` on the same output, --repeat
          times (each round changes the file again);
  same    a run with nothing changed.

It prints wall, CPU and peak RSS (medians), the night / full ratio (the target of issue 17:
at most 0.10 with 1% of the files changed), the stages of the median night and how many
segments it wrote and reused. Then it checks that the night published what a full refresh of
the same files publishes: the same bytes in every Parquet file of `samples`, `results`,
`rejects`, `pass_rates` and `attainment`.
"""

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import REPO, cargo_build, measured, median_of  # noqa: E402

TABLES = ["samples", "results", "rejects", "pass_rates", "attainment"]


def swap_two_rows(path):
    """Swaps data rows 5 and 6 of a CSV file (lines 6 and 7): other bytes, the same size."""
    lines = path.read_bytes().split(b"\n")
    lines[5], lines[6] = lines[6], lines[5]
    path.write_bytes(b"\n".join(lines))


def digests(output):
    """Every Parquet file of the tables, by path relative to the output, with its SHA-256."""
    found = {}
    for table in TABLES:
        for path in sorted((output / table).rglob("*.parquet")):
            found[str(path.relative_to(output))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rows-per-file", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/zhijian-night"))
    parser.add_argument("--target-dir", type=Path, default=REPO / "target")
    parser.add_argument("--zhijian", type=Path, help="a release zhijian binary (else built)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    zhijian = args.zhijian or cargo_build(args.target_dir)[0]

    drop = args.work / f"s{args.samples}-seed{args.seed}-r{args.rows_per_file}" / "drop"
    if not (drop / "expected.json").exists():
        shutil.rmtree(drop, ignore_errors=True)
        print(f"generating {args.samples:,} samples in files of {args.rows_per_file:,} rows into {drop} ...",
              flush=True)
        subprocess.run([zhijian, "generate", "--samples", str(args.samples), "--seed", str(args.seed),
                        "--rows-per-file", str(args.rows_per_file), "--out", drop, "--seeds", REPO / "seeds"],
                       check=True, stdout=subprocess.DEVNULL)
    expected = json.loads((drop / "expected.json").read_text())
    files = sorted(expected["files"])
    changed = drop / next(f for f in files if f.startswith("food/") and f.endswith(".csv"))
    out, fresh = drop.parent / "out", drop.parent / "fresh"
    for path in (out, fresh, out.with_name(".out.generations"), out.with_name(".out.cache"),
                 fresh.with_name(".fresh.generations"), fresh.with_name(".fresh.cache")):
        shutil.rmtree(path, ignore_errors=True)
    run = [zhijian, "-q", "run", drop / "pipeline.toml", "--no-checks"]

    full = [measured(run + ["--full-refresh", "--output", out]) for _ in range(args.repeat)]
    same = measured(run + ["--output", out])
    nights, manifests = [], []
    for _ in range(args.repeat):
        swap_two_rows(changed)
        nights.append(measured(run + ["--output", out]))
        manifests.append(json.loads((out / "_manifest.json").read_text()))

    # The truth of the last night: a full refresh of the same files into another output.
    measured(run + ["--full-refresh", "--output", fresh])
    ours, theirs = digests(out), digests(fresh)
    if ours != theirs:
        differing = sorted(set(ours.items()) ^ set(theirs.items()))
        sys.exit(f"the night's tables differ from a full refresh's: {differing[:6]}")

    full_m, night_m = median_of(full), median_of(nights)
    walls = [n.seconds for n in nights]
    median_round = sorted(range(len(walls)), key=walls.__getitem__)[len(walls) // 2]
    manifest = manifests[median_round]
    segments = manifest["segments"]
    reused = sum(1 for s in segments if s["reused"])
    stages = {t["stage"]: t["ms"] for t in manifest["timings"]}
    parsed = [i["path"] for i in manifest["inputs"] if not i["cached"]]
    ratio = night_m.seconds / full_m.seconds

    print()
    print(f"drop: {args.samples:,} samples, {expected['rows']:,} CSV records in {len(files)} files; "
          f"a night changes {changed.relative_to(drop)} ({100 / len(files):.1f}% of the files)")
    print(f"  {'':<34} {'wall':>9} {'CPU':>9} {'peak RSS':>10}")
    for label, m in (("full run (--full-refresh)", full_m), ("night, one file changed", night_m),
                     ("night, nothing changed", same)):
        print(f"  {label:<34} {m.seconds:7.2f} s {m.cpu_seconds:7.2f} s {m.peak_rss_mib:6.0f} MiB")
    print(f"  every round (wall s): full {[round(r.seconds, 2) for r in full]}, "
          f"night {[round(r.seconds, 2) for r in nights]}")
    print(f"  night / full: wall {ratio:.3f} (target <= 0.10), CPU {night_m.cpu_seconds / full_m.cpu_seconds:.3f}")
    print(f"  the median night: parsed {parsed}; segments written {len(segments) - reused}, reused {reused}; "
          f"stages (ms) {stages}")
    print(f"  its tables are byte for byte a full refresh's ({len(ours)} Parquet files)")
    if args.json:
        args.json.write_text(json.dumps({
            "samples": args.samples, "rows": expected["rows"], "files": len(files),
            "full": full_m.json(), "night": night_m.json(), "unchanged": same.json(),
            "full_rounds": [r.json() for r in full], "night_rounds": [r.json() for r in nights],
            "ratio_wall": ratio, "segments": len(segments), "segments_reused": reused, "stages_ms": stages,
        }, indent=2) + "\n")


if __name__ == "__main__":
    main()
