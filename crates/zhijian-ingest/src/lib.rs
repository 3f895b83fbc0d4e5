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
    /// A file changed while it was read: an agency was still writing it.
    #[error("`{}` changed while it was read (size or modification time moved); run again once it is complete", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
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
    /// The encoding it was decoded with (`xlsx`, `xls` for workbooks).
    pub encoding: String,
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
    /// Its rows came from the cache of an earlier run: the file was not read again.
    pub cached: bool,
}

/// Parsed files kept between runs, so a nightly run parses only new or changed files.
///
/// An entry holds one file's normalised rows and rejects, keyed by everything they depend on:
/// the file's bytes and name, the source's definition, and `fingerprint` (zhijian's version,
/// the as-of date, the seeds' bytes). Any change to those parses the file again. Entries are
/// written whole (a temporary file renamed into place), so a killed run leaves only complete
/// ones; [`prune_cache`] removes those the latest run did not use.
#[derive(Debug, Clone)]
pub struct FileCache {
    /// The folder of the entries.
    pub dir: PathBuf,
    /// Use entries (false for a full refresh, which still writes them).
    pub read: bool,
    /// What every entry depends on besides its file and source.
    pub fingerprint: String,
}

/// One cached file, in postcard's binary form: exact for every float, unlike a JSON round trip.
#[derive(serde::Serialize, serde::Deserialize)]
struct CacheEntry {
    encoding: String,
    replacements: u64,
    rows_read: u64,
    rows_blank: u64,
    columns: ColumnIndex,
    outcomes: Vec<Result<normalise::Row, Box<normalise::Reject>>>,
}

/// Removes the cache entries whose keys `used` does not hold; returns how many.
pub fn prune_cache(dir: &Path, used: &[String]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let key = name.strip_suffix(".bin").unwrap_or(&name);
        if !used.iter().any(|u| u == key) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
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
    /// The cache keys of the files read, for [`prune_cache`].
    pub cache_keys: Vec<String>,
}

/// What ingest reports as it goes, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A source is about to read this many files.
    Files(u64),
    /// A file was read (parsed, or taken from the cache), with its data rows.
    FileDone {
        /// Its data rows.
        rows: u64,
    },
}

/// A progress callback; called from several threads.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Sync);

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

/// Reads every source of `pipeline`, reusing the cached rows of unchanged files when `cache`
/// allows.
pub fn ingest(
    pipeline: &Pipeline,
    seeds: &Seeds,
    as_of: NaiveDate,
    cache: Option<&FileCache>,
    progress: Option<ProgressFn<'_>>,
) -> Result<Ingested, IngestError> {
    let mut out = Ingested::default();
    let report = |event| {
        if let Some(progress) = progress {
            progress(event);
        }
    };
    for source in &pipeline.sources {
        let files = source_files(source)?;
        if files.is_empty() {
            tracing::warn!(source = %source.name, patterns = ?source.files, "no input files match");
        }
        let context = Context { seeds, source, vocabulary: VocabularyIndex::new(&source.vocabulary), as_of };
        report(Progress::Files(files.len() as u64));
        let read: Vec<(FileRows, FileReport, String)> = files
            .par_iter()
            .map(|path| {
                let read = read_file(pipeline, &context, path, cache)?;
                report(Progress::FileDone { rows: read.1.rows_read });
                Ok(read)
            })
            .collect::<Result<_, IngestError>>()?;
        let mut reports = Vec::with_capacity(read.len());
        let mut rows = Vec::with_capacity(read.len());
        for (file_rows, report, key) in read {
            rows.push(file_rows);
            reports.push(report);
            out.cache_keys.push(key);
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
                file = %report.path, encoding = %report.encoding, cached = report.cached, read = report.rows_read,
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

fn read_file(
    pipeline: &Pipeline,
    context: &Context<'_>,
    path: &Path,
    cache: Option<&FileCache>,
) -> Result<(FileRows, FileReport, String), IngestError> {
    let source = context.source;
    let bytes = read_stable(path)?;
    let sha256 = hex(&Sha256::digest(&bytes));
    let name = pipeline.relative_name(path);
    let key = {
        let mut hasher = Sha256::new();
        for part in [cache.map_or("", |c| c.fingerprint.as_str()), &format!("{source:?}"), &name, &sha256] {
            hasher.update(part.as_bytes());
            hasher.update(b"\0");
        }
        hex(&hasher.finalize())
    };
    let report = |entry: &CacheEntry, cached: bool| FileReport {
        source: source.name.clone(),
        path: name.clone(),
        sha256: sha256.clone(),
        bytes: bytes.len() as u64,
        encoding: entry.encoding.clone(),
        replacements: entry.replacements,
        rows_read: entry.rows_read,
        rows_accepted: 0,
        rows_rejected: 0,
        rows_superseded: 0,
        rows_blank: entry.rows_blank,
        cached,
    };
    let entry_path = cache.map(|c| c.dir.join(format!("{key}.bin")));
    if let (Some(cache), Some(entry_path)) = (cache, &entry_path)
        && cache.read
        && let Ok(text) = std::fs::read(entry_path)
    {
        match postcard::from_bytes::<CacheEntry>(&text) {
            Ok(mut entry) => {
                let columns = std::sync::Arc::new(std::mem::take(&mut entry.columns));
                let outcomes = std::mem::take(&mut entry.outcomes)
                    .into_iter()
                    .map(|outcome| outcome.map(|row| normalise::Row { columns: columns.clone(), ..row }))
                    .collect();
                tracing::debug!(file = %name, "rows from the cache");
                return Ok((FileRows { file: name.clone(), outcomes }, report(&entry, true), key));
            }
            Err(err) => tracing::warn!(entry = %entry_path.display(), %err, "ignoring an unreadable cache entry"),
        }
    }

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
    let normaliser = FileNormaliser::new(context, columns.clone(), name.clone(), table.date1904);
    let entry = CacheEntry {
        encoding: encoding.to_string(),
        replacements,
        rows_read: table.records.len() as u64,
        rows_blank: table.blank_records,
        columns,
        outcomes: table.records.iter().map(|record| normaliser.normalise(record)).collect(),
    };
    if let (Some(cache), Some(entry_path)) = (cache, &entry_path) {
        // A failed write costs a re-parse next time, nothing else.
        let written = std::fs::create_dir_all(&cache.dir)
            .map_err(|e| e.to_string())
            .and_then(|_| postcard::to_stdvec(&entry).map_err(|e| e.to_string()))
            .and_then(|json| zhijian_store::write_atomic(entry_path, &json).map_err(|e| e.to_string()));
        if let Err(err) = written {
            tracing::warn!(entry = %entry_path.display(), %err, "cannot write a cache entry");
        }
    }
    let file_report = report(&entry, false);
    Ok((FileRows { file: name, outcomes: entry.outcomes }, file_report, key))
}

/// A file's size and modification time, to tell whether it moved while it was read.
fn stamp(path: &Path) -> Result<(u64, Option<std::time::SystemTime>), IngestError> {
    let meta = std::fs::metadata(path).map_err(|source| IngestError::Io { path: path.to_path_buf(), source })?;
    Ok((meta.len(), meta.modified().ok()))
}

/// Reads a whole file, refusing one that changed meanwhile (an agency still copying it in):
/// its rows could be torn.
fn read_stable(path: &Path) -> Result<Vec<u8>, IngestError> {
    let before = stamp(path)?;
    let bytes = std::fs::read(path).map_err(|source| IngestError::Io { path: path.to_path_buf(), source })?;
    let after = stamp(path)?;
    if before != after || after.0 != bytes.len() as u64 {
        return Err(IngestError::Changed { path: path.to_path_buf() });
    }
    Ok(bytes)
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
    fn a_file_still_being_written_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drop.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        assert_eq!(read_stable(&path).unwrap(), b"a,b\n1,2\n");
        // A writer appending from another thread while reads go on: every read is whole or refused.
        let writer_path = path.clone();
        let writer = std::thread::spawn(move || {
            use std::io::Write as _;
            let mut file = std::fs::OpenOptions::new().append(true).open(&writer_path).unwrap();
            for _ in 0..20_000 {
                file.write_all(b"3,4\n").unwrap();
            }
        });
        let mut refused = 0;
        while !writer.is_finished() {
            match read_stable(&path) {
                Ok(bytes) => assert!(bytes.ends_with(b"\n") && bytes.starts_with(b"a,b\n")),
                Err(IngestError::Changed { path: p }) => {
                    assert_eq!(p, path);
                    refused += 1;
                }
                Err(other) => panic!("{other}"),
            }
        }
        writer.join().unwrap();
        assert!(refused > 0, "no read overlapped a write");
    }

    #[test]
    fn literal_prefix_stops_at_the_first_wildcard() {
        assert_eq!(literal_prefix("p/../data/food/*.csv"), PathBuf::from("p/../data/food"));
        assert_eq!(literal_prefix("data/**/x.csv"), PathBuf::from("data"));
        assert_eq!(literal_prefix("x.csv"), PathBuf::new());
    }
}
