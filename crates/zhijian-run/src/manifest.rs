//! `_manifest.json`: what a run read, wrote and how long it took.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use zhijian_ingest::{FileReport, TableWritten};
use zhijian_pipeline::Pipeline;

/// The run manifest, written last (before `_SUCCESS`).
#[derive(Debug, Clone, Serialize)]
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
    pub status: &'static str,
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
    pub full_refresh: bool,
    /// Input files of the previous run that are gone: their rows are no longer in the tables.
    pub retracted: Vec<String>,
    /// Paths the sources' patterns matched that were not read: symbolic links, which zhijian
    /// does not follow in a drop folder.
    pub skipped: Vec<SkippedEntry>,
    /// How `samples`, `results` and `rejects` are cut: per source, one segment per group of its
    /// files, each with its own files, its fingerprint and whether this run wrote it or
    /// reused the previous run's (its inputs unchanged).
    pub segments: Vec<zhijian_ingest::SegmentEntry>,
}

/// A path a source's patterns matched that was not read.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SkippedEntry {
    /// Pipeline source.
    pub source: String,
    /// Path relative to the pipeline file's folder.
    pub path: String,
    /// Why it was not read (`symbolic link to `…``).
    pub reason: String,
}

/// How long a stage took, and the memory the run had needed by its end.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
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
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
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
    pub skipped_rows: Vec<zhijian_ingest::SkippedRows>,
    /// Its rows came from the cache: unchanged since a previous run, not parsed again.
    pub cached: bool,
}

/// One output table.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OutputEntry {
    /// Table name.
    pub table: String,
    /// Rows in all its files.
    pub rows: u64,
    /// Its files, relative to the output folder.
    pub files: Vec<String>,
}

/// Sums over all inputs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
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

impl Manifest {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        run_id: &str,
        pipeline: &Pipeline,
        as_of: NaiveDate,
        started_at: DateTime<Utc>,
        inputs_sha256: &str,
        files: &[FileReport],
        written: &[TableWritten],
        staging_dir: &Path,
        timings: &[(&str, Duration, Option<u64>)],
    ) -> Manifest {
        let inputs: Vec<FileEntry> = files
            .iter()
            .map(|f| FileEntry {
                source: f.source.clone(),
                path: f.path.clone(),
                sheet: f.sheet.clone(),
                header_line: f.header_line,
                sha256: f.sha256.clone(),
                bytes: f.bytes,
                encoding: f.encoding.to_string(),
                replacements: f.replacements,
                rows_read: f.rows_read,
                rows_accepted: f.rows_accepted,
                rows_rejected: f.rows_rejected,
                rows_superseded: f.rows_superseded,
                rows_blank: f.rows_blank,
                rows_totals: f.rows_totals,
                skipped_rows: f.skipped_rows.clone(),
                cached: f.cached,
            })
            .collect();
        let outputs = written
            .iter()
            .map(|t| OutputEntry {
                table: t.table.to_string(),
                rows: t.rows(),
                files: t
                    .files
                    .iter()
                    .map(|f| {
                        let relative = f.path.strip_prefix(staging_dir).unwrap_or(&f.path);
                        relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
                    })
                    .collect(),
            })
            .collect();
        let files: std::collections::BTreeSet<(&str, &str)> =
            files.iter().map(|f| (f.source.as_str(), file_of(f))).collect();
        let totals = Totals {
            files: files.len() as u64,
            rows_read: inputs.iter().map(|f| f.rows_read).sum(),
            rows_accepted: inputs.iter().map(|f| f.rows_accepted).sum(),
            rows_rejected: inputs.iter().map(|f| f.rows_rejected).sum(),
            rows_superseded: inputs.iter().map(|f| f.rows_superseded).sum(),
            rows_blank: inputs.iter().map(|f| f.rows_blank).sum(),
            rows_totals: inputs.iter().map(|f| f.rows_totals).sum(),
        };
        Manifest {
            manifest_version: 2,
            zhijian_version: env!("CARGO_PKG_VERSION").to_string(),
            schema_version: zhijian_model::SCHEMA_VERSION.to_string(),
            run_id: run_id.to_string(),
            status: "success",
            pipeline: pipeline.path.to_string_lossy().into_owned(),
            pipeline_name: pipeline.name.clone(),
            as_of,
            started_at,
            finished_at: Utc::now(),
            inputs_sha256: inputs_sha256.to_string(),
            inputs,
            outputs,
            totals,
            timings: timings
                .iter()
                .map(|(stage, d, peak)| Timing { stage: stage.to_string(), ms: d.as_millis(), peak_rss_kib: *peak })
                .collect(),
            full_refresh: false,
            retracted: Vec::new(),
            skipped: Vec::new(),
            segments: Vec::new(),
        }
    }
}

/// The file an input comes from: its path, without the `#SHEET` of a worksheet.
fn file_of(report: &FileReport) -> &str {
    match &report.sheet {
        Some(sheet) => {
            report.path.strip_suffix(sheet.as_str()).and_then(|p| p.strip_suffix('#')).unwrap_or(&report.path)
        }
        None => &report.path,
    }
}
