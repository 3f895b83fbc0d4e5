//! Generated drops at scale: `zhijian generate` writes all six programmes with the truth fixed
//! as rows are written; a run must find exactly that truth (tests/crosscheck/generated.py reads
//! our Parquet with DuckDB), whether a source is assembled at once or in buckets; and its peak
//! memory must stay flat when the input grows tenfold (the row stages follow the batch, the
//! aggregation the pass-rate cube) and when its files do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo, rows, stderr, stdout, zhijian_in};

fn python() -> String {
    let python = std::env::var("ZHIJIAN_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let probe = Command::new(&python).args(["-c", "import duckdb"]).output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "`{python}` cannot import duckdb: run scripts/test, or set ZHIJIAN_PYTHON ({probe:?})"
    );
    python
}

/// Generates a drop into `dir/drop`; returns its folder.
fn generate(dir: &Path, samples: u64, extra: &[&str]) -> PathBuf {
    let drop = dir.join("drop");
    let seeds = repo().join("seeds");
    let samples = samples.to_string();
    let mut args = vec!["generate", "--samples", &samples, "--seed", "7", "--out", "drop"];
    args.extend(["--seeds", seeds.to_str().unwrap()]);
    args.extend(extra);
    let output = zhijian_in(dir, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "drop/pipeline.toml");
    drop
}

fn run(drop: &Path, output: &str, batch_rows: &str) {
    let result = zhijian_in(
        drop,
        &["-q", "run", "pipeline.toml", "--no-checks", "--output", output, "--batch-rows", batch_rows],
    );
    assert!(result.status.success(), "{}", stderr(&result));
}

fn truth_check(python: &str, drop: &Path, output: &str) -> String {
    let check = Command::new(python)
        .arg(repo().join("tests/crosscheck/generated.py"))
        .arg(drop)
        .arg(drop.join(output))
        .output()
        .unwrap();
    let report = stdout(&check);
    assert!(check.status.success(), "stdout:\n{report}\nstderr:\n{}", stderr(&check));
    report
}

fn parquet_bytes(table_dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = zhijian_store::table_files(table_dir)
        .unwrap()
        .into_iter()
        .map(|p| (p.strip_prefix(table_dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn a_generated_drop_gives_its_truth_at_once_and_in_buckets() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let drop = generate(dir.path(), 2_000, &["--mess-rate", "0.03", "--rows-per-file", "2500"]);
    // One bucket per source, then about 15 records a bucket: every sample's rows must still
    // meet, so both runs find the same truth. The food source then has over 300 buckets,
    // spread in two groups of open files, and its tables roll over several part files.
    run(&drop, "out/whole", "1000000");
    run(&drop, "out/buckets", "15");
    for output in ["out/whole", "out/buckets"] {
        let report = truth_check(&python, &drop, output);
        assert!(report.contains(", 0 mismatches"), "{output}: {report}");
    }
    // The same rows, in another order.
    for table in ["samples", "results", "rejects"] {
        let mut whole = rows(&drop.join("out/whole").join(table));
        let mut buckets = rows(&drop.join("out/buckets").join(table));
        assert!(whole.len() > 100, "{table}: {}", whole.len());
        whole.sort();
        buckets.sort();
        assert!(whole == buckets, "{table}: the bucketed run differs");
    }
    // Deterministic: the same buckets give the same bytes.
    run(&drop, "out/again", "15");
    for table in ["samples", "results", "rejects"] {
        assert!(
            parquet_bytes(&drop.join("out/again").join(table)) == parquet_bytes(&drop.join("out/buckets").join(table)),
            "{table} differs between two bucketed runs"
        );
    }
    let parts = zhijian_store::table_files(&drop.join("out/buckets/results")).unwrap().len();
    assert!(parts > 2, "results in {parts} files");
    // No spill folder is left behind: entries, and the record of the inputs' hashes.
    let cache: Vec<String> = std::fs::read_dir(drop.join("out/.buckets.cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(cache.iter().all(|n| n.ends_with(".head") || n.ends_with(".rows") || n == "inputs.seen"), "{cache:?}");
}

/// Peak RSS in KiB of a full refresh run over `drop`.
fn peak_rss(python: &str, drop: &Path) -> u64 {
    let zhijian = env!("CARGO_BIN_EXE_zhijian");
    let measured = Command::new(python)
        .arg(repo().join("tests/crosscheck/peak_rss.py"))
        .args([zhijian, "-q", "run", "pipeline.toml", "--no-checks", "--full-refresh", "--batch-rows", "400"])
        .current_dir(drop)
        .output()
        .unwrap();
    let text = stdout(&measured);
    let mut parts = text.split_whitespace();
    let (rss, code) = (parts.next().unwrap().parse().unwrap(), parts.next().unwrap());
    assert_eq!(code, "0", "the run failed: {}", stderr(&measured));
    rss
}

/// The peak RSS in KiB by the end of `stage` of the last run over `drop`, from its manifest.
fn stage_peak(drop: &Path, stage: &str) -> u64 {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(drop.join("out/generated/_manifest.json")).unwrap()).unwrap();
    let timings = manifest["timings"].as_array().unwrap();
    timings.iter().find(|t| t["stage"] == stage).unwrap()["peak_rss_kib"].as_u64().unwrap()
}

#[test]
fn peak_memory_stays_flat_when_the_input_grows_tenfold() {
    let python = python();
    let (small, large) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The same file size in both drops; the large one has ten times the files and records.
    // The batch is 400 records, so every source of the small drop already fills its buckets
    // (its smallest source has about 790 records: two buckets of about 395, as the large
    // one's twenty): with a larger batch the small drop's small sources would sit below it,
    // and the test would measure the batch filling up rather than growth with the input.
    let files = ["--rows-per-file", "2000"];
    let small_drop = generate(small.path(), 20_000, &files);
    let large_drop = generate(large.path(), 200_000, &files);
    let records = |drop: &Path| -> u64 {
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(drop.join("expected.json")).unwrap()).unwrap();
        expected["rows"].as_u64().unwrap()
    };
    let (small_records, large_records) = (records(&small_drop), records(&large_drop));
    assert!(large_records >= 9 * small_records, "{small_records} vs {large_records}");
    // Peak RSS moves by some MiB from run to run with the threads' timing; the least of two
    // runs is the steadier figure. The manifest gives the peak at the end of each stage.
    let least = |drop: &Path| {
        let measure = || {
            let whole = peak_rss(&python, drop);
            (whole, stage_peak(drop, "write"))
        };
        let (a, b) = (measure(), measure());
        (a.0.min(b.0), a.1.min(b.1))
    };
    let cells = |drop: &Path| rows(&drop.join("out/generated/pass_rates")).len() as u64;
    let ((small_rss, small_rows_rss), (large_rss, large_rows_rss)) = (least(&small_drop), least(&large_drop));
    let (small_cells, large_cells) = (cells(&small_drop), cells(&large_drop));
    eprintln!(
        "peak RSS: {small_records} records {} MiB ({} MiB by the end of writing, {small_cells} cells), \
         {large_records} records {} MiB ({} MiB, {large_cells} cells)",
        small_rss / 1024,
        small_rows_rss / 1024,
        large_rss / 1024,
        large_rows_rss / 1024
    );
    // Reading, judging, assembling and writing the rows follow the batch, not the input.
    assert!(
        (large_rows_rss as f64) <= 1.2 * small_rows_rss as f64,
        "peak RSS of the row stages grew from {small_rows_rss} KiB ({small_records} records) to {large_rows_rss} KiB ({large_records} records)"
    );
    // The aggregation follows the pass-rate cube, which is bounded by periods × areas ×
    // categories, not by the rows: with all 158 counties seeded the large drop fills about
    // twice the cells of the small one. It costs at most 1 KiB a cell over the row stages.
    for (rss, rows_rss, cells) in [(small_rss, small_rows_rss, small_cells), (large_rss, large_rows_rss, large_cells)] {
        assert!(
            rss.saturating_sub(rows_rss) <= cells,
            "the aggregation took {} KiB over the row stages for {cells} cells",
            rss - rows_rss
        );
    }
}

#[test]
fn peak_memory_does_not_follow_the_size_of_the_largest_file() {
    let python = python();
    let (small, large) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The same records, in files of 5,000 rows and in files ten times larger (one a source):
    // a file is read a block at a time and normalised a chunk at a time, never held whole.
    let small_drop = generate(small.path(), 20_000, &["--rows-per-file", "5000"]);
    let large_drop = generate(large.path(), 20_000, &["--rows-per-file", "50000"]);
    let largest = |drop: &Path| {
        let food = std::fs::read_dir(drop.join("food")).unwrap();
        food.map(|e| e.unwrap().metadata().unwrap().len()).max().unwrap()
    };
    let (small_file, large_file) = (largest(&small_drop), largest(&large_drop));
    assert!(large_file >= 9 * small_file, "{small_file} vs {large_file} bytes");
    let stages = |drop: &Path| {
        let measure = || {
            peak_rss(&python, drop);
            (stage_peak(drop, "ingest"), stage_peak(drop, "write"))
        };
        let (a, b) = (measure(), measure());
        (a.0.min(b.0), a.1.min(b.1))
    };
    let ((small_ingest, small_rows), (large_ingest, large_rows)) = (stages(&small_drop), stages(&large_drop));
    eprintln!(
        "peak RSS by the end of reading and of writing: files of {small_file} bytes {} and {} MiB, \
         of {large_file} bytes {} and {} MiB",
        small_ingest / 1024,
        small_rows / 1024,
        large_ingest / 1024,
        large_rows / 1024
    );
    // Reading is where a file's size would show; writing reads buckets, not files, and is
    // held to the allowance of the test above (its peak moves with the threads' timing).
    for (stage, small, large, allowed) in
        [("reading", small_ingest, large_ingest, 1.1), ("writing", small_rows, large_rows, 1.2)]
    {
        assert!(
            (large as f64) <= allowed * small as f64,
            "peak RSS by the end of {stage} grew from {small} KiB (files of {small_file} bytes) to {large} KiB ({large_file} bytes)"
        );
    }
}

#[test]
fn a_gb18030_drop_gives_the_tables_of_the_same_drop_in_utf8() {
    let (utf8, gb18030) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Several files a source, so the decoding meets file starts and ends more than once.
    let files = ["--rows-per-file", "2500"];
    let utf8_drop = generate(utf8.path(), 3_000, &files);
    let gb18030_drop = generate(gb18030.path(), 3_000, &[&files[..], &["--encoding", "gb18030"]].concat());
    // The same truth, in files of other bytes that the pipeline declares.
    let read = |path: PathBuf| std::fs::read(path).unwrap();
    assert_eq!(read(utf8_drop.join("expected.json")), read(gb18030_drop.join("expected.json")));
    let (utf8_food, gb18030_food) =
        (read(utf8_drop.join("food/food-001.csv")), read(gb18030_drop.join("food/food-001.csv")));
    assert!(std::str::from_utf8(&gb18030_food).is_err() && gb18030_food.len() < utf8_food.len());
    let pipeline = String::from_utf8(read(gb18030_drop.join("pipeline.toml"))).unwrap();
    assert_eq!(pipeline.matches("encoding = \"gb18030\"").count(), 6, "{pipeline}");
    run(&utf8_drop, "out", "1000000");
    run(&gb18030_drop, "out", "1000000");
    // Every file was decoded as GB18030, without a replacement character.
    let manifest: serde_json::Value = serde_json::from_slice(&read(gb18030_drop.join("out/_manifest.json"))).unwrap();
    let inputs = manifest["inputs"].as_array().unwrap();
    assert!(inputs.len() > 6, "{} inputs", inputs.len());
    for input in inputs {
        assert!(input["encoding"] == "gb18030" && input["replacements"] == 0, "{input}");
    }
    for table in ["samples", "results", "pass_rates", "rejects"] {
        let from_utf8 = rows(&utf8_drop.join("out").join(table));
        let from_gb18030 = rows(&gb18030_drop.join("out").join(table));
        assert!(!from_utf8.is_empty(), "{table}");
        assert!(from_utf8 == from_gb18030, "{table}: the GB18030 drop's rows differ from the UTF-8 drop's");
    }
}
