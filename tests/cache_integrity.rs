//! The cache beside the output is checked before it is trusted: an entry torn by a power loss
//! (the first run of the next boot checks every entry whole), cut by a full disk or changed on
//! disk is parsed again with a warning, never read as fewer rows; an entry whose bytes change
//! within a boot fails the CRC of the rows read, stops the run naming it, and is parsed again
//! by the next. And a panic while reading a file stops the run with exit 2 naming the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{Sandbox, rows, stderr};

/// Every row of the tables a run publishes, to compare two runs.
fn tables(sandbox: &Sandbox) -> BTreeMap<&'static str, Vec<BTreeMap<String, String>>> {
    ["samples", "results", "rejects", "pass_rates"].into_iter().map(|t| (t, rows(&sandbox.output().join(t)))).collect()
}

fn run(sandbox: &Sandbox) -> String {
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stderr(&output)
}

/// A run as the first after a reboot (another boot id): it checks every cache entry whole.
fn run_after_reboot(sandbox: &Sandbox, boot: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_zhijian"))
        .args(["run", "pipelines/henan-2013.toml", "--no-checks"])
        .current_dir(sandbox.path())
        .env_remove("RUST_LOG")
        .env("ZHIJIAN_TEST_BOOT_ID", boot)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stderr(&output)
}

fn entries(sandbox: &Sandbox, ending: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(sandbox.path().join("out/.henan-2013.cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(ending))
        .collect();
    found.sort();
    found
}

/// Frame boundaries of a rows file: a frame is its payload length (u32 LE), a tag (u64 LE) and
/// the payload.
fn frame_ends(bytes: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 0;
    while at + 12 <= bytes.len() {
        let length = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 12 + length;
        ends.push(at);
    }
    ends
}

#[test]
fn damaged_cache_entries_are_parsed_again_and_lose_no_row() {
    let sandbox = Sandbox::new();
    run(&sandbox);
    let clean = tables(&sandbox);
    let rows_files = entries(&sandbox, ".rows");
    assert!(rows_files.len() >= 6, "{rows_files:?}");

    // Each way an entry breaks, on a different file: cut at a frame boundary (the case that
    // read as a clean end), cut inside a frame, emptied (an unsynced write lost to a power
    // cut), one byte flipped, the rows file gone, the head gone.
    type Damage = Box<dyn Fn(&PathBuf)>;
    let damage: Vec<(&str, Damage)> = vec![
        (
            "cut at a frame boundary",
            Box::new(|p| {
                let bytes = std::fs::read(p).unwrap();
                let ends = frame_ends(&bytes);
                // A boundary before the last frame: with two frames, after the first (the middle
                // one of `ends` would be the file's end, which cuts nothing).
                assert!(ends.len() >= 2, "{}: {} frame(s), none to cut off", p.display(), ends.len());
                std::fs::write(p, &bytes[..ends[(ends.len() - 1) / 2]]).unwrap();
            }),
        ),
        (
            "cut inside a frame",
            Box::new(|p| {
                let bytes = std::fs::read(p).unwrap();
                std::fs::write(p, &bytes[..bytes.len() - 3]).unwrap();
            }),
        ),
        ("emptied", Box::new(|p| std::fs::write(p, b"").unwrap())),
        (
            "a byte flipped",
            Box::new(|p| {
                let mut bytes = std::fs::read(p).unwrap();
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x20;
                std::fs::write(p, &bytes).unwrap();
            }),
        ),
        ("rows gone", Box::new(|p| std::fs::remove_file(p).unwrap())),
        ("head gone", Box::new(|p| std::fs::remove_file(p.with_extension("head")).unwrap())),
    ];
    for (round, ((what, break_it), path)) in damage.iter().zip(&rows_files).enumerate() {
        break_it(path);
        let log = run_after_reboot(&sandbox, &format!("boot-{round}"));
        assert_eq!(tables(&sandbox), clean, "after `{what}` of {}", path.display());
        if !what.ends_with("gone") {
            assert!(log.contains("damaged cache entry"), "`{what}` is reported:\n{log}");
        }
        // The entry was written again: the next run takes it from the cache.
        run_after_reboot(&sandbox, &format!("boot-{round}"));
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sandbox.output().join("_manifest.json")).unwrap()).unwrap();
        assert!(manifest["inputs"].as_array().unwrap().iter().all(|i| i["cached"] == true), "{what}");
    }
}

#[test]
fn an_entry_changed_within_a_boot_stops_the_run_naming_it_and_is_parsed_again_by_the_next() {
    let sandbox = Sandbox::new();
    run(&sandbox);
    let clean = tables(&sandbox);
    // Within the boot that wrote them, entries are checked by length: a byte changed in place
    // is caught by the CRC of the rows as they are read back.
    let rows_file = entries(&sandbox, ".rows").into_iter().max_by_key(|p| std::fs::metadata(p).unwrap().len()).unwrap();
    let mut bytes = std::fs::read(&rows_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&rows_file, &bytes).unwrap();
    // A run that can reuse what it published reads no entry: without the published output
    // (its link removed) a run reads them all.
    std::fs::remove_file(sandbox.output()).unwrap();
    let failed = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks"]);
    assert_eq!(failed.status.code(), Some(2), "{}", stderr(&failed));
    let name = rows_file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(stderr(&failed).contains(&name) && stderr(&failed).contains("CRC-32"), "{}", stderr(&failed));
    assert!(!sandbox.output().exists(), "nothing is published");
    let log = run(&sandbox);
    assert_eq!(tables(&sandbox), clean, "{log}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sandbox.output().join("_manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["inputs"].as_array().unwrap().iter().filter(|i| i["cached"] == false).count(), 1);
}

#[test]
fn a_panic_while_reading_a_file_exits_2_naming_it() {
    let sandbox = Sandbox::new();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_zhijian"))
        .args(["run", "pipelines/henan-2013.toml", "--no-checks"])
        .current_dir(sandbox.path())
        .env("ZHIJIAN_TEST_PANIC_READING", "samr-export-2013Q3.csv")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("samr-export-2013Q3.csv") && err.contains("internal error"), "{err}");
    assert!(!err.contains("stack backtrace") && !err.contains("RUST_BACKTRACE"), "{err}");
    assert!(!sandbox.output().exists(), "nothing is published");
}
