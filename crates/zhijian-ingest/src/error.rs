//! The errors that stop a run: an input that cannot be read at all, or a bug caught at the
//! boundary of a file.

use std::path::PathBuf;

use zhijian_store::StoreError;

use crate::decode::DecodeError;
use crate::read::ReadError;

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
    /// A cache entry's rows failed their check when read back (a disk that changed them); the
    /// entry is discarded, so the next run parses its file again.
    #[error(
        "the cache entry `{}` is damaged ({why}): it is discarded, and the next run parses its file again",
        path.display()
    )]
    CacheDamaged {
        /// The entry's rows file.
        path: PathBuf,
        /// What failed.
        why: String,
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

/// The text a panic was raised with.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}
