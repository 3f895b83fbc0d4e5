//! `_manifest.json`: what a run read, wrote and how long it took.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use zhijian_ingest::TableWritten;
use zhijian_pipeline::Pipeline;
pub use zhijian_store::manifest::{FileEntry, Manifest, OutputEntry, SkippedEntry, Timing, Totals};

/// The manifest of a run that completed: its inputs, tables and timings (the segments,
/// retracted and skipped inputs are set by the caller).
#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    run_id: &str,
    pipeline: &Pipeline,
    as_of: NaiveDate,
    started_at: DateTime<Utc>,
    inputs_sha256: &str,
    files: &[FileEntry],
    written: &[TableWritten],
    staging_dir: &Path,
    timings: &[(&str, Duration, Option<u64>)],
) -> Manifest {
    let inputs: Vec<FileEntry> = files.to_vec();
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
        status: "success".to_string(),
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

/// The file an input comes from: its path, without the `#SHEET` of a worksheet.
fn file_of(report: &FileEntry) -> &str {
    match &report.sheet {
        Some(sheet) => {
            report.path.strip_suffix(sheet.as_str()).and_then(|p| p.strip_suffix('#')).unwrap_or(&report.path)
        }
        None => &report.path,
    }
}
