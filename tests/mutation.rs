//! Mutation tests: every bundled input file, damaged in deterministic ways — truncated, bytes
//! flipped, stray quotes and giant lines inserted, ranges deleted or repeated — and run through
//! `zhijian run`. Whatever the damage, the run exits 0, 1 or 2 (never a signal, never a panic,
//! caught or not), a run that exits 2 names the file it could not read, and a run that
//! publishes accounts for every row of every input: rows read = accepted + rejected +
//! superseded (checked by `common::zhijian_in` on every published run, and here per mutant).
//!
//! The mutants of one file kind are run together, one source of a small pipeline reading
//! them all; a run that exits 2 is split in halves until the file that stops it stands alone,
//! so a few hundred cases take a few dozen runs. Each mutant is named by its file, its number
//! and what was done to it, and the same seed gives the same bytes, so a failure can be
//! reproduced from its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{repo, rows, stderr, zhijian_in};

/// A bundled file kind: the source of `pipelines/henan-2013.toml` that reads it, and its files.
struct Kind {
    source: &'static str,
    files: &'static [&'static str],
    extension: &'static str,
    /// Text (CSV, TSV): many mutants, batched; workbooks: fewer, mostly unreadable.
    text: bool,
}

const KINDS: &[Kind] = &[
    Kind {
        source: "food-samr",
        files: &["sample-data/food/samr-export-2013H1.csv", "sample-data/food/samr-export-2013Q3.csv"],
        extension: "csv",
        text: true,
    },
    Kind {
        source: "livestock-monitoring",
        files: &["sample-data/livestock/xumu-jiance-2013.csv"],
        extension: "csv",
        text: true,
    },
    Kind {
        source: "livestock-screening-confirmation",
        files: &["sample-data/livestock/xumu-shaixuan-queren-2013.csv"],
        extension: "csv",
        text: true,
    },
    Kind {
        source: "consumer-risk-monitoring",
        files: &[
            "sample-data/consumer-products/fengxian-jiance-2013Q3.csv",
            "sample-data/consumer-products/fengxian-jiance-2013Q3-更正.csv",
        ],
        extension: "csv",
        text: true,
    },
    Kind {
        source: "net-content-checks",
        files: &["sample-data/net-content/jinghanliang-2013.txt"],
        extension: "txt",
        text: true,
    },
    Kind {
        source: "agri-products-routine",
        files: &[
            "sample-data/agri-products/routine-monitoring-2013.xlsx",
            "sample-data/agri-products/routine-monitoring-2013-更正.xlsx",
        ],
        extension: "xlsx",
        text: false,
    },
    Kind {
        source: "agri-inputs-spot-checks",
        files: &["sample-data/agri-inputs/nongzi-choucha-2013.xls"],
        extension: "xls",
        text: false,
    },
];

/// xorshift64*: deterministic, and enough to pick positions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One damaged copy of a bundled file.
struct Mutant {
    /// The file name it is run under: unique, with the kind's extension.
    name: String,
    /// What was done, for the failure message.
    what: String,
    bytes: Vec<u8>,
}

/// Positions just after a line break (where a line starts), and after a delimiter-like byte.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1).collect()
}

fn field_starts(bytes: &[u8]) -> Vec<usize> {
    bytes.iter().enumerate().filter(|(_, b)| matches!(**b, b',' | b'\t')).map(|(i, _)| i + 1).collect()
}

fn insert(bytes: &[u8], at: usize, what: &[u8]) -> Vec<u8> {
    [&bytes[..at], what, &bytes[at..]].concat()
}

/// The mutants of one file, `seed` choosing the positions.
fn mutants(file: &str, bytes: &[u8], text: bool, seed: u64) -> Vec<Mutant> {
    let mut rng = Rng(seed | 1);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let len = bytes.len();
    let lines = line_starts(bytes);
    let fields = field_starts(bytes);
    let pick = |rng: &mut Rng, positions: &[usize]| -> usize {
        if positions.is_empty() { rng.below(len) } else { positions[rng.below(positions.len())] }
    };
    let scale = usize::from(text);
    // Truncated: at the start, in the header, anywhere.
    for cut in [0, 1, 3, 64] {
        out.push((format!("truncated to {cut} bytes"), bytes[..cut.min(len)].to_vec()));
    }
    for _ in 0..6 {
        let cut = rng.below(len);
        out.push((format!("truncated to {cut} bytes"), bytes[..cut].to_vec()));
    }
    // Bytes flipped.
    for flips in [1, 1, 1, 4, 16] {
        for _ in 0..(1 + scale) {
            let mut copy = bytes.to_vec();
            let mut at = Vec::new();
            for _ in 0..flips {
                let i = rng.below(len);
                copy[i] ^= 1 << rng.below(8);
                at.push(i);
            }
            out.push((format!("bits flipped at {at:?}"), copy));
        }
    }
    // Ranges deleted and repeated.
    for _ in 0..(2 + 2 * scale) {
        let (a, b) = (rng.below(len), rng.below(len));
        let (a, b) = (a.min(b), a.max(b));
        out.push((format!("bytes {a}..{b} deleted"), [&bytes[..a], &bytes[b..]].concat()));
        let c = rng.below(len);
        out.push((format!("bytes {a}..{b} repeated at {c}"), insert(bytes, c, &bytes[a..b])));
    }
    // A giant line.
    let at = pick(&mut rng, &lines);
    out.push((
        format!("a line of 300,000 `x` inserted at {at}"),
        insert(bytes, at, &[b"x".repeat(300_000), b"\n".to_vec()].concat()),
    ));
    if text {
        // Stray quotes: anywhere, at a field's start (never closed, or closed by a later one),
        // and a quote opening a giant field.
        for _ in 0..8 {
            let at = rng.below(len);
            out.push((format!("a quote inserted at {at}"), insert(bytes, at, b"\"")));
        }
        for _ in 0..8 {
            let at = pick(&mut rng, &fields);
            out.push((format!("a quote inserted at the field start {at}"), insert(bytes, at, b"\"")));
        }
        for _ in 0..4 {
            let (a, b) = (pick(&mut rng, &fields), pick(&mut rng, &fields));
            let (a, b) = (a.min(b), a.max(b));
            let copy = insert(&insert(bytes, b, b"\""), a, b"\"");
            out.push((format!("quotes inserted at the field starts {a} and {b}"), copy));
        }
        let at = pick(&mut rng, &fields);
        out.push((
            format!("a quote and 300,000 bytes without one inserted at {at}"),
            insert(bytes, at, &[b"\"".to_vec(), "长".repeat(100_000).into_bytes()].concat()),
        ));
        let at = pick(&mut rng, &lines);
        out.push((
            format!("a record of 600,000 empty fields inserted at {at}"),
            insert(bytes, at, &[b",".repeat(1_200_000), b"\n".to_vec()].concat()),
        ));
        let at = pick(&mut rng, &lines);
        out.push((format!("a line of random bytes inserted at {at}"), {
            let noise: Vec<u8> = (0..200).map(|_| rng.next() as u8).collect();
            insert(bytes, at, &[noise, b"\n".to_vec()].concat())
        }));
        let at = rng.below(len);
        out.push((format!("a NUL byte inserted at {at}"), insert(bytes, at, b"\0")));
        out.push(("every line break a lone carriage return".to_string(), {
            let mut copy = Vec::with_capacity(len);
            for (i, b) in bytes.iter().enumerate() {
                match b {
                    b'\n' if i > 0 && bytes[i - 1] == b'\r' => {}
                    b'\n' => copy.push(b'\r'),
                    other => copy.push(*other),
                }
            }
            copy
        }));
    }
    let stem = Path::new(file).file_stem().unwrap().to_string_lossy().into_owned();
    let extension = Path::new(file).extension().unwrap().to_string_lossy().into_owned();
    out.into_iter()
        .enumerate()
        .map(|(i, (what, bytes))| Mutant { name: format!("{stem}~{i:03}.{extension}"), what, bytes })
        .collect()
}

/// The `[[sources]]` block of `source` in the bundled pipeline, reading `mutants/*.EXT`.
fn source_block(source: &str, extension: &str) -> String {
    let text = std::fs::read_to_string(repo().join("pipelines/henan-2013.toml")).unwrap();
    let start = text.find(&format!("[[sources]]\nname = \"{source}\"")).unwrap();
    let end = text[start + 1..].find("\n[[sources]]").map_or(text.len(), |i| start + 1 + i);
    let block = &text[start..end];
    let files = block.lines().find(|l| l.starts_with("files = ")).unwrap();
    block.replace(files, &format!("files = [\"mutants/*.{extension}\"]"))
}

/// What the runs found, per mutant name.
#[derive(Default)]
struct Outcomes {
    /// Mutant → exit code.
    exits: BTreeMap<String, i32>,
    runs: usize,
}

/// Runs the mutants in one folder; when the run exits 2 and holds several, splits them.
fn run_batch(work: &Path, kind: &Kind, batch: &[&Mutant], outcomes: &mut Outcomes) {
    outcomes.runs += 1;
    let dir = work.join(format!("run-{:04}", outcomes.runs));
    std::fs::create_dir_all(dir.join("mutants")).unwrap();
    let pipeline = format!(
        "[pipeline]\nname = \"mutation\"\nprovince = \"410000\"\nas_of = 2013-09-30\nseeds = \"../seeds\"\noutput = \"out\"\n\n{}",
        source_block(kind.source, kind.extension)
    );
    std::fs::write(dir.join("pipeline.toml"), pipeline).unwrap();
    for mutant in batch {
        std::fs::write(dir.join("mutants").join(&mutant.name), &mutant.bytes).unwrap();
    }
    let described = || batch.iter().map(|m| format!("{} ({})", m.name, m.what)).collect::<Vec<_>>().join("; ");
    let output = zhijian_in(&dir, &["run", "pipeline.toml", "--no-checks", "-q"]);
    let err = stderr(&output);
    let Some(code) = output.status.code() else {
        panic!("killed by a signal ({:?}) reading {}:\n{err}", output.status, described());
    };
    assert!(matches!(code, 0..=2), "exit {code} reading {}:\n{err}", described());
    // A panic is a bug even when a boundary catches it; only a workbook reader's (calamine,
    // zip) is the file's fault, and is then reported as an unreadable workbook.
    for line in err.lines().filter(|l| l.contains("internal error")) {
        assert!(line.contains("/calamine-") || line.contains("/zip-"), "a panic reading {}:\n{err}", described());
    }
    match code {
        0 | 1 => {
            let manifest: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join("out/_manifest.json")).unwrap()).unwrap();
            let inputs = manifest["inputs"].as_array().unwrap();
            for mutant in batch {
                let input = inputs
                    .iter()
                    .find(|i| i["path"].as_str().is_some_and(|p| p.ends_with(&mutant.name)))
                    .unwrap_or_else(|| panic!("{} ({}) is not in the manifest", mutant.name, mutant.what));
                let count = |key: &str| input[key].as_u64().unwrap();
                assert_eq!(
                    count("rows_read"),
                    count("rows_accepted") + count("rows_rejected") + count("rows_superseded"),
                    "{} ({}): rows read against accepted + rejected + superseded",
                    mutant.name,
                    mutant.what
                );
                outcomes.exits.insert(mutant.name.clone(), code);
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
        _ if batch.len() == 1 => {
            assert!(err.contains(&batch[0].name), "exit 2 without naming the file {}:\n{err}", described());
            outcomes.exits.insert(batch[0].name.clone(), 2);
            std::fs::remove_dir_all(&dir).unwrap();
        }
        _ => {
            std::fs::remove_dir_all(&dir).unwrap();
            let (left, right) = batch.split_at(batch.len() / 2);
            run_batch(work, kind, left, outcomes);
            run_batch(work, kind, right, outcomes);
        }
    }
}

fn work_dir() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    common::copy_dir(&repo().join("seeds"), &work.path().join("seeds"));
    work
}

fn check_kind(kind: &Kind, seed: u64) -> Outcomes {
    let work = work_dir();
    let mut all = Vec::new();
    for (index, file) in kind.files.iter().enumerate() {
        let bytes = std::fs::read(repo().join(file)).unwrap();
        all.extend(mutants(file, &bytes, kind.text, seed.wrapping_add(index as u64 * 7919)));
    }
    let mut outcomes = Outcomes::default();
    // Text mutants are read together in batches of about 16; workbooks' mostly stop the run,
    // so each is run alone.
    let size = if kind.text { 16 } else { 1 };
    let refs: Vec<&Mutant> = all.iter().collect();
    for batch in refs.chunks(size) {
        run_batch(work.path(), kind, batch, &mut outcomes);
    }
    assert_eq!(outcomes.exits.len(), all.len(), "every mutant ran");
    let read = outcomes.exits.values().filter(|c| **c != 2).count();
    eprintln!(
        "{}: {} mutants in {} runs, {} read and accounted for, {} refused with exit 2",
        kind.source,
        all.len(),
        outcomes.runs,
        read,
        all.len() - read
    );
    outcomes
}

#[test]
fn damaged_text_files_are_read_or_refused_never_a_crash() {
    let mut total = 0;
    for kind in KINDS.iter().filter(|k| k.text) {
        let outcomes = check_kind(kind, 0x5EED_0001);
        // Most damage leaves a text file readable: the damaged records go to rejects.
        let read = outcomes.exits.values().filter(|c| **c != 2).count();
        assert!(
            read * 2 > outcomes.exits.len(),
            "{}: only {read} of {} mutants read",
            kind.source,
            outcomes.exits.len()
        );
        total += outcomes.exits.len();
    }
    assert!(total >= 300, "{total} text mutants");
}

#[test]
fn damaged_workbooks_are_read_or_refused_never_a_crash() {
    let mut total = 0;
    for kind in KINDS.iter().filter(|k| !k.text) {
        total += check_kind(kind, 0x5EED_0002).exits.len();
    }
    assert!(total >= 50, "{total} workbook mutants");
}

/// A quote that opens a field and never closes costs that record, named by its line, and no
/// other: the rest of the file reads as before. Once, the quote's field swallowed every later
/// line, and the file read 9 records instead of 329.
#[test]
fn a_stray_quote_rejects_its_record_and_reading_resumes() {
    let work = work_dir();
    let original = std::fs::read_to_string(repo().join("sample-data/livestock/xumu-jiance-2013.csv")).unwrap();
    let kind = &KINDS[1];
    let lines: Vec<&str> = original.split_inclusive('\n').collect();
    // Line 10: a quote before its third field.
    let line = lines[9];
    let third = line.match_indices(',').nth(1).unwrap().0 + 1;
    let damaged = format!("{}{}\"{}{}", lines[..9].concat(), &line[..third], &line[third..], lines[10..].concat());

    let mut results = Vec::new();
    for (name, text) in [("original.csv", &original), ("damaged.csv", &damaged)] {
        let dir = work.path().join(name.trim_end_matches(".csv"));
        std::fs::create_dir_all(dir.join("mutants")).unwrap();
        let pipeline = format!(
            "[pipeline]\nname = \"quote\"\nprovince = \"410000\"\nas_of = 2013-09-30\nseeds = \"../seeds\"\noutput = \"out\"\n\n{}",
            source_block(kind.source, kind.extension)
        );
        std::fs::write(dir.join("pipeline.toml"), pipeline).unwrap();
        std::fs::write(dir.join("mutants").join(name), text).unwrap();
        let output = zhijian_in(&dir, &["run", "pipeline.toml", "--no-checks", "-q"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("out/_manifest.json")).unwrap()).unwrap();
        let input = manifest["inputs"][0].clone();
        results.push((input, rows(&dir.join("out/rejects"))));
    }
    let count = |input: &serde_json::Value, key: &str| input[key].as_u64().unwrap();
    let (before, after) = (&results[0], &results[1]);
    assert_eq!(count(&after.0, "rows_read"), count(&before.0, "rows_read"), "the damaged file reads as many records");
    let rejected_before = before.1.iter().any(|r| r["source_line"] == "10");
    assert_eq!(
        count(&after.0, "rows_rejected"),
        count(&before.0, "rows_rejected") + u64::from(!rejected_before),
        "line 10 is rejected, and no other line more than before"
    );
    let malformed: Vec<_> = after.1.iter().filter(|r| r["rule"] == "record_malformed").collect();
    assert_eq!(malformed.len(), 1, "{malformed:?}");
    let reject = malformed[0];
    assert_eq!(reject["source_line"], "10");
    assert_eq!(reject["severity"], "error");
    assert!(
        reject["message"].ends_with(
            "the quote that opens field 3 on line 10 is never closed; line 10 rejected, reading resumes on line 11"
        ),
        "{}",
        reject["message"]
    );
    assert_eq!(reject["raw_record"], line[..third].to_string() + "\"" + line[third..].trim_end());
    // Every other reject is as before.
    let others = |rejects: &[BTreeMap<String, String>]| -> Vec<(String, String)> {
        rejects
            .iter()
            .filter(|r| r["rule"] != "record_malformed" && r["source_line"] != "10")
            .map(|r| (r["source_line"].clone(), r["rule"].clone()))
            .collect()
    };
    assert_eq!(others(&after.1), others(&before.1));
}
