//! Reading agencies' files into zhijian's `samples`, `results` and `rejects` tables.
//!
//! For each source of a pipeline: find its files, decode them ([`decode`]: BOM, strict UTF-8,
//! GB18030) or open them as workbooks ([`excel`]: xlsx, xls), read the records and map the
//! header onto canonical fields ([`read`]), normalise
//! every record into a typed row or a located reject ([`normalise`]), group rows into samples
//! and apply the sample-level rules ([`assemble`]), and build Arrow batches ([`tables`]).
//! Files are processed in parallel with rayon; the output order is defined and does not depend
//! on thread timing.
//!
//! Every data record ends in exactly one place: a row of `results` or a row of `rejects`.
//! [`FileReport`] counts both per file.
//!
//! ```
//! use zhijian_ingest::parse::{VocabularyIndex, ParsedResult};
//! use zhijian_pipeline::Vocabulary;
//!
//! let words = VocabularyIndex::new(&Vocabulary::default());
//! assert_eq!(words.result("<0.01"), Some(ParsedResult::BelowLoq(0.01)));
//! assert_eq!(zhijian_ingest::parse::parse_date("2013年7月5日"), chrono::NaiveDate::from_ymd_opt(2013, 7, 5));
//! ```

pub mod assemble;
pub mod decode;
pub mod excel;
pub mod judge;
pub mod normalise;
pub mod parse;
pub mod read;
pub mod tables;

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use zhijian_pipeline::{Format, Pipeline, Source};
use zhijian_seeds::Seeds;
use zhijian_store::{Staging, StoreError, WrittenFile, write_by_year, write_partition};

use crate::assemble::{FileRows, ResultRecord, SampleRecord, assemble};
use crate::decode::{DecodeError, decode};
use crate::normalise::{Context, FileNormaliser};
use crate::parse::VocabularyIndex;
use crate::read::{ColumnIndex, ReadError, read_table};
use crate::tables::SourcedReject;

/// A problem that stops the run: the input cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A source's folder does not exist.
    #[error("source `{source_name}`: input folder `{folder}` does not exist (pattern `{pattern}`)")]
    MissingFolder {
        /// The source.
        source_name: String,
        /// Its pattern.
        pattern: String,
        /// The folder the pattern starts in.
        folder: PathBuf,
    },
    /// A glob pattern could not be listed.
    #[error("source `{source_name}`: cannot list `{pattern}`: {message}")]
    Glob {
        /// The source.
        source_name: String,
        /// Its pattern.
        pattern: String,
        /// What failed.
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file could not be decoded as text.
    #[error("`{}`: {source}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// Why.
        source: DecodeError,
    },
    /// A file's text is not a table the source describes.
    #[error("`{}`: {source}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// Why.
        source: ReadError,
    },
    /// Writing the tables failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Building the Arrow batches failed (a bug: the schemas and builders disagree).
    #[error("building table `{table}`: {source}")]
    Arrow {
        /// The table.
        table: &'static str,
        /// Arrow's message.
        source: arrow_schema::ArrowError,
    },
}

/// What happened to one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The pipeline source.
    pub source: String,
    /// The file, relative to the pipeline file's folder.
    pub path: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// The encoding it was decoded with.
    pub encoding: &'static str,
    /// Undecodable characters replaced.
    pub replacements: u64,
    /// Data records read (blank records excluded).
    pub rows_read: u64,
    /// Records that became results.
    pub rows_accepted: u64,
    /// Records that went to rejects for an error.
    pub rows_rejected: u64,
    /// Records that a later delivery of their sample replaced (in rejects as
    /// `sample_redelivered`). rows_read = rows_accepted + rows_rejected + rows_superseded.
    pub rows_superseded: u64,
    /// Records with every cell empty, skipped.
    pub rows_blank: u64,
}

/// Everything read from a pipeline's sources.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Samples of every source, sorted by key.
    pub samples: Vec<SampleRecord>,
    /// Results, sorted by sample key and file order.
    pub results: Vec<ResultRecord>,
    /// Rejects, by source, file and record.
    pub rejects: Vec<SourcedReject>,
    /// One report per input file, in source and path order.
    pub files: Vec<FileReport>,
}

/// Lists the files of a source: every pattern expanded, sorted, without duplicates. Fails when
/// the folder a pattern starts in does not exist.
pub fn source_files(source: &Source) -> Result<Vec<PathBuf>, IngestError> {
    let mut files = Vec::new();
    for pattern in &source.files {
        let folder = literal_prefix(pattern);
        if !folder.as_os_str().is_empty() && !folder.is_dir() {
            return Err(IngestError::MissingFolder {
                source_name: source.name.clone(),
                pattern: pattern.clone(),
                folder,
            });
        }
        let paths = glob::glob(pattern).map_err(|e| IngestError::Glob {
            source_name: source.name.clone(),
            pattern: pattern.clone(),
            message: e.to_string(),
        })?;
        for path in paths {
            let path = path.map_err(|e| IngestError::Glob {
                source_name: source.name.clone(),
                pattern: pattern.clone(),
                message: e.to_string(),
            })?;
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The folder part of a glob pattern before its first wildcard.
fn literal_prefix(pattern: &str) -> PathBuf {
    let mut prefix = PathBuf::new();
    let path = Path::new(pattern);
    let components: Vec<_> = path.components().collect();
    for (i, component) in components.iter().enumerate() {
        let text = component.as_os_str().to_string_lossy();
        if text.contains(['*', '?', '[']) || i + 1 == components.len() {
            break;
        }
        prefix.push(component);
    }
    prefix
}

/// Reads every source of `pipeline`.
pub fn ingest(pipeline: &Pipeline, seeds: &Seeds, as_of: NaiveDate) -> Result<Ingested, IngestError> {
    let mut out = Ingested::default();
    for source in &pipeline.sources {
        let files = source_files(source)?;
        if files.is_empty() {
            tracing::warn!(source = %source.name, patterns = ?source.files, "no input files match");
        }
        let context = Context { seeds, source, vocabulary: VocabularyIndex::new(&source.vocabulary), as_of };
        let read: Vec<(FileRows, FileReport)> =
            files.par_iter().map(|path| read_file(pipeline, &context, path)).collect::<Result<_, _>>()?;
        let mut reports = Vec::with_capacity(read.len());
        let mut rows = Vec::with_capacity(read.len());
        for (file_rows, report) in read {
            rows.push(file_rows);
            reports.push(report);
        }
        let assembled = assemble(source.programme, source.layout, rows);
        // One pass over the rejects, not one per file.
        let mut rejected: std::collections::HashMap<(&str, bool), u64> = std::collections::HashMap::new();
        for reject in &assembled.rejects {
            let superseded = reject.rule == zhijian_model::Rule::SampleRedelivered;
            *rejected.entry((reject.file.as_str(), superseded)).or_default() += 1;
        }
        for report in &mut reports {
            report.rows_rejected = rejected.get(&(report.path.as_str(), false)).copied().unwrap_or(0);
            report.rows_superseded = rejected.get(&(report.path.as_str(), true)).copied().unwrap_or(0);
            report.rows_accepted = assembled.accepted.get(report.path.as_str()).copied().unwrap_or(0);
            tracing::info!(
                file = %report.path, encoding = report.encoding, read = report.rows_read,
                accepted = report.rows_accepted, rejected = report.rows_rejected,
                superseded = report.rows_superseded, "ingested"
            );
        }
        out.samples.extend(assembled.samples);
        out.results.extend(assembled.results);
        out.rejects.extend(assembled.rejects.into_iter().map(|reject| SourcedReject {
            source: source.name.clone(),
            programme: source.programme.as_str(),
            reject,
        }));
        out.files.extend(reports);
    }
    out.samples.sort_by(|a, b| a.sample_key.cmp(&b.sample_key));
    out.results.sort_by(|a, b| {
        (&a.sample_key, &a.source_file, a.source_record).cmp(&(&b.sample_key, &b.source_file, b.source_record))
    });
    Ok(out)
}

fn read_file(pipeline: &Pipeline, context: &Context<'_>, path: &Path) -> Result<(FileRows, FileReport), IngestError> {
    let source = context.source;
    let bytes = std::fs::read(path).map_err(|source| IngestError::Io { path: path.to_path_buf(), source })?;
    let sha256 = hex(&Sha256::digest(&bytes));
    let table_error = |source| IngestError::Table { path: path.to_path_buf(), source };
    let (table, encoding, replacements) = match &source.format {
        Format::Csv { delimiter, header_row, header_rows } => {
            let decoded = decode(&bytes, source.encoding, source.max_replacement_ratio)
                .map_err(|source| IngestError::Decode { path: path.to_path_buf(), source })?;
            tracing::debug!(file = %path.display(), encoding = decoded.encoding, replacements = decoded.replacements, "decoded");
            let table = read_table(&decoded.text, *delimiter, *header_row, *header_rows).map_err(table_error)?;
            (table, decoded.encoding, decoded.replacements as u64)
        }
        Format::Excel { kind, sheet, header_row, header_rows } => {
            let table = excel::read_workbook(&bytes, sheet.as_ref(), *header_row, *header_rows).map_err(table_error)?;
            let encoding = match kind {
                zhijian_pipeline::ExcelKind::Xlsx => "xlsx",
                zhijian_pipeline::ExcelKind::Xls => "xls",
            };
            (table, encoding, 0)
        }
    };
    let columns = ColumnIndex::new(&table, &source.columns, &source.layout.required_fields()).map_err(table_error)?;
    let name = pipeline.relative_name(path);
    let normaliser = FileNormaliser::new(context, columns, name.clone(), table.date1904);
    let outcomes = table.records.iter().map(|record| normaliser.normalise(record)).collect();
    let report = FileReport {
        source: source.name.clone(),
        path: name.clone(),
        sha256,
        bytes: bytes.len() as u64,
        encoding,
        replacements,
        rows_read: table.records.len() as u64,
        rows_accepted: 0,
        rows_rejected: 0,
        rows_superseded: 0,
        rows_blank: table.blank_records,
    };
    Ok((FileRows { file: name, outcomes }, report))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Rows written per table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableWritten {
    /// The table.
    pub table: &'static str,
    /// Its files.
    pub files: Vec<WrittenFile>,
}

impl TableWritten {
    /// Rows in all its files.
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }
}

/// Writes `samples`, `results` (by year of sampling) and `rejects` into the staging folder.
pub fn write_tables(
    ingested: &Ingested,
    staging: &Staging,
    metadata: &[(String, String)],
) -> Result<Vec<TableWritten>, IngestError> {
    let arrow = |table| move |source| IngestError::Arrow { table, source };
    let samples = write_by_year(
        &staging.table_dir("samples"),
        &zhijian_model::samples_schema(),
        &ingested.samples,
        |s| s.fields.sampling_date.year(),
        |rows| tables::samples_batch(rows).map_err(arrow("samples")),
        metadata,
    )?;
    let results = write_by_year(
        &staging.table_dir("results"),
        &zhijian_model::results_schema(),
        &ingested.results,
        |r| r.sampling_date.year(),
        |rows| tables::results_batch(rows).map_err(arrow("results")),
        metadata,
    )?;
    let batch = tables::rejects_batch(&ingested.rejects).map_err(arrow("rejects"))?;
    let rejects = write_partition(&staging.table_dir("rejects"), None, &batch.schema(), &[batch], metadata)?;
    Ok(vec![
        TableWritten { table: "samples", files: samples },
        TableWritten { table: "results", files: results },
        TableWritten { table: "rejects", files: vec![rejects] },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_prefix_stops_at_the_first_wildcard() {
        assert_eq!(literal_prefix("p/../data/food/*.csv"), PathBuf::from("p/../data/food"));
        assert_eq!(literal_prefix("data/**/x.csv"), PathBuf::from("data"));
        assert_eq!(literal_prefix("x.csv"), PathBuf::new());
    }
}
