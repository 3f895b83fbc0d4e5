//! `_manifest.json`: what a run read, wrote and how long it took, as one type written by the
//! run and read back, by [`read_manifest`] only, by everything that needs it (the next run,
//! the checks, the report).

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// The manifest's file name in an output.
pub const MANIFEST_FILE: &str = "_manifest.json";

/// Reads the manifest of the output (or generation) folder `dir`. Fields later layouts added
/// read as empty from a manifest written before them.
pub fn read_manifest(dir: &Path) -> Result<Manifest, StoreError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).map_err(crate::io_err("cannot read", &path))?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Manifest { path, reason: e.to_string() })
}

/// The run manifest, written last (before `_SUCCESS`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Version of the manifest's own layout.
    pub manifest_version: u32,
    /// zhijian's version.
    pub zhijian_version: String,
    /// The tables' schema version.
    pub schema_version: String,
    /// `YYYYMMDDTHHMMSSZ-pid`.
    pub run_id: String,
    /// `success`: a manifest is only written by a run that completed.
    pub status: String,
    /// The pipeline file.
    pub pipeline: String,
    /// Its name.
    pub pipeline_name: String,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// When the run started (UTC).
    pub started_at: DateTime<Utc>,
    /// When it finished (UTC).
    pub finished_at: DateTime<Utc>,
    /// SHA-256 over every input's path and hash, in order.
    pub inputs_sha256: String,
    /// One entry per input file.
    pub inputs: Vec<FileEntry>,
    /// One entry per table.
    pub outputs: Vec<OutputEntry>,
    /// Sums over the inputs.
    pub totals: Totals,
    /// Duration of each stage, in order.
    pub timings: Vec<Timing>,
    /// The run ignored the cache of parsed files (`--full-refresh`).
    #[serde(default)]
    pub full_refresh: bool,
    /// Input files of the previous run that are gone: their rows are no longer in the tables.
    #[serde(default)]
    pub retracted: Vec<String>,
    /// Paths the sources' patterns matched that were not read: symbolic links, which zhijian
    /// does not follow in a drop folder.
    #[serde(default)]
    pub skipped: Vec<SkippedEntry>,
    /// How `samples`, `results` and `rejects` are cut: per source, one segment per group of its
    /// files, each with its own files, its fingerprint and whether this run wrote it or
    /// reused the previous run's (its inputs unchanged).
    #[serde(default)]
    pub segments: Vec<SegmentEntry>,
}

/// A path a source's patterns matched that was not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedEntry {
    /// Pipeline source.
    pub source: String,
    /// Path relative to the pipeline file's folder.
    pub path: String,
    /// Why it was not read (`symbolic link to `…``).
    pub reason: String,
}

/// How long a stage took, and the memory the run had needed by its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// load, ingest, write, aggregate, publish.
    pub stage: String,
    /// Milliseconds.
    pub ms: u128,
    /// The process's peak resident memory so far, in KiB (Linux's `VmHWM`; absent elsewhere):
    /// the peak of a stage is at most this, and more than the previous stage's figure when
    /// the stage raised it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_kib: Option<u64>,
}

/// One input: a file, or a worksheet of a workbook its source reads on several (`sheet = "*"`
/// or a list), which has an entry of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Pipeline source.
    pub source: String,
    /// Path relative to the pipeline file's folder, as `source_file` names it: for a worksheet
    /// of a workbook read on several, `FILE#SHEET` (`../drop/2013.xlsx#一季度`).
    pub path: String,
    /// The worksheet, for a workbook read on several; `null` otherwise.
    pub sheet: Option<String>,
    /// Line (worksheet row) of the header's first row, from 1: where `header_row = "auto"`
    /// found it.
    pub header_line: u64,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Size.
    pub bytes: u64,
    /// Encoding used.
    pub encoding: String,
    /// Undecodable characters replaced.
    pub replacements: u64,
    /// Data records read (blank and totals rows excluded: `rows_blank`, `rows_totals`).
    pub rows_read: u64,
    /// Records that became results.
    pub rows_accepted: u64,
    /// Records that went to rejects for an error.
    pub rows_rejected: u64,
    /// Records that a later delivery of their sample replaced (in rejects as
    /// `sample_redelivered`); rows_read = rows_accepted + rows_rejected + rows_superseded.
    pub rows_superseded: u64,
    /// Rows below the header with every cell empty (and empty lines), skipped; not part of
    /// `rows_read`.
    pub rows_blank: u64,
    /// Totals and subtotal rows (合计, 本页小计: no sample id, a totals word of the source's
    /// vocabulary), skipped; not part of `rows_read`.
    pub rows_totals: u64,
    /// Where the totals rows and the runs of blank rows among the data were, in line order:
    /// `first_line`, `last_line` (from 1), `kind` (`totals` or `blank`) and, for a totals row,
    /// its cells joined by `|` as `raw_record`. At most 1,000 per input (the counts stay
    /// exact); blank rows after the last row are only counted.
    pub skipped_rows: Vec<SkippedRows>,
    /// Its rows came from the cache: unchanged since a previous run, not parsed again.
    pub cached: bool,
}

/// One output table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputEntry {
    /// Table name.
    pub table: String,
    /// Rows in all its files.
    pub rows: u64,
    /// Its files, relative to the output folder.
    pub files: Vec<String>,
}

/// Sums over all inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Input files (a workbook read on several worksheets counts once).
    pub files: u64,
    /// Data records read.
    pub rows_read: u64,
    /// Records accepted.
    pub rows_accepted: u64,
    /// Records rejected for an error.
    pub rows_rejected: u64,
    /// Records replaced by a later delivery.
    pub rows_superseded: u64,
    /// Blank rows skipped.
    pub rows_blank: u64,
    /// Totals rows skipped.
    pub rows_totals: u64,
}

/// Rows of one input that were skipped, as the manifest lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRows {
    /// The first line (worksheet row) skipped, from 1.
    pub first_line: u64,
    /// The last, from 1: a run of blank rows spans several, a totals row one.
    pub last_line: u64,
    /// Why.
    pub kind: SkippedKind,
    /// A totals row's cells joined by `|` (at most 256 characters, then `…`); `None` for
    /// blank rows.
    pub raw_record: Option<String>,
}

/// Why rows were skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkippedKind {
    /// Every cell empty.
    Blank,
    /// A totals or subtotal row.
    Totals,
}

/// A segment as the manifest lists it, and as the next run finds it to reuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentEntry {
    /// The pipeline source.
    pub source: String,
    /// Its group, of `groups`.
    pub group: u32,
    /// The source's group count.
    pub groups: u32,
    /// SHA-256 of everything its files' bytes depend on: equal fingerprints, equal files.
    pub fingerprint: String,
    /// This run linked the files the previous run wrote, instead of writing them: none of its
    /// inputs changed.
    pub reused: bool,
    /// Its home files, in path order.
    pub inputs: Vec<String>,
    /// Files of other groups that deliver rows of its samples.
    pub borrowed: Vec<String>,
    /// Its Parquet files, in table and path order.
    pub files: Vec<SegmentFile>,
    /// Per input, the rows whose fate this segment decided.
    pub rows: Vec<SegmentRows>,
}

/// One Parquet file of a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentFile {
    /// The table.
    pub table: String,
    /// Relative to the output folder, with `/`.
    pub path: String,
    /// Rows in it.
    pub rows: u64,
    /// Its size.
    pub bytes: u64,
}

/// Rows of one input that a segment accepted, rejected or found superseded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRows {
    /// The input, as `source_file` names it.
    pub input: String,
    /// Rows that became results.
    pub accepted: u64,
    /// Rows rejected for an error.
    pub rejected: u64,
    /// Rows a later delivery replaced.
    pub superseded: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let at = DateTime::parse_from_rfc3339("2013-10-01T02:30:00Z").unwrap().with_timezone(&Utc);
        Manifest {
            manifest_version: 2,
            zhijian_version: "0.1.0".into(),
            schema_version: "4".into(),
            run_id: "20131001T023000Z-7".into(),
            status: "success".into(),
            pipeline: "pipelines/henan-2013.toml".into(),
            pipeline_name: "henan-2013".into(),
            as_of: NaiveDate::from_ymd_opt(2013, 9, 30).unwrap(),
            started_at: at,
            finished_at: at,
            inputs_sha256: "ab".into(),
            inputs: vec![FileEntry {
                source: "food".into(),
                path: "../drop/a.csv".into(),
                sheet: None,
                header_line: 1,
                sha256: "cd".into(),
                bytes: 10,
                encoding: "utf-8".into(),
                replacements: 0,
                rows_read: 3,
                rows_accepted: 2,
                rows_rejected: 1,
                rows_superseded: 0,
                rows_blank: 1,
                rows_totals: 0,
                skipped_rows: vec![SkippedRows {
                    first_line: 4,
                    last_line: 4,
                    kind: SkippedKind::Blank,
                    raw_record: None,
                }],
                cached: false,
            }],
            outputs: vec![OutputEntry { table: "samples".into(), rows: 2, files: vec!["samples/a.parquet".into()] }],
            totals: Totals {
                files: 1,
                rows_read: 3,
                rows_accepted: 2,
                rows_rejected: 1,
                rows_superseded: 0,
                rows_blank: 1,
                rows_totals: 0,
            },
            timings: vec![Timing { stage: "load".into(), ms: 3, peak_rss_kib: None }],
            full_refresh: false,
            retracted: Vec::new(),
            skipped: Vec::new(),
            segments: vec![SegmentEntry {
                source: "food".into(),
                group: 0,
                groups: 1,
                fingerprint: "ef".into(),
                reused: true,
                inputs: vec!["../drop/a.csv".into()],
                borrowed: Vec::new(),
                files: vec![SegmentFile {
                    table: "samples".into(),
                    path: "samples/a.parquet".into(),
                    rows: 2,
                    bytes: 100,
                }],
                rows: vec![SegmentRows { input: "../drop/a.csv".into(), accepted: 2, rejected: 1, superseded: 0 }],
            }],
        }
    }

    #[test]
    fn a_manifest_reads_back_as_written_and_an_older_one_without_the_later_fields() {
        let dir = tempfile::tempdir().unwrap();
        let written = manifest();
        std::fs::write(dir.path().join(MANIFEST_FILE), serde_json::to_vec_pretty(&written).unwrap()).unwrap();
        assert_eq!(read_manifest(dir.path()).unwrap(), written);
        // Version 1 had no segments (and, before it, no skipped or retracted inputs).
        let mut old = serde_json::to_value(&written).unwrap();
        for field in ["segments", "skipped", "retracted", "full_refresh"] {
            old.as_object_mut().unwrap().remove(field);
        }
        std::fs::write(dir.path().join(MANIFEST_FILE), serde_json::to_vec(&old).unwrap()).unwrap();
        let read = read_manifest(dir.path()).unwrap();
        assert!(read.segments.is_empty() && read.skipped.is_empty() && read.retracted.is_empty());
        assert_eq!(read.inputs, written.inputs);
        // Not a manifest: an error naming the file.
        std::fs::write(dir.path().join(MANIFEST_FILE), b"{\"run_id\": 7}").unwrap();
        let err = read_manifest(dir.path()).unwrap_err().to_string();
        assert!(err.contains(MANIFEST_FILE) && err.contains("not a zhijian manifest"), "{err}");
    }
}
