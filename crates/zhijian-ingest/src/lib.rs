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
//! [`FileReport`] counts both per input. Rows that are no records — blank rows and totals rows
//! (合计, 本页小计) inside the data — are skipped, counted and listed ([`skipped`]), outside
//! `rows_read`. A workbook read on several worksheets (`sheet = "*"` or a list) gives one input
//! per worksheet read, named `FILE#SHEET` in `source_file` and in the manifest.
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
pub mod groups;
pub mod judge;
mod listing;
pub mod normalise;
pub mod parse;
pub mod read;
pub mod skipped;
mod spill;
pub mod tables;
#[cfg(test)]
mod testing;

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use zhijian_pipeline::{Format, Pipeline, SheetSelection, Source};
use zhijian_seeds::Seeds;
use zhijian_store::{Staging, StoreError, WrittenFile, YearWriter};

pub use crate::listing::{Listing, list_source, source_files};
pub use crate::skipped::{SkippedKind, SkippedRows};

use crate::assemble::{FileRows, assemble};
use crate::decode::DecodeError;
use crate::normalise::{Context, FileNormaliser};
use crate::parse::VocabularyIndex;
use crate::read::{ColumnIndex, HeaderSearch, ReadError};
use crate::skipped::{RowSkipper, TotalsWords};
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
    /// Two files of a source would be shown under one name (names that are not UTF-8 are
    /// written with `\xNN` escapes, which a real name can spell too).
    #[error(
        "source `{source_name}`: `{}` and `{}` would both be named `{name}` in the outputs; rename one of them",
        first.display(),
        second.display()
    )]
    NameClash {
        /// The source.
        source_name: String,
        /// The first file.
        first: PathBuf,
        /// The second.
        second: PathBuf,
        /// The name they share.
        name: String,
    },
    /// A worksheet read on its own would be named as another input of the source: `FILE#SHEET`
    /// of a workbook, and a file called so.
    #[error(
        "source `{source_name}`: two inputs would both be named `{name}` in the outputs (a worksheet is named `FILE#SHEET`); rename one of them"
    )]
    InputNameClash {
        /// The source.
        source_name: String,
        /// The name they share.
        name: String,
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
    /// Reading a file hit a bug in zhijian (a panic); caught, so the run stops with the file
    /// named instead of aborting.
    #[error("`{}`: internal error while reading this file, please report it with the file: {message}", path.display())]
    Panic {
        /// The file.
        path: PathBuf,
        /// The panic's message.
        message: String,
    },
    /// Building the Arrow batches failed (a bug: the schemas and builders disagree).
    #[error("building table `{table}`: {source}")]
    Arrow {
        /// The table.
        table: &'static str,
        /// Arrow's message.
        source: arrow_schema::ArrowError,
    },
}

/// What happened to one input: a file, or one worksheet of a workbook read on several
/// (`sheet = "*"` or a list), which is then an input of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The pipeline source.
    pub source: String,
    /// The input as `source_file` names it: the file, relative to the pipeline file's folder;
    /// for a worksheet of a workbook read on several, `FILE#SHEET` (`../drop/2013.xlsx#一季度`).
    pub path: String,
    /// The worksheet, when the source reads several (`path` is then `FILE#SHEET`).
    pub sheet: Option<String>,
    /// Line (worksheet row) of the header's first row, from 1: where `header_row = "auto"`
    /// found it.
    pub header_line: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// The encoding it was decoded with (`xlsx`, `xls` for workbooks).
    pub encoding: String,
    /// Undecodable characters replaced.
    pub replacements: u64,
    /// Data records read (blank and totals rows excluded).
    pub rows_read: u64,
    /// Records that became results.
    pub rows_accepted: u64,
    /// Records that went to rejects for an error.
    pub rows_rejected: u64,
    /// Records that a later delivery of their sample replaced (in rejects as
    /// `sample_redelivered`). rows_read = rows_accepted + rows_rejected + rows_superseded.
    pub rows_superseded: u64,
    /// Rows below the header with every cell empty (and empty lines), skipped; not in
    /// `rows_read`.
    pub rows_blank: u64,
    /// Totals and subtotal rows (合计, 本页小计), skipped; not in `rows_read` (see
    /// [`skipped`]).
    pub rows_totals: u64,
    /// Where the totals rows and the blank rows among the data were, in line order; at most
    /// [`skipped::MAX_LISTED`], the counts exact beyond it. Blank rows after the last row
    /// are counted in `rows_blank` only.
    pub skipped_rows: Vec<SkippedRows>,
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

/// What a cache entry holds besides its rows, in postcard's binary form (exact for every float,
/// unlike a JSON round trip). The rows are in further files, one per table read (the file's,
/// or each worksheet's), one frame per record.
#[derive(serde::Serialize, serde::Deserialize)]
struct EntryHead {
    encoding: String,
    replacements: u64,
    /// One per table read, in order.
    parts: Vec<PartHead>,
    /// Worksheets of a workbook that `sheet = "*"` did not read, with why.
    skipped_sheets: Vec<(String, String)>,
}

/// One table of a cache entry: a file's, or a worksheet's.
#[derive(serde::Serialize, serde::Deserialize)]
struct PartHead {
    sheet: Option<String>,
    header_line: u64,
    rows_read: u64,
    rows_blank: u64,
    rows_totals: u64,
    skipped_rows: Vec<SkippedRows>,
    columns: ColumnIndex,
    /// What the rows file must hold, checked before the entry is used, and where its
    /// partitions are.
    rows: spill::RowsIndex,
}

/// The rows file of part `index` of the cache entry `key`: `KEY.rows`, `KEY.1.rows`, …
/// ([`prune_cache`] keeps every file of a used key).
fn rows_path(dir: &Path, key: &str, index: usize) -> PathBuf {
    match index {
        0 => dir.join(format!("{key}.rows")),
        _ => dir.join(format!("{key}.{index}.rows")),
    }
}

/// One record's outcome as cached: an accepted row or its reject.
type Outcome = Result<normalise::Row, Box<normalise::Reject>>;

/// Removes the cache entries whose keys `used` does not hold, and any spill folder a killed
/// run left; returns how many. Only files named as zhijian names them are touched
/// ([`cache_file_key`]): anything else someone put in the folder stays, with a warning.
pub fn prune_cache(dir: &Path, used: &[String]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && name.starts_with(SPILL_PREFIX) {
            if std::fs::remove_dir_all(entry.path()).is_ok() {
                removed += 1;
            }
            continue;
        }
        match cache_file_key(&name) {
            Some(key) if !is_dir => {
                if !used.iter().any(|u| u == key) && std::fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                }
            }
            _ => tracing::warn!(
                path = %entry.path().display(),
                "not a file zhijian writes in its cache folder: left alone"
            ),
        }
    }
    removed
}

/// The key of a file named as zhijian names the files of a cache entry — `KEY.head`,
/// `KEY.rows`, `KEY.N.rows`, their temporaries `.KEY.head.tmp`, `KEY.tmp-PID` and
/// `KEY.N.tmp-PID`, with `KEY` 64 lowercase hex digits — else `None`.
pub fn cache_file_key(name: &str) -> Option<&str> {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (hidden, name) = match name.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, name),
    };
    let (key, rest) = name.split_at_checked(64)?;
    if !key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let rest = rest.strip_prefix('.')?;
    let ok = if hidden {
        rest == "head.tmp"
    } else {
        // A part number `N.` comes before `rows` and `tmp-PID` only.
        let (part, tail) = match rest.split_once('.') {
            Some((n, tail)) if digits(n) => (true, tail),
            _ => (false, rest),
        };
        (tail == "head" && !part) || tail == "rows" || tail.strip_prefix("tmp-").is_some_and(digits)
    };
    ok.then_some(key)
}

/// Folders of bucketed rows that a killed run of an earlier version left in the cache folder
/// (rows are no longer copied into buckets).
const SPILL_PREFIX: &str = ".spill-";

/// Records normalised together, in parallel; also the unit the rows of a file are written in.
const CHUNK_RECORDS: usize = 4 * 1024;

/// The layout of cache entries (see the `spill` module); part of every key, so entries of
/// another layout are never read.
const CACHE_FORMAT: &str = "zhijian-cache-6";

/// One input file after reading: its report and where its rows are.
#[derive(Debug)]
struct ReadFile {
    report: FileReport,
    key: String,
    rows_path: PathBuf,
    columns: std::sync::Arc<ColumnIndex>,
    rows: spill::RowsIndex,
}

/// Every source's files, read and normalised into the cache; [`write_tables`] assembles and
/// writes them.
#[derive(Debug)]
pub struct ReadInputs {
    sources: Vec<Vec<ReadFile>>,
    skipped: Vec<SkippedFile>,
}

/// A path a source's patterns matched that zhijian does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    /// The pipeline source.
    pub source: String,
    /// The path, relative to the pipeline file's folder.
    pub path: String,
    /// Why it was not read.
    pub reason: String,
}

impl ReadInputs {
    /// One report per input file, in source and path order. The accepted and rejected
    /// counts are known only after [`write_tables`], which returns the completed reports.
    pub fn files(&self) -> impl Iterator<Item = &FileReport> {
        self.sources.iter().flatten().map(|f| &f.report)
    }

    /// What the sources' patterns matched but was not read (symbolic links), in source order.
    pub fn skipped(&self) -> &[SkippedFile] {
        &self.skipped
    }

    /// The cache keys of the files read, for [`prune_cache`].
    pub fn cache_keys(&self) -> Vec<String> {
        self.sources.iter().flatten().map(|f| f.key.clone()).collect()
    }
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

/// Reads and normalises every file of every source of `pipeline` into the cache, reusing the
/// entries of unchanged files when `cache.read` allows. Files are read in parallel, and the
/// records of each in parallel chunks; no file's rows are kept in memory.
pub fn read_inputs(
    pipeline: &Pipeline,
    seeds: &Seeds,
    as_of: NaiveDate,
    cache: &FileCache,
    progress: Option<ProgressFn<'_>>,
) -> Result<ReadInputs, IngestError> {
    let report = |event| {
        if let Some(progress) = progress {
            progress(event);
        }
    };
    std::fs::create_dir_all(&cache.dir).map_err(|source| IngestError::Io { path: cache.dir.clone(), source })?;
    let mut contexts = Vec::with_capacity(pipeline.sources.len());
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for (index, source) in pipeline.sources.iter().enumerate() {
        let Listing { files: paths, skipped: links } = list_source(source)?;
        if paths.is_empty() {
            tracing::warn!(source = %source.name, patterns = ?source.files, "no input files match");
        }
        for (link, target) in links {
            let path = pipeline.relative_name(&link);
            tracing::warn!(
                source = %source.name, file = %path, target = %target.display(),
                "skipping a symbolic link in the drop folder: links are not followed; copy the file in instead"
            );
            skipped.push(SkippedFile {
                source: source.name.clone(),
                path,
                reason: format!("symbolic link to `{}`", target.display()),
            });
        }
        // The name is a file's identity in the outputs and the cache: two files of a source
        // must not share one.
        let mut names = std::collections::HashMap::new();
        for path in &paths {
            if let Some(first) = names.insert(pipeline.relative_name(path), path) {
                return Err(IngestError::NameClash {
                    source_name: source.name.clone(),
                    first: first.clone(),
                    second: path.clone(),
                    name: pipeline.relative_name(path),
                });
            }
        }
        contexts.push(Context { seeds, source, vocabulary: VocabularyIndex::new(&source.vocabulary), as_of });
        files.extend(paths.into_iter().map(|path| (index, path)));
    }
    report(Progress::Files(files.len() as u64));
    // The files of all sources at once, so a drop of a few large files still keeps every
    // core busy; each file's records are normalised in parallel chunks as well.
    let read: Vec<(usize, FileRead)> = files
        .par_iter()
        .map(|(index, path)| {
            // The last-resort boundary: a bug reached by some input stops the run with the
            // file named (exit 2), never an abort with a backtrace and no file.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read_file(pipeline, &contexts[*index], path, cache)
            }))
            .map_err(|panic| IngestError::Panic { path: path.clone(), message: panic_message(&*panic) })??;
            report(Progress::FileDone { rows: read.parts.iter().map(|part| part.report.rows_read).sum() });
            Ok((*index, read))
        })
        .collect::<Result<_, IngestError>>()?;
    let mut sources: Vec<Vec<ReadFile>> = pipeline.sources.iter().map(|_| Vec::new()).collect();
    for (index, file) in read {
        sources[index].extend(file.parts);
        skipped.extend(file.skipped_sheets);
    }
    // Links first, then worksheets passed over, each in source order.
    skipped.sort_by_key(|s| pipeline.sources.iter().position(|source| source.name == s.source));
    // A worksheet is named `FILE#SHEET`, which another file may be called.
    for (source, files) in pipeline.sources.iter().zip(&sources) {
        let mut names = std::collections::HashSet::new();
        if let Some(file) = files.iter().find(|f| !names.insert(f.report.path.as_str())) {
            return Err(IngestError::InputNameClash {
                source_name: source.name.clone(),
                name: file.report.path.clone(),
            });
        }
    }
    Ok(ReadInputs { sources, skipped })
}

/// One input file after reading: a table for each of its inputs (the file, or each worksheet
/// read), and the worksheets `sheet = "*"` passed over.
struct FileRead {
    parts: Vec<ReadFile>,
    skipped_sheets: Vec<SkippedFile>,
}

/// How a worksheet of a workbook read on several is named in the outputs: `FILE#SHEET`.
pub fn sheet_input_name(file: &str, sheet: &str) -> String {
    format!("{file}#{sheet}")
}

fn read_file(
    pipeline: &Pipeline,
    context: &Context<'_>,
    path: &Path,
    cache: &FileCache,
) -> Result<FileRead, IngestError> {
    let source = context.source;
    // Fault injection for the tests of the panic boundary; debug builds only.
    #[cfg(debug_assertions)]
    #[allow(clippy::panic)]
    if std::env::var_os("ZHIJIAN_TEST_PANIC_READING")
        .is_some_and(|name| path.file_name().is_some_and(|f| f == name.as_os_str()))
    {
        panic!("injected by ZHIJIAN_TEST_PANIC_READING");
    }
    // A CSV file is read twice, a block at a time — hashed and sniffed, then (when its cache
    // entry cannot be used) decoded and parsed — so it is never held whole; a workbook is read
    // whole (a zip is read from its end).
    let input = match &source.format {
        Format::Csv { delimiter, .. } => Input::Text { scanned: scan(path)?, delimiter: *delimiter },
        Format::Excel { kind, sheet, .. } => {
            Input::Workbook { bytes: read_stable(path)?, kind: *kind, selection: sheet }
        }
    };
    let (sha256, size) = match &input {
        Input::Text { scanned, .. } => (scanned.sha256.clone(), scanned.bytes),
        Input::Workbook { bytes, .. } => (hex(&Sha256::digest(bytes)), bytes.len() as u64),
    };
    let name = pipeline.relative_name(path);
    let key = {
        let mut hasher = Sha256::new();
        for part in [CACHE_FORMAT, cache.fingerprint.as_str(), &format!("{source:?}"), &name, &sha256] {
            hasher.update(part.as_bytes());
            hasher.update(b"\0");
        }
        hex(&hasher.finalize())
    };
    let head_path = cache.dir.join(format!("{key}.head"));
    let done = |head: EntryHead, cached: bool| {
        let parts = head
            .parts
            .into_iter()
            .enumerate()
            .map(|(index, part)| ReadFile {
                report: FileReport {
                    source: source.name.clone(),
                    path: part.sheet.as_ref().map_or_else(|| name.clone(), |sheet| sheet_input_name(&name, sheet)),
                    sheet: part.sheet,
                    header_line: part.header_line,
                    sha256: sha256.clone(),
                    bytes: size,
                    encoding: head.encoding.clone(),
                    replacements: head.replacements,
                    rows_read: part.rows_read,
                    rows_accepted: 0,
                    rows_rejected: 0,
                    rows_superseded: 0,
                    rows_blank: part.rows_blank,
                    rows_totals: part.rows_totals,
                    skipped_rows: part.skipped_rows,
                    cached,
                },
                key: key.clone(),
                rows_path: rows_path(&cache.dir, &key, index),
                columns: std::sync::Arc::new(part.columns),
                rows: part.rows,
            })
            .collect();
        let skipped_sheets = head
            .skipped_sheets
            .into_iter()
            .map(|(sheet, reason)| SkippedFile {
                source: source.name.clone(),
                path: sheet_input_name(&name, &sheet),
                reason: format!("worksheet without the mapped header: {reason}"),
            })
            .collect();
        FileRead { parts, skipped_sheets }
    };
    if cache.read
        && let Ok(bytes) = std::fs::read(&head_path)
    {
        match postcard::from_bytes::<EntryHead>(&bytes) {
            Ok(head) => {
                let verified = head.parts.iter().enumerate().try_for_each(|(index, part)| {
                    let rows = rows_path(&cache.dir, &key, index);
                    spill::verify(&rows, &part.rows).map_err(|why| (rows, why))
                });
                match verified {
                    Ok(()) => {
                        tracing::debug!(file = %name, "rows from the cache");
                        return Ok(done(head, true));
                    }
                    Err((rows, why)) => tracing::warn!(
                        file = %name, entry = %rows.display(), %why,
                        "a damaged cache entry (a crash or a full disk while it was written): parsing the file again"
                    ),
                }
            }
            Err(err) => tracing::warn!(
                file = %name, entry = %head_path.display(), %err,
                "an unreadable cache entry: parsing the file again"
            ),
        }
    }

    let table_error = |source| IngestError::Table { path: path.to_path_buf(), source };
    let words = TotalsWords::new(&source.vocabulary.totals);
    let header = HeaderSearch::of(source);
    let header_rows = source.format.header().1;
    let mut parts: Vec<PartHead> = Vec::new();
    let mut skipped_sheets: Vec<(String, String)> = Vec::new();
    let (encoding, replacements) = match input {
        Input::Text { scanned, delimiter } => {
            let decode_error = |source| IngestError::Decode { path: path.to_path_buf(), source };
            let plan = scanned.sniff.plan(source.encoding).map_err(decode_error)?;
            let file =
                std::fs::File::open(path).map_err(|source| IngestError::Io { path: path.to_path_buf(), source })?;
            let stream = decode::TextStream::new(file, plan, decode::STREAM_BLOCK);
            let (encoding, counts) = (stream.encoding(), stream.counts());
            let ratio = source.max_replacement_ratio;
            // Text that is no table because it was decoded with the wrong encoding says so.
            let table_error = |error| match counts.check(encoding, ratio) {
                Err(undecodable) => decode_error(undecodable),
                Ok(_) => table_error(error),
            };
            let mut reader =
                read::TableReader::open_source(Box::new(stream), delimiter, header, header_rows, &source.limits)
                    .map_err(table_error)?;
            let table = reader.header();
            let columns = ColumnIndex::for_source(&table, source).map_err(table_error)?;
            let normaliser = FileNormaliser::new(context, columns.clone(), name.clone(), false);
            let mut rows = spill::FrameWriter::create(&rows_path(&cache.dir, &key, 0))?;
            let mut skipper = RowSkipper::new(&words);
            let mut count = 0u64;
            // The next chunk is parsed while this one is normalised and written: parsing is
            // sequential, and would otherwise leave the other cores idle on a large file.
            let mut chunk = reader.next_chunk(CHUNK_RECORDS).map_err(table_error)?;
            while !chunk.is_empty() {
                let records = skipper.data(chunk, &columns);
                count += records.len() as u64;
                let (next, written) = rayon::join(
                    || reader.next_chunk(CHUNK_RECORDS),
                    || write_records(&mut rows, &normaliser, &records),
                );
                written?;
                chunk = next.map_err(table_error)?;
            }
            let (rows_totals, skipped_rows) = skipper.finish(reader.blank_runs());
            let replacements = counts.check(encoding, ratio).map_err(decode_error)?;
            if stamp(path)? != scanned.stamp {
                return Err(IngestError::Changed { path: path.to_path_buf() });
            }
            tracing::debug!(file = %path.display(), encoding, replacements, "decoded");
            parts.push(PartHead {
                sheet: None,
                header_line: table.header_line,
                rows_read: count,
                rows_blank: reader.blank_records(),
                rows_totals,
                skipped_rows,
                columns,
                rows: rows.finish()?,
            });
            (encoding.to_string(), replacements as u64)
        }
        Input::Workbook { bytes, kind, selection } => {
            let mut workbook = excel::Workbook::open(&bytes, &source.limits).map_err(table_error)?;
            let several = selection.several();
            for sheet in workbook.select(selection).map_err(table_error)? {
                let read = workbook.read_sheet(&sheet, header, header_rows).and_then(|table| {
                    let columns = ColumnIndex::for_source(&table, source)?;
                    Ok((table, columns))
                });
                let (mut table, columns) = match read {
                    Ok(read) => read,
                    // `"*"` reads the worksheets that have the mapped header and lists the others.
                    Err(
                        err @ (ReadError::NoHeader { .. }
                        | ReadError::HeaderNotFound { .. }
                        | ReadError::MissingColumns { .. }),
                    ) if *selection == SheetSelection::All => {
                        tracing::info!(file = %name, %sheet, reason = %err, "skipping a worksheet without the mapped header");
                        skipped_sheets.push((sheet, err.to_string()));
                        continue;
                    }
                    Err(err) if several => {
                        return Err(table_error(ReadError::InSheet { sheet, source: Box::new(err) }));
                    }
                    Err(err) => return Err(table_error(err)),
                };
                let input = if several { sheet_input_name(&name, &sheet) } else { name.clone() };
                let normaliser = FileNormaliser::new(context, columns.clone(), input, table.date1904);
                let mut rows = spill::FrameWriter::create(&rows_path(&cache.dir, &key, parts.len()))?;
                let mut skipper = RowSkipper::new(&words);
                let records = skipper.data(std::mem::take(&mut table.records), &columns);
                for chunk in records.chunks(CHUNK_RECORDS) {
                    write_records(&mut rows, &normaliser, chunk)?;
                }
                let (rows_totals, skipped_rows) = skipper.finish(&table.blank_runs);
                let count = records.len() as u64;
                parts.push(PartHead {
                    sheet: several.then_some(sheet),
                    header_line: table.header_line,
                    rows_read: count,
                    rows_blank: table.blank_records,
                    rows_totals,
                    skipped_rows,
                    columns,
                    rows: rows.finish()?,
                });
            }
            if parts.is_empty() {
                // Only `"*"` gets here: it passed over every worksheet.
                return Err(table_error(ReadError::NoSheetWithHeader { sheets: skipped_sheets }));
            }
            let encoding = match kind {
                zhijian_pipeline::ExcelKind::Xlsx => "xlsx",
                zhijian_pipeline::ExcelKind::Xls => "xls",
            };
            (encoding.to_string(), 0)
        }
    };
    let head = EntryHead { encoding, replacements, parts, skipped_sheets };
    let encoded = postcard::to_stdvec(&head)
        .map_err(|e| IngestError::Io { path: head_path.clone(), source: std::io::Error::other(e.to_string()) })?;
    zhijian_store::write_atomic(&head_path, &encoded).map_err(|source| IngestError::Io {
        path: head_path.clone(),
        source: std::io::Error::other(source.to_string()),
    })?;
    // The rename of the head is durable only once the folder is synced.
    std::fs::File::open(&cache.dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|source| IngestError::Io { path: cache.dir.clone(), source })?;
    Ok(done(head, false))
}

/// Normalises `records` on every core and writes their frames as one chunk.
fn write_records(
    rows: &mut spill::FrameWriter,
    normaliser: &FileNormaliser<'_>,
    records: &[read::RawRecord],
) -> Result<(), IngestError> {
    let frames: Vec<Vec<u8>> =
        records.par_iter().map(|record| rows.frame(&normaliser.normalise(record))).collect::<Result<_, _>>()?;
    rows.write_chunk(&frames)
}

/// The text a panic was raised with.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// An input as [`read_file`] first reads it.
enum Input<'s> {
    /// A CSV file, hashed and sniffed.
    Text { scanned: Scanned, delimiter: u8 },
    /// A workbook, whole.
    Workbook { bytes: Vec<u8>, kind: zhijian_pipeline::ExcelKind, selection: &'s SheetSelection },
}

/// A CSV file after its first pass.
struct Scanned {
    sha256: String,
    bytes: u64,
    sniff: decode::Sniff,
    stamp: Stamp,
}

/// Hashes and sniffs a file a block at a time, refusing one that changed meanwhile (an agency
/// still copying it in).
fn scan(path: &Path) -> Result<Scanned, IngestError> {
    use std::io::Read as _;
    let io = |source| IngestError::Io { path: path.to_path_buf(), source };
    let before = stamp(path)?;
    let mut file = std::fs::File::open(path).map_err(io)?;
    let (mut hasher, mut sniff) = (Sha256::new(), decode::Sniff::default());
    let mut block = vec![0u8; decode::STREAM_BLOCK];
    let mut bytes = 0u64;
    loop {
        let read = match file.read(&mut block) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        hasher.update(&block[..read]);
        sniff.update(&block[..read]);
        bytes += read as u64;
    }
    let after = stamp(path)?;
    if before != after || after.0 != bytes {
        return Err(IngestError::Changed { path: path.to_path_buf() });
    }
    Ok(Scanned { sha256: hex(&hasher.finalize()), bytes, sniff, stamp: after })
}

/// A file's size and modification time.
type Stamp = (u64, Option<std::time::SystemTime>);

/// A file's size and modification time, to tell whether it moved while it was read.
fn stamp(path: &Path) -> Result<Stamp, IngestError> {
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

/// What [`write_tables`] wrote, and every input's completed report.
#[derive(Debug)]
pub struct Written {
    /// `samples`, `results` and `rejects`.
    pub tables: Vec<TableWritten>,
    /// One report per input file, in source and path order, with its accepted, rejected and
    /// superseded rows.
    pub files: Vec<FileReport>,
}

/// Groups every source's rows into samples and writes `samples`, `results` (by year of
/// sampling) and `rejects` into the staging folder.
///
/// A source with more than `batch_rows` records is assembled in buckets of at most about that
/// many (a power of two of them): bucket `b` holds the rows whose sample id hashes into its
/// range of partitions, read straight from the files' cache entries (see the `spill` module),
/// so every row of a sample lands in the same bucket, and each bucket is assembled and
/// written before the next is read. Memory follows `batch_rows`, not the size of the input.
/// Within a bucket samples are sorted by key, results by sample, file and record, rejects by
/// file and record; the buckets follow one another in order.
pub fn write_tables(
    pipeline: &Pipeline,
    read: &ReadInputs,
    staging: &Staging,
    metadata: &[(String, String)],
    batch_rows: usize,
) -> Result<Written, IngestError> {
    let writer = |table: &str, schema: arrow_schema::SchemaRef, partitioned: bool| {
        YearWriter::new(&staging.table_dir(table), &schema, metadata, partitioned, batch_rows)
    };
    let mut writers = Writers {
        samples: writer("samples", zhijian_model::samples_schema(), true)?,
        results: writer("results", zhijian_model::results_schema(), true)?,
        rejects: writer("rejects", zhijian_model::rejects_schema(), false)?,
    };
    let mut reports: Vec<Vec<FileReport>> =
        read.sources.iter().map(|files| files.iter().map(|f| f.report.clone()).collect()).collect();

    // The work is a list of units in output order: a whole source, or one bucket of a large
    // one, read straight from the files' cache entries.
    let mut units = Vec::new();
    for (index, (source, files)) in pipeline.sources.iter().zip(&read.sources).enumerate() {
        let total: u64 = files.iter().map(|f| f.rows.frames).sum();
        let buckets = spill::buckets_for(total, batch_rows);
        if buckets > 1 {
            tracing::info!(source = %source.name, records = total, buckets, "assembling in buckets");
        }
        units.extend(
            (0..buckets).map(|bucket| Unit { source: index, partitions: spill::bucket_partitions(bucket, buckets) }),
        );
    }
    let build = |unit: &Unit| -> Result<Built, IngestError> {
        let (source, files) = (&pipeline.sources[unit.source], &read.sources[unit.source]);
        let rows = files
            .iter()
            .map(|file| {
                let outcomes =
                    spill::read_partitions(&file.rows_path, &file.rows, &file.columns, unit.partitions.clone())?;
                Ok(FileRows { file: file.report.path.clone(), outcomes })
            })
            .collect::<Result<Vec<_>, IngestError>>()?;
        Built::new(unit.source, source, assemble(source.programme, source.layout, rows))
    };

    // A window of units (one per thread) is assembled and turned into Arrow batches in
    // parallel while the window before it is encoded and written, in unit order, so the
    // output does not depend on the threads. At most two windows are held.
    let window = rayon::current_num_threads().max(1);
    let mut pending: Vec<Built> = Vec::new();
    for chunk in units.chunks(window) {
        let ready = std::mem::take(&mut pending);
        let (written, built) = rayon::join(
            || ready.into_iter().try_for_each(|built| built.write(&mut writers, &mut reports)),
            || chunk.par_iter().map(build).collect::<Result<Vec<_>, _>>(),
        );
        written?;
        pending = built?;
    }
    pending.into_iter().try_for_each(|built| built.write(&mut writers, &mut reports))?;

    let files: Vec<FileReport> = reports.into_iter().flatten().collect();
    for report in &files {
        tracing::info!(
            file = %report.path, encoding = %report.encoding, cached = report.cached, read = report.rows_read,
            accepted = report.rows_accepted, rejected = report.rows_rejected,
            superseded = report.rows_superseded, "ingested"
        );
    }
    Ok(Written {
        tables: vec![
            TableWritten { table: "samples", files: writers.samples.finish()? },
            TableWritten { table: "results", files: writers.results.finish()? },
            TableWritten { table: "rejects", files: writers.rejects.finish()? },
        ],
        files,
    })
}

/// The three tables [`write_tables`] appends to.
struct Writers {
    samples: YearWriter,
    results: YearWriter,
    rejects: YearWriter,
}

/// A piece of [`write_tables`]' work: a source's rows, or one bucket of them (the partitions
/// of its files' rows it holds).
struct Unit {
    source: usize,
    partitions: std::ops::Range<u16>,
}

/// A unit assembled, sorted and turned into Arrow batches, with its rows counted per file.
struct Built {
    source: usize,
    samples: Vec<(i32, arrow_array::RecordBatch)>,
    results: Vec<(i32, arrow_array::RecordBatch)>,
    rejects: Vec<arrow_array::RecordBatch>,
    /// (accepted, rejected, superseded) per file.
    counts: std::collections::HashMap<String, (u64, u64, u64)>,
}

impl Built {
    /// Within a unit samples are sorted by key, results by sample, file and record, rejects by
    /// file and record; each table's rows are cut by year of sampling.
    fn new(index: usize, source: &Source, assembled: assemble::Assembled) -> Result<Built, IngestError> {
        let arrow = |table| move |source| IngestError::Arrow { table, source };
        let mut counts: std::collections::HashMap<String, (u64, u64, u64)> = std::collections::HashMap::new();
        for reject in &assembled.rejects {
            let entry = counts.entry(reject.file.clone()).or_default();
            if reject.rule == zhijian_model::Rule::SampleRedelivered {
                entry.2 += 1;
            } else {
                entry.1 += 1;
            }
        }
        for (file, accepted) in &assembled.accepted {
            counts.entry(file.clone()).or_default().0 += accepted;
        }
        // Sorted by reference: the records are large, and moving them costs more than the sort.
        let mut samples: Vec<&assemble::SampleRecord> = assembled.samples.iter().collect();
        samples.sort_by(|a, b| a.sample_key.cmp(&b.sample_key));
        let mut results: Vec<&assemble::ResultRecord> = assembled.results.iter().collect();
        results.sort_by(|a, b| {
            (&a.sample_key, &a.source_file, a.source_record).cmp(&(&b.sample_key, &b.source_file, b.source_record))
        });
        let samples = by_year(
            samples,
            |s| s.fields.sampling_date.year(),
            |rows| tables::samples_batch(rows).map_err(arrow("samples")),
        )?;
        let results =
            by_year(results, |r| r.sampling_date.year(), |rows| tables::results_batch(rows).map_err(arrow("results")))?;
        let sourced: Vec<SourcedReject> = assembled
            .rejects
            .into_iter()
            .map(|reject| SourcedReject { source: source.name.clone(), programme: source.programme.as_str(), reject })
            .collect();
        let rejects = sourced
            .chunks(zhijian_store::ROW_GROUP_ROWS)
            .map(|chunk| tables::rejects_batch(chunk).map_err(arrow("rejects")))
            .collect::<Result<_, _>>()?;
        Ok(Built { source: index, samples, results, rejects, counts })
    }

    /// Appends the batches to the tables and the counts to the source's file reports.
    fn write(self, writers: &mut Writers, reports: &mut [Vec<FileReport>]) -> Result<(), IngestError> {
        for (year, batch) in &self.samples {
            writers.samples.write(Some(*year), batch)?;
        }
        for (year, batch) in &self.results {
            writers.results.write(Some(*year), batch)?;
        }
        for batch in &self.rejects {
            writers.rejects.write(None, batch)?;
        }
        for report in &mut reports[self.source] {
            if let Some((accepted, rejected, superseded)) = self.counts.get(&report.path) {
                report.rows_accepted += accepted;
                report.rows_rejected += rejected;
                report.rows_superseded += superseded;
            }
        }
        Ok(())
    }
}

/// Rows grouped by year (in order of year, each keeping the rows' order) and turned into
/// batches of at most a row group each.
fn by_year<T, E>(
    rows: Vec<&T>,
    year: impl Fn(&T) -> i32,
    batch: impl Fn(&[&T]) -> Result<arrow_array::RecordBatch, E>,
) -> Result<Vec<(i32, arrow_array::RecordBatch)>, E> {
    let mut years: std::collections::BTreeMap<i32, Vec<&T>> = std::collections::BTreeMap::new();
    for row in rows {
        years.entry(year(row)).or_default().push(row);
    }
    let mut batches = Vec::new();
    for (year, rows) in years {
        for chunk in rows.chunks(zhijian_store::ROW_GROUP_ROWS) {
            batches.push((year, batch(chunk)?));
        }
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_pruned_of_its_own_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let (used, stale) = ("a".repeat(64), "b".repeat(64));
        let names = [
            format!("{used}.head"),
            format!("{used}.rows"),
            format!("{used}.1.rows"),
            format!("{stale}.head"),
            format!("{stale}.rows"),
            format!("{stale}.2.rows"),
            format!("{stale}.tmp-4242"),
            format!("{stale}.1.tmp-4242"),
            format!(".{stale}.head.tmp"),
            // Not zhijian's: left alone.
            "notes.txt".to_string(),
            format!("{}.head", "B".repeat(64)),
            format!("{stale}.csv"),
            format!("{stale}.head.bak"),
            format!(".{stale}.rows"),
            "abc.head".to_string(),
        ];
        for name in &names {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join(format!("{SPILL_PREFIX}123"))).unwrap();
        std::fs::create_dir(dir.path().join("photos")).unwrap();
        assert_eq!(prune_cache(dir.path(), std::slice::from_ref(&used)), 7);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        let mut want: Vec<String> = names[..3].iter().chain(&names[9..]).cloned().collect();
        want.push("photos".to_string());
        want.sort();
        assert_eq!(left, want);
    }

    #[test]
    fn a_file_still_being_written_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drop.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        assert_eq!(read_stable(&path).unwrap(), b"a,b\n1,2\n");
        // A writer appending from another thread while reads go on: every read is whole or
        // refused. It writes until a read has been refused (or ten seconds have passed), so
        // the test does not depend on the two threads' timing.
        let writer_path = path.clone();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer_stop = stop.clone();
        let writer = std::thread::spawn(move || {
            use std::io::Write as _;
            let mut file = std::fs::OpenOptions::new().append(true).open(&writer_path).unwrap();
            let start = std::time::Instant::now();
            while !writer_stop.load(std::sync::atomic::Ordering::Relaxed) && start.elapsed().as_secs() < 10 {
                file.write_all(b"3,4\n").unwrap();
            }
        });
        let mut refused = 0;
        while !writer.is_finished() {
            if refused > 0 {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
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
}
