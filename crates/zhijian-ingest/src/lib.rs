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
//! [`FileEntry`] counts both per input. Rows that are no records — blank rows and totals rows
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
//! The crate by stage: `inputs` finds and reads every source's files into the cache (hashing,
//! decoding, parsing, normalising and judging each record, a chunk at a time; `seen` spares
//! the files not written since the last run), with the cache's layout in `cache` and `spill`;
//! `write` cuts each source's output into `segments`, links those whose inputs did not change
//! from the published output, and for the others reads the rows back a bucket at a time,
//! assembles samples and writes the tables. `error` holds the errors that stop a run.

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
/// What happened to one input (a file, or a worksheet of a workbook read on several): the
/// manifest's entry for it.
pub use zhijian_store::manifest::FileEntry;
pub use zhijian_store::manifest::{SegmentEntry, SegmentFile, SegmentRows};

/// One record's outcome as read back from the cache: an accepted row or its reject, each boxed
/// so a bucket's list of them is small and moving one is cheap.
type Outcome = Result<Box<normalise::Row>, Box<normalise::Reject>>;
