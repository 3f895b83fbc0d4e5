//! Incremental nights on a generated drop cut into many segments: after files are added,
//! changed, renamed or removed, a run writes again only the segments whose inputs changed,
//! links the others from the previous run, and publishes exactly the bytes a full refresh of
//! the same files publishes into a new output (the truth: another run that reuses nothing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{assert_invariants, published_digest, repo, stderr, zhijian_in};

/// Small batches, so every source of the small drop is cut into many segments.
const BATCH_ROWS: &str = "200";

fn generate(dir: &Path) -> PathBuf {
    let seeds = repo().join("seeds");
    let args = ["generate", "--samples", "3000", "--seed", "11", "--rows-per-file", "300", "--out", "drop", "--seeds"];
    let mut args: Vec<&str> = args.to_vec();
    args.push(seeds.to_str().unwrap());
    let output = zhijian_in(dir, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    dir.join("drop")
}

fn run(drop: &Path, output: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["-q", "run", "pipeline.toml", "--no-checks", "--output", output, "--batch-rows", BATCH_ROWS];
    args.extend_from_slice(extra);
    let result = zhijian_in(drop, &args);
    assert!(result.status.success(), "{}", stderr(&result));
    serde_json::from_slice(&std::fs::read(drop.join(output).join("_manifest.json")).unwrap()).unwrap()
}

/// What a night did with the segments.
#[derive(Debug)]
struct Night {
    /// The home and borrowed inputs of each segment written again.
    written: Vec<BTreeSet<String>>,
    reused: usize,
    /// Segments that borrow rows from files of other groups.
    borrowing: usize,
}

/// Runs a night on `out`, then a full refresh of the same drop into a new output, and checks
/// that both published the same bytes.
fn night(drop: &Path, step: &str) -> Night {
    let manifest = run(drop, "out", &[]);
    let fresh = format!("fresh-{step}");
    let clean = run(drop, &fresh, &["--full-refresh"]);
    assert!(clean["segments"].as_array().unwrap().iter().all(|s| s["reused"] == false));
    assert_eq!(published_digest(&drop.join("out")), published_digest(&drop.join(&fresh)), "{step}");
    assert_eq!(manifest["segments"].as_array().unwrap().len(), clean["segments"].as_array().unwrap().len());
    assert_invariants(&drop.join("out"));
    let names = |segment: &serde_json::Value, key: &str| -> Vec<String> {
        segment[key].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    let segments = manifest["segments"].as_array().unwrap();
    Night {
        written: segments
            .iter()
            .filter(|s| s["reused"] == false)
            .map(|s| names(s, "inputs").into_iter().chain(names(s, "borrowed")).collect())
            .collect(),
        reused: segments.iter().filter(|s| s["reused"] == true).count(),
        borrowing: segments.iter().filter(|s| !s["borrowed"].as_array().unwrap().is_empty()).count(),
    }
}

/// The data lines of the first `count` samples of a CSV file, with its header.
fn samples_of(file: &Path, count: usize) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let mut ids: Vec<&str> = Vec::new();
    let mut picked = Vec::new();
    for line in lines {
        let id = line.split(',').next().unwrap();
        if !ids.contains(&id) {
            if ids.len() == count {
                break;
            }
            ids.push(id);
        }
        picked.push(line.to_string());
    }
    (header, picked)
}

/// `line` with its result (检验结果, the 18th column) replaced.
fn with_result(header: &str, line: &str, result: &str) -> String {
    let column = header.split(',').position(|c| c == "检验结果").unwrap();
    let mut cells: Vec<&str> = line.split(',').collect();
    cells[column] = result;
    cells.join(",")
}

fn mentions(night: &Night, file: &str) -> usize {
    night.written.iter().filter(|inputs| inputs.iter().any(|i| i.ends_with(file))).count()
}

#[test]
fn a_night_writes_only_the_segments_whose_inputs_changed_and_publishes_what_a_full_refresh_does() {
    let dir = tempfile::tempdir().unwrap();
    let drop = generate(dir.path());
    let food = drop.join("food");

    let first = night(&drop, "first");
    assert_eq!(first.reused, 0);
    let segments = first.written.len();
    assert!(segments > 20, "the drop is cut into {segments} segments");

    let unchanged = night(&drop, "unchanged");
    assert_eq!((unchanged.written.len(), unchanged.reused), (0, segments), "{unchanged:?}");

    // What the published output's manifest lists is checked before it is linked: a file gone
    // from the output, and a path that leads outside its table, are written again instead.
    let published = drop.join("out");
    let manifest_path = std::fs::canonicalize(published.join("_manifest.json")).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let first_file = manifest["segments"][0]["files"][0]["path"].as_str().unwrap().to_string();
    std::fs::remove_file(published.join(&first_file)).unwrap();
    manifest["segments"][1]["files"][0]["path"] = serde_json::json!("samples/../../../outside.parquet");
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let tampered = night(&drop, "tampered");
    assert_eq!((tampered.written.len(), tampered.reused), (2, segments - 2), "{tampered:?}");
    assert!(!dir.path().join("outside.parquet").exists());

    // One result of one file changes: that file's segment only.
    let path = food.join("food-007.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let (header, lines) = samples_of(&path, 1);
    let changed = text.replacen(&lines[0], &with_result(&header, &lines[0], "999"), 1);
    assert_ne!(changed, text);
    std::fs::write(&path, changed).unwrap();
    let edited = night(&drop, "edited");
    assert_eq!(edited.written.len(), 1, "{edited:?}");
    assert_eq!(mentions(&edited, "food-007.csv"), 1);

    // A correction of two samples of food-003 arrives: a later delivery, in a file of its own
    // group, lends its rows to the samples first delivered in food-003's segment.
    let (header, lines) = samples_of(&food.join("food-003.csv"), 2);
    let mut correction = vec![header.clone(), with_result(&header, &lines[0], "0.001")];
    correction.extend(lines[1..].iter().cloned());
    std::fs::write(food.join("food-003-更正.csv"), correction.join("\n") + "\n").unwrap();
    let corrected = night(&drop, "corrected");
    assert!(corrected.borrowing >= 1, "the correction lies in another group: {corrected:?}");
    assert!(corrected.written.len() <= 2, "{corrected:?}");
    assert_eq!(mentions(&corrected, "food-003-更正.csv"), corrected.written.len(), "{corrected:?}");
    assert!(corrected.reused >= segments - 2, "{corrected:?}");

    // An earlier delivery of two samples of food-010 turns up: their first delivery, and so
    // their segment, moves to the new file's group, and food-010's segment loses them.
    let (header, lines) = samples_of(&food.join("food-010.csv"), 2);
    std::fs::write(food.join("food-000.csv"), [header].into_iter().chain(lines).collect::<Vec<_>>().join("\n") + "\n")
        .unwrap();
    let earlier = night(&drop, "earlier");
    assert!(earlier.written.len() <= 2, "{earlier:?}");
    assert!(mentions(&earlier, "food-000.csv") >= 1 && mentions(&earlier, "food-010.csv") >= 1, "{earlier:?}");

    // A file renamed moves to another group; a file removed takes its rows with it.
    std::fs::rename(food.join("food-012.csv"), food.join("food-012-v2.csv")).unwrap();
    let renamed = night(&drop, "renamed");
    assert!(renamed.written.len() <= 2, "{renamed:?}");
    std::fs::remove_file(food.join("food-020.csv")).unwrap();
    let removed = night(&drop, "removed");
    assert!(removed.written.len() <= 1, "{removed:?}");
}
