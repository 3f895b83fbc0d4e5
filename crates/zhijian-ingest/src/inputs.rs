//! Reading every source's files into the cache: listing them, hashing and sniffing each, and
//! (unless its cache entry is used) decoding, parsing, normalising and judging its records a
//! chunk at a time, in parallel over files and over each file's chunks.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use zhijian_pipeline::{Format, Pipeline, SheetSelection};
use zhijian_seeds::Seeds;

use crate::cache::{self, CACHE_FORMAT, EntryHead, FileCache, PartHead, rows_path};
use crate::normalise::{Context, FileNormaliser};
use crate::parse::VocabularyIndex;
use crate::read::{self, ColumnIndex, HeaderSearch, ReadError};
use crate::seen::SeenFiles;
use crate::skipped::{RowSkipper, TotalsWords};
use crate::{FileEntry, IngestError, Listing, decode, excel, list_source, panic_message, spill};

/// Records normalised together, in parallel; also the unit the rows of a file are written in.
const CHUNK_RECORDS: usize = 4 * 1024;

/// One input file after reading: its report and where its rows are.
#[derive(Debug)]
pub(crate) struct ReadFile {
    pub(crate) report: FileEntry,
    key: String,
    pub(crate) rows_path: PathBuf,
    pub(crate) columns: std::sync::Arc<ColumnIndex>,
    pub(crate) rows: spill::RowsIndex,
}

impl ReadFile {
    /// The name of its rows file in the cache: its entry's key and part, so everything its
    /// rows depend on.
    pub(crate) fn entry_name(&self) -> String {
        self.rows_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }
}

/// Every source's files, read and normalised into the cache; [`crate::write_tables`] assembles and
/// writes them.
#[derive(Debug)]
pub struct ReadInputs {
    pub(crate) sources: Vec<Vec<ReadFile>>,
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
    /// counts are known only after [`crate::write_tables`], which returns the completed reports.
    pub fn files(&self) -> impl Iterator<Item = &FileEntry> {
        self.sources.iter().flatten().map(|f| &f.report)
    }

    /// What the sources' patterns matched but was not read (symbolic links), in source order.
    pub fn skipped(&self) -> &[SkippedFile] {
        &self.skipped
    }

    /// The cache keys of the files read, for [`crate::prune_cache`].
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
    let seen = SeenFiles::load(&cache.dir, cache.read);
    // The files of all sources at once, so a drop of a few large files still keeps every
    // core busy; each file's records are normalised in parallel chunks as well.
    let read: Vec<(usize, FileRead)> = files
        .par_iter()
        .map(|(index, path)| {
            // The last-resort boundary: a bug reached by some input stops the run with the
            // file named (exit 2), never an abort with a backtrace and no file.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read_file(pipeline, &contexts[*index], path, cache, &seen)
            }))
            .map_err(|panic| IngestError::Panic { path: path.clone(), message: panic_message(&*panic) })??;
            report(Progress::FileDone { rows: read.parts.iter().map(|part| part.report.rows_read).sum() });
            Ok((*index, read))
        })
        .collect::<Result<_, IngestError>>()?;
    seen.save(&cache.dir);
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
    seen: &SeenFiles,
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
    let name = pipeline.relative_name(path);
    let key_of = |sha256: &str| {
        let mut hasher = Sha256::new();
        for part in [CACHE_FORMAT, cache.fingerprint.as_str(), &format!("{source:?}"), &name, sha256] {
            hasher.update(part.as_bytes());
            hasher.update(b"\0");
        }
        hex(&hasher.finalize())
    };
    let done = |head: EntryHead, cached: bool, key: &str, sha256: &str, size: u64| {
        let parts = head
            .parts
            .into_iter()
            .enumerate()
            .map(|(index, part)| ReadFile {
                report: FileEntry {
                    source: source.name.clone(),
                    path: part.sheet.as_ref().map_or_else(|| name.clone(), |sheet| sheet_input_name(&name, sheet)),
                    sheet: part.sheet,
                    header_line: part.header_line,
                    sha256: sha256.to_string(),
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
                key: key.to_string(),
                rows_path: rows_path(&cache.dir, key, index),
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

    // A file not written since the last run hashed it is not read again, when its entry can
    // be used (see the `seen` module).
    let (stat, stat_at) = SeenFiles::stat(path);
    if cache.read
        && let Some(sha256) = seen.hash_of(path, stat.as_ref())
        && let Some(stat) = stat
    {
        let key = key_of(sha256);
        if let Some(head) = cache::usable_entry(cache, &key, &name) {
            tracing::debug!(file = %name, "not written since the last run: not read");
            seen.record(path, Some(stat), stat_at, sha256);
            return Ok(done(head, true, &key, sha256, stat.size));
        }
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
    seen.record(path, stat, stat_at, &sha256);
    let key = key_of(&sha256);
    if cache.read
        && let Some(head) = cache::usable_entry(cache, &key, &name)
    {
        return Ok(done(head, true, &key, &sha256, size));
    }

    let parse = Parse { context, path, name: &name, key: &key, cache_dir: &cache.dir };
    let head = match input {
        Input::Text { scanned, delimiter } => parse.csv(scanned, delimiter)?,
        Input::Workbook { bytes, kind, selection } => parse.workbook(&bytes, kind, selection)?,
    };
    let head_path = cache.dir.join(format!("{key}.head"));
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
    Ok(done(head, false, &key, &sha256, size))
}

/// What parsing one input file needs besides its contents.
struct Parse<'p, 'c> {
    context: &'p Context<'c>,
    path: &'p Path,
    /// The input as outputs name it.
    name: &'p str,
    /// Its cache entry's key.
    key: &'p str,
    cache_dir: &'p Path,
}

impl Parse<'_, '_> {
    fn table_error(&self, source: ReadError) -> IngestError {
        IngestError::Table { path: self.path.to_path_buf(), source }
    }

    fn decode_error(&self, source: decode::DecodeError) -> IngestError {
        IngestError::Decode { path: self.path.to_path_buf(), source }
    }

    /// A CSV file, streamed: decoded as its second pass reads it, its records normalised and
    /// cached a chunk at a time.
    fn csv(&self, scanned: Scanned, delimiter: u8) -> Result<EntryHead, IngestError> {
        let (context, path, source) = (self.context, self.path, self.context.source);
        let words = TotalsWords::new(&source.vocabulary.totals);
        let header = HeaderSearch::of(source);
        let header_rows = source.format.header().1;
        let decode_error = |error| self.decode_error(error);
        let table_error = |error| self.table_error(error);
        let plan = scanned.sniff.plan(source.encoding).map_err(decode_error)?;
        let file = std::fs::File::open(path).map_err(|source| IngestError::Io { path: path.to_path_buf(), source })?;
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
        let normaliser = FileNormaliser::new(context, columns.clone(), self.name.to_string(), false);
        let mut rows = spill::FrameWriter::create(&rows_path(self.cache_dir, self.key, 0))?;
        let mut skipper = RowSkipper::new(&words);
        let mut count = 0u64;
        // The next chunk is parsed while this one is normalised and written: parsing is
        // sequential, and would otherwise leave the other cores idle on a large file.
        let mut chunk = reader.next_chunk(CHUNK_RECORDS).map_err(table_error)?;
        while !chunk.is_empty() {
            let records = skipper.data(chunk, &columns);
            count += records.len() as u64;
            let (next, written) =
                rayon::join(|| reader.next_chunk(CHUNK_RECORDS), || write_records(&mut rows, &normaliser, &records));
            written?;
            chunk = next.map_err(table_error)?;
        }
        let (rows_totals, skipped_rows) = skipper.finish(reader.blank_runs());
        let replacements = counts.check(encoding, ratio).map_err(decode_error)?;
        if stamp(path)? != scanned.stamp {
            return Err(IngestError::Changed { path: path.to_path_buf() });
        }
        tracing::debug!(file = %path.display(), encoding, replacements, "decoded");
        let part = PartHead {
            sheet: None,
            header_line: table.header_line,
            rows_read: count,
            rows_blank: reader.blank_records(),
            rows_totals,
            skipped_rows,
            columns,
            rows: rows.finish()?,
        };
        let encoding = encoding.to_string();
        Ok(EntryHead {
            encoding,
            replacements: replacements as u64,
            parts: vec![part],
            skipped_sheets: Vec::new(),
            checked_in_boot: cache::current_boot().map(str::to_string),
        })
    }

    /// A workbook: each worksheet read (one, or several with `sheet = "*"` or a list) is a
    /// table of its own; the worksheets passed over are listed.
    fn workbook(
        &self,
        bytes: &[u8],
        kind: zhijian_pipeline::ExcelKind,
        selection: &SheetSelection,
    ) -> Result<EntryHead, IngestError> {
        let (context, source) = (self.context, self.context.source);
        let words = TotalsWords::new(&source.vocabulary.totals);
        let header = HeaderSearch::of(source);
        let header_rows = source.format.header().1;
        let table_error = |error| self.table_error(error);
        let name = self.name;
        let mut parts: Vec<PartHead> = Vec::new();
        let mut skipped_sheets: Vec<(String, String)> = Vec::new();
        let mut workbook = excel::Workbook::open(bytes, &source.limits).map_err(table_error)?;
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
            let input = if several { sheet_input_name(name, &sheet) } else { name.to_string() };
            let normaliser = FileNormaliser::new(context, columns.clone(), input, table.date1904);
            let mut rows = spill::FrameWriter::create(&rows_path(self.cache_dir, self.key, parts.len()))?;
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
        Ok(EntryHead {
            encoding: encoding.to_string(),
            replacements: 0,
            parts,
            skipped_sheets,
            checked_in_boot: cache::current_boot().map(str::to_string),
        })
    }
}

/// Normalises `records` on every core and writes their frames as one chunk.
fn write_records(
    rows: &mut spill::FrameWriter,
    normaliser: &FileNormaliser<'_>,
    records: &[read::RawRecord],
) -> Result<(), IngestError> {
    let frames: Vec<spill::Frame> =
        records.par_iter().map(|record| rows.frame(&normaliser.normalise(record))).collect::<Result<_, _>>()?;
    rows.write_chunk(&frames)
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

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
