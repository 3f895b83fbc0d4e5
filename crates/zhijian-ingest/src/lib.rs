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
//!
//! The crate by stage: [`inputs`] finds and reads every source's files into the cache (hashing,
//! decoding, parsing, normalising and judging each record, a chunk at a time), with the
//! cache's layout in [`cache`]; [`write`] reads the rows back a bucket at a time, assembles
//! samples and writes the tables. [`error`] holds the errors that stop a run.

pub mod assemble;
mod cache;
pub mod decode;
mod error;
pub mod excel;
pub mod groups;
mod inputs;
pub mod judge;
mod listing;
pub mod normalise;
pub mod parse;
pub mod read;
mod seen;
mod segments;
pub mod skipped;
mod spill;
pub mod tables;
#[cfg(test)]
mod testing;
mod write;

pub use crate::cache::{FileCache, cache_file_key, prune_cache};
pub use crate::error::{IngestError, panic_message};
pub use crate::inputs::{Progress, ProgressFn, ReadInputs, SkippedFile, read_inputs, sheet_input_name};
pub use crate::listing::{Listing, list_source, source_files};
pub use crate::segments::PreviousOutput;
pub use crate::skipped::{SkippedKind, SkippedRows};
pub use crate::write::{TableWritten, Written, write_tables};
pub use zhijian_store::manifest::{SegmentEntry, SegmentFile, SegmentRows};

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

/// One record's outcome as read back from the cache: an accepted row or its reject, each boxed
/// so a bucket's list of them is small and moving one is cheap.
type Outcome = Result<Box<normalise::Row>, Box<normalise::Reject>>;
