//! Helpers shared by the end-to-end tests: a sandbox copy of the repository's pipelines,
//! seeds and sample data, the test build of the binary, and Parquet readers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};

pub(crate) mod hostile;

/// The repository root: cargo's run-time `CARGO_MANIFEST_DIR` first, so a test binary built
/// from another checkout of the same sources (a shared target folder) reads this one.
pub(crate) fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// A temporary folder holding copies of `pipelines/`, `seeds/`, `sample-data/` and README.md,
/// so tests write their outputs there and never into the repository.
pub(crate) struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub(crate) fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["pipelines", "seeds", "sample-data"] {
            copy_dir(&repo().join(folder), &dir.path().join(folder));
        }
        std::fs::copy(repo().join("README.md"), dir.path().join("README.md")).unwrap();
        Sandbox { dir }
    }

    /// A sandbox whose bundled pipeline keeps only its first source (food sampling) and the
    /// food checks, for tests whose expected figures are the food sample data's.
    pub(crate) fn food_only() -> Sandbox {
        let sandbox = Sandbox::new();
        let pipeline = sandbox.path().join("pipelines/henan-2013.toml");
        let text = std::fs::read_to_string(&pipeline).unwrap();
        let second = text.match_indices("\n[[sources]]").nth(1).map_or(text.len(), |(i, _)| i);
        let text = text[..second].replace(", \"checks/henan-2013-programmes.toml\"", "");
        assert!(!text.contains("programmes.toml"), "the food-only pipeline still includes the other checks");
        std::fs::write(&pipeline, text).unwrap();
        sandbox
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the test build of `zhijian` with `args` in the sandbox.
    pub(crate) fn zhijian(&self, args: &[&str]) -> Output {
        zhijian_in(self.path(), args)
    }

    /// The output folder of the bundled pipeline.
    pub(crate) fn output(&self) -> PathBuf {
        self.path().join("out/henan-2013")
    }

    /// Writes a test pipeline `pipelines/NAME.toml` — the bundled province, as-of date and
    /// seeds, output `out/NAME`, then `sources` (its `[[sources]]` tables, paths relative to
    /// `pipelines/`) — and each (path, bytes) of `files` under the sandbox.
    pub(crate) fn add_pipeline(&self, name: &str, sources: &str, files: &[(&str, &[u8])]) {
        let pipeline = format!(
            "[pipeline]\nname = \"{name}\"\nprovince = \"410000\"\nas_of = 2013-09-30\nseeds = \"../seeds\"\noutput = \"../out/{name}\"\n{sources}"
        );
        std::fs::write(self.path().join(format!("pipelines/{name}.toml")), pipeline).unwrap();
        for (path, bytes) in files {
            let path = self.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
}

/// Runs the test build of `zhijian` with `args` in `dir`. After every `run` that published
/// its outputs (exit 0 or 1), [`assert_invariants`] checks them: every end-to-end test checks
/// the verdict invariants on whatever data it ran.
pub(crate) fn zhijian_in(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_zhijian"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    if args.first() == Some(&"run")
        && matches!(output.status.code(), Some(0 | 1))
        && let Some(published) = run_output_dir(dir, args)
        && published.join("_SUCCESS").exists()
    {
        assert_invariants(&published);
    }
    output
}

/// The output folder of a `zhijian run ARGS` in `dir`: `--output`, else the pipeline file's
/// `[pipeline] output`, relative to the pipeline file's folder.
fn run_output_dir(dir: &Path, args: &[&str]) -> Option<PathBuf> {
    let mut rest = args[1..].iter();
    let mut pipeline = None;
    while let Some(arg) = rest.next() {
        if *arg == "--output" || *arg == "-o" {
            return rest.next().map(|o| dir.join(o));
        }
        if let Some(o) = arg.strip_prefix("--output=") {
            return Some(dir.join(o));
        }
        if !arg.starts_with('-') && pipeline.is_none() {
            pipeline = Some(dir.join(arg));
        }
    }
    let pipeline = pipeline?;
    let text = std::fs::read_to_string(&pipeline).ok()?;
    let doc: toml_edit::DocumentMut = text.parse().ok()?;
    let output = doc.get("pipeline")?.get("output")?.as_str()?;
    Some(pipeline.parent()?.join(output))
}

/// The invariants every published output keeps, whatever its input (truth that does not come
/// from the fixtures):
/// - a result judged on a value against a maximum or minimum fails exactly when its canonical
///   value lies outside (at the bound only when the bound is strict); `exceedance` is
///   `value / limit_max` and exceeds 1 exactly when the value is above the maximum;
/// - a sample fails exactly when one of its results that counts (not superseded) fails, or
///   the source reported it failing without naming an item (`failing_items_missing`); it
///   passes only when none of them fails or waits;
/// - every result belongs to a sample, and a sample's `result_count` is its number of results;
/// - per input file, rows read = accepted + rejected + superseded (the manifest);
/// - in `pass_rates`, every area level adds up to the province, per period, programme and
///   category, in every count.
pub(crate) fn assert_invariants(output: &Path) {
    let samples = rows(&output.join("samples"));
    let results = rows(&output.join("results"));
    let num = |row: &BTreeMap<String, String>, column: &str| -> Option<f64> {
        row.get(column).filter(|v| !v.is_empty()).map(|v| v.parse::<f64>().unwrap())
    };
    let mut by_sample: BTreeMap<&str, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for result in &results {
        by_sample.entry(result["sample_key"].as_str()).or_default().push(result);
        let what = || format!("result {} {} `{}`", result["sample_key"], result["item"], result["raw_result"]);
        let verdict = result["verdict"].as_str();
        let value = num(result, "value");
        let (min, max) = (num(result, "limit_min"), num(result, "limit_max"));
        if result["result_type"] == "value" {
            assert!(value.is_some(), "{}: a value result without a value", what());
        }
        let judged_on_bounds = result["result_type"] == "value"
            && result["limit_banned"] == "false"
            && result["method"] != "screening"
            && (min.is_some() || max.is_some());
        if let (true, Some(v)) = (judged_on_bounds, value) {
            let strict = |column: &str| result.get(column).is_some_and(|s| s == "true");
            let above = max.is_some_and(|m| if strict("limit_max_strict") { v >= m } else { v > m });
            let below = min.is_some_and(|m| if strict("limit_min_strict") { v <= m } else { v < m });
            let expected = if above || below { "fail" } else { "pass" };
            assert_eq!(verdict, expected, "{}: value {v} against [{min:?}, {max:?}]", what());
        }
        match (value, max, num(result, "exceedance")) {
            (Some(v), Some(m), Some(e)) if m > 0.0 => {
                assert!((e - v / m).abs() <= 1e-12 * (v / m).abs().max(1.0), "{}: exceedance {e} ≠ {v} / {m}", what());
                assert_eq!(e > 1.0, v > m, "{}: exceedance {e} against value {v} and maximum {m}", what());
            }
            (Some(_), Some(m), None) => assert!(m <= 0.0, "{}: no exceedance for a value with a maximum", what()),
            (_, _, Some(e)) => panic!("{}: exceedance {e} without a value and a positive maximum", what()),
            _ => {}
        }
    }
    for sample in &samples {
        let key = sample["sample_key"].as_str();
        let own = by_sample.remove(key).unwrap_or_default();
        assert_eq!(
            sample["result_count"].parse::<usize>().unwrap(),
            own.len(),
            "sample {key}: result_count against its rows in results"
        );
        let counting: Vec<&str> =
            own.iter().filter(|r| r["superseded"] == "false").map(|r| r["verdict"].as_str()).collect();
        let any_fails = counting.contains(&"fail");
        let reported_without_items = sample["flags"].split(',').any(|f| f == "failing_items_missing");
        let verdict = sample["verdict"].as_str();
        assert_eq!(
            verdict == "fail",
            any_fails || (counting.is_empty() && reported_without_items),
            "sample {key}: verdict {verdict}, counting results {counting:?}, flags `{}`",
            sample["flags"]
        );
        if verdict == "pass" {
            assert!(counting.iter().all(|v| *v == "pass"), "sample {key} passes with results {counting:?}");
        }
    }
    assert!(by_sample.is_empty(), "results without a sample: {:?}", by_sample.keys().take(5).collect::<Vec<_>>());
    let mut sums: BTreeMap<(String, String, String, String), [u64; 7]> = BTreeMap::new();
    for cell in rows(&output.join("pass_rates")) {
        let key =
            (cell["period"].clone(), cell["programme"].clone(), cell["category"].clone(), cell["area_level"].clone());
        let counts = [
            "tested",
            "passed",
            "failed",
            "pending",
            "not_judged",
            "passed_after_uncertainty",
            "failed_after_uncertainty",
        ]
        .map(|c| cell[c].parse::<u64>().unwrap());
        let sum = sums.entry(key).or_default();
        for (s, c) in sum.iter_mut().zip(counts) {
            *s += c;
        }
    }
    for ((period, programme, category, level), counts) in &sums {
        let province = sums.get(&(period.clone(), programme.clone(), category.clone(), "province".to_string()));
        assert_eq!(
            Some(counts),
            province,
            "pass_rates {period} {programme} {category}: level {level} against the province"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(output.join("_manifest.json")).unwrap()).unwrap();
    for input in manifest["inputs"].as_array().unwrap() {
        let count = |key: &str| input[key].as_u64().unwrap();
        assert_eq!(
            count("rows_read"),
            count("rows_accepted") + count("rows_rejected") + count("rows_superseded"),
            "{}: rows read against accepted + rejected + superseded",
            input["path"]
        );
    }
    // Rows skipped as totals or blank separators are counted, listed, and in no table.
    let mut skipped: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for input in manifest["inputs"].as_array().unwrap() {
        let listed = input["skipped_rows"].as_array().unwrap();
        let span = |s: &serde_json::Value| s["last_line"].as_u64().unwrap() + 1 - s["first_line"].as_u64().unwrap();
        let totals = listed.iter().filter(|s| s["kind"] == "totals").count() as u64;
        if listed.len() < 1000 {
            assert_eq!(totals, input["rows_totals"].as_u64().unwrap(), "{}: totals rows listed", input["path"]);
        }
        let blank: u64 = listed.iter().filter(|s| s["kind"] == "blank").map(span).sum();
        assert!(blank <= input["rows_blank"].as_u64().unwrap(), "{}: blank rows listed", input["path"]);
        let path = input["path"].as_str().unwrap().to_string();
        for s in listed {
            skipped
                .entry(path.clone())
                .or_default()
                .push((s["first_line"].as_u64().unwrap(), s["last_line"].as_u64().unwrap()));
        }
    }
    for row in results.iter().chain(&rows(&output.join("rejects"))) {
        let line: u64 = row["source_line"].parse().unwrap();
        if let Some(ranges) = skipped.get(&row["source_file"]) {
            assert!(
                !ranges.iter().any(|(first, last)| (*first..=*last).contains(&line)),
                "{} line {line} is skipped in the manifest, yet in a table",
                row["source_file"]
            );
        }
    }
}

/// Every published file (tables and report) by path, with a digest of its bytes and its size;
/// the manifest, which holds the run id and timings, is left out.
pub(crate) fn published_digest(output: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![output.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.strip_prefix(output).unwrap().to_string_lossy().into_owned();
            if name == "_manifest.json" {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            // FNV-1a: enough to tell sets apart, no dependency.
            let hash =
                bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
            files.insert(name, format!("{hash:016x}:{}", bytes.len()));
        }
    }
    files
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every row of a table as a map of column → value rendered as text ("" for null).
pub(crate) fn rows(table_dir: &Path) -> Vec<BTreeMap<String, String>> {
    let batches: Vec<RecordBatch> = zhijian_store::read_table(table_dir, None).unwrap();
    let mut out = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let mut map = BTreeMap::new();
            for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                map.insert(field.name().clone(), cell(column.as_ref(), row));
            }
            out.push(map);
        }
    }
    out
}

/// The items of a list cell (empty for null).
pub(crate) fn list_items(column: &dyn Array, row: usize) -> Vec<String> {
    if column.is_null(row) {
        return Vec::new();
    }
    let list = column.as_list::<i32>().value(row);
    let strings = list.as_string::<i32>();
    (0..strings.len()).map(|i| strings.value(i).to_string()).collect()
}

/// A cell rendered as text ("" for null; list items joined by `,`).
pub(crate) fn cell(column: &dyn Array, row: usize) -> String {
    use arrow_schema::DataType;
    if column.is_null(row) {
        return String::new();
    }
    match column.data_type() {
        DataType::Utf8 => column.as_string::<i32>().value(row).to_string(),
        DataType::Int64 => column.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Int32 => column.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Float64 => column.as_primitive::<Float64Type>().value(row).to_string(),
        DataType::Boolean => column.as_boolean().value(row).to_string(),
        DataType::Date32 => arrow_array::temporal_conversions::date32_to_datetime(
            column.as_primitive::<arrow_array::types::Date32Type>().value(row),
        )
        .map(|d| d.date().to_string())
        .unwrap_or_default(),
        DataType::List(_) => list_items(column, row).join(","),
        other => panic!("unexpected type {other}"),
    }
}
