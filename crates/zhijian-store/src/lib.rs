//! zhijian's datasets on disk.
//!
//! A dataset folder holds one subfolder per table. Partitioned tables are laid out Hive-style,
//! `samples/year=2013/part-00000.parquet`; the partition column is not stored in the files, so
//! polars, DuckDB and pyarrow add it from the path. Files are zstd-compressed, carry page
//! statistics and dictionary encoding, and the key/value metadata `zhijian.schema_version`
//! plus whatever the caller adds (never a timestamp: the same rows give the same bytes).
//!
//! A run writes the whole set — tables, `_manifest.json`, `_SUCCESS` — into a [`Staging`]
//! folder, and [`Staging::publish`] switches the output path (a symbolic link to one
//! generation) to it in one rename, so readers see the old set or the new one, never a mix.
//! [`check_output`] keeps zhijian from publishing over anything it did not write, and
//! [`RunLock`] keeps a second run from writing the same output meanwhile.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Int64Array, RecordBatch, StringArray};
//! use arrow_schema::{DataType, Field, Schema};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let schema = Arc::new(Schema::new(vec![Field::new("city", DataType::Utf8, false), Field::new("n", DataType::Int64, false)]));
//! let batch = RecordBatch::try_new(schema.clone(), vec![
//!     Arc::new(StringArray::from(vec!["410100", "410200"])),
//!     Arc::new(Int64Array::from(vec![3, 4])),
//! ]).unwrap();
//! let output = dir.path().join("out");
//! let staging = zhijian_store::Staging::create(&output, "demo").unwrap();
//! let table = staging.table_dir("counts");
//! let written = zhijian_store::write_partition(&table, Some(2013), &schema, &[batch], &[]).unwrap();
//! assert_eq!(written.rows, 2);
//! staging.publish().unwrap();
//! let back = zhijian_store::read_table(&output.join("counts"), None).unwrap();
//! assert_eq!(back.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use zhijian_model::{SCHEMA_VERSION, SCHEMA_VERSION_KEY};

mod lock;
pub mod manifest;
mod publish;

pub use lock::{LockError, RunLock, lock_path};
pub use publish::{OutputState, Staging, check_output, generations_dir, sibling_path};

/// Days since 1970-01-01: Arrow's `Date32`.
pub fn date32(date: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days() as i32
}

/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// An I/O or Parquet problem, naming the path.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file-system operation failed.
    #[error("{action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Parquet encoding or decoding failed.
    #[error("parquet file `{path}`: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: parquet::errors::ParquetError,
    },
    /// The output path, or one of its dot-siblings, holds something zhijian did not write;
    /// nothing was touched.
    #[error(
        "`{}` is not zhijian's to write: it is {found}; zhijian publishes only where nothing is, \
         into an empty folder, or over an output it wrote: move it away or choose another output path",
        path.display()
    )]
    NotOurs {
        /// The path.
        path: PathBuf,
        /// What is there.
        found: String,
    },
    /// A manifest that does not read as one.
    #[error("`{}` is not a zhijian manifest: {reason}", path.display())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// Arrow failed to assemble a batch.
    #[error("arrow data for `{path}`: {source}")]
    Arrow {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: arrow_schema::ArrowError,
    },
}

pub(crate) fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io { action, path: path.to_path_buf(), source }
}

/// What [`write_partition`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// The file, inside the staging folder.
    pub path: PathBuf,
    /// Rows in it.
    pub rows: u64,
}

/// The writer properties every zhijian file uses.
pub fn writer_properties(extra_metadata: &[(String, String)]) -> WriterProperties {
    writer_properties_with(extra_metadata, ROW_GROUP_ROWS)
}

/// [`writer_properties`] with row groups of at most `row_group_rows` rows: a writer holds one
/// row group in memory until it is full.
pub fn writer_properties_with(extra_metadata: &[(String, String)], row_group_rows: usize) -> WriterProperties {
    let mut metadata = vec![KeyValue::new(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string())];
    metadata.extend(extra_metadata.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())));
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_dictionary_enabled(true)
        .set_max_row_group_row_count(Some(row_group_rows.max(1)))
        .set_key_value_metadata(Some(metadata))
        .build()
}

/// Writes `batches` as one Parquet file into `table_dir` (under `year=YYYY/` when `year` is
/// given). Empty input writes a file with the schema and no rows, so every table can be read.
pub fn write_partition(
    table_dir: &Path,
    year: Option<i32>,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    extra_metadata: &[(String, String)],
) -> Result<WrittenFile, StoreError> {
    let dir = match year {
        Some(year) => table_dir.join(format!("year={year}")),
        None => table_dir.to_path_buf(),
    };
    fs::create_dir_all(&dir).map_err(io_err("cannot create folder", &dir))?;
    let path = dir.join("part-00000.parquet");
    let file = fs::File::create(&path).map_err(io_err("cannot create", &path))?;
    let parquet_err = |source| StoreError::Parquet { path: path.clone(), source };
    let mut writer =
        ArrowWriter::try_new(file, schema.clone(), Some(writer_properties(extra_metadata))).map_err(parquet_err)?;
    let mut rows = 0u64;
    for batch in batches {
        rows += batch.num_rows() as u64;
        writer.write(batch).map_err(parquet_err)?;
    }
    let file = writer.into_inner().map_err(parquet_err)?;
    file.sync_all().map_err(io_err("cannot sync", &path))?;
    Ok(WrittenFile { path, rows })
}

/// Writes a table batch by batch, by year (`year=YYYY/STEM-00000.parquet`, then `STEM-00001`
/// after [`ROW_GROUPS_PER_FILE`] row groups), so a table larger than memory streams through:
/// each open file buffers at most one row group and the metadata of a bounded number.
pub struct YearWriter {
    table_dir: PathBuf,
    stem: String,
    schema: SchemaRef,
    metadata: Vec<(String, String)>,
    row_group_rows: usize,
    open: std::collections::BTreeMap<Option<i32>, OpenPart>,
    done: Vec<(Option<i32>, WrittenFile)>,
}

/// A year's file being written: its path, writer, rows and part number.
struct OpenPart {
    path: PathBuf,
    writer: ArrowWriter<fs::File>,
    rows: u64,
    part: u32,
}

/// Row groups per file before a [`YearWriter`] starts the next part. A writer keeps every
/// row group's metadata until its file closes, so this bounds that memory however large the
/// table grows (as DuckDB's `ROW_GROUPS_PER_FILE`).
pub const ROW_GROUPS_PER_FILE: usize = 64;

impl std::fmt::Debug for YearWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YearWriter")
            .field("table_dir", &self.table_dir)
            .field("open", &self.open.iter().map(|(year, open)| (year, open.part)).collect::<Vec<_>>())
            .finish()
    }
}

impl YearWriter {
    /// A writer into `table_dir`, which is created at once so the table lists even when empty,
    /// of files named `STEM-NNNNN.parquet` (`stem` is `part` but where several writers share
    /// a table). Unless `partitioned`, all rows go to one file (`write` with `None`), written
    /// even when empty so the table can be read. Row groups hold at most `row_group_rows` rows
    /// (and at most [`ROW_GROUP_ROWS`]).
    pub fn new(
        table_dir: &Path,
        stem: &str,
        schema: &SchemaRef,
        extra_metadata: &[(String, String)],
        partitioned: bool,
        row_group_rows: usize,
    ) -> Result<Self, StoreError> {
        fs::create_dir_all(table_dir).map_err(io_err("cannot create folder", table_dir))?;
        let mut writer = YearWriter {
            table_dir: table_dir.to_path_buf(),
            stem: stem.to_string(),
            schema: schema.clone(),
            metadata: extra_metadata.to_vec(),
            row_group_rows: row_group_rows.clamp(1, ROW_GROUP_ROWS),
            open: std::collections::BTreeMap::new(),
            done: Vec::new(),
        };
        if !partitioned {
            writer.open_file(None, 0)?;
        }
        Ok(writer)
    }

    fn open_file(&mut self, year: Option<i32>, part: u32) -> Result<(), StoreError> {
        let dir = match year {
            Some(year) => self.table_dir.join(format!("year={year}")),
            None => self.table_dir.clone(),
        };
        fs::create_dir_all(&dir).map_err(io_err("cannot create folder", &dir))?;
        let path = dir.join(format!("{}-{part:05}.parquet", self.stem));
        let file = fs::File::create(&path).map_err(io_err("cannot create", &path))?;
        let properties = writer_properties_with(&self.metadata, self.row_group_rows);
        let writer = ArrowWriter::try_new(file, self.schema.clone(), Some(properties))
            .map_err(|source| StoreError::Parquet { path: path.clone(), source })?;
        self.open.insert(year, OpenPart { path, writer, rows: 0, part });
        Ok(())
    }

    /// Appends `batch` to the year's file (`None`: the table's one file).
    pub fn write(&mut self, year: Option<i32>, batch: &RecordBatch) -> Result<(), StoreError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if !self.open.contains_key(&year) {
            let part = self.done.iter().filter(|(y, _)| *y == year).count() as u32;
            self.open_file(year, part)?;
        }
        let full = match self.open.get_mut(&year) {
            Some(open) => {
                open.writer.write(batch).map_err(|source| StoreError::Parquet { path: open.path.clone(), source })?;
                open.rows += batch.num_rows() as u64;
                open.writer.flushed_row_groups().len() >= ROW_GROUPS_PER_FILE
            }
            None => false,
        };
        if full && let Some(open) = self.open.remove(&year) {
            self.done.push((year, close(open)?));
        }
        Ok(())
    }

    /// Closes and syncs every file; lists them in year and part order.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, StoreError> {
        for (year, open) in std::mem::take(&mut self.open) {
            self.done.push((year, close(open)?));
        }
        // Parts of a year were closed in order; a stable sort by year keeps that order.
        self.done.sort_by_key(|(year, _)| *year);
        Ok(self.done.into_iter().map(|(_, file)| file).collect())
    }
}

fn close(open: OpenPart) -> Result<WrittenFile, StoreError> {
    let OpenPart { path, writer, rows, .. } = open;
    let file = writer.into_inner().map_err(|source| StoreError::Parquet { path: path.clone(), source })?;
    file.sync_all().map_err(io_err("cannot sync", &path))?;
    Ok(WrittenFile { path, rows })
}

/// Writes `rows` as one file per year (`year_of` each row), building each year's batch with
/// `build`. The table folder is created even when there are no rows, so every table lists.
pub fn write_by_year<T, E>(
    table_dir: &Path,
    schema: &SchemaRef,
    rows: &[T],
    year_of: impl Fn(&T) -> i32,
    build: impl Fn(&[&T]) -> Result<RecordBatch, E>,
    extra_metadata: &[(String, String)],
) -> Result<Vec<WrittenFile>, E>
where
    E: From<StoreError>,
{
    let mut by_year: std::collections::BTreeMap<i32, Vec<&T>> = std::collections::BTreeMap::new();
    for row in rows {
        by_year.entry(year_of(row)).or_default().push(row);
    }
    fs::create_dir_all(table_dir).map_err(io_err("cannot create folder", table_dir))?;
    let mut files = Vec::with_capacity(by_year.len());
    for (year, rows) in by_year {
        let batch = build(&rows)?;
        files.push(write_partition(table_dir, Some(year), schema, &[batch], extra_metadata)?);
    }
    Ok(files)
}

/// Every Parquet file of a table folder, in path order, skipping hidden (`.`) and temporary
/// (`_`) entries.
pub fn table_files(table_dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    let mut stack = vec![table_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(io_err("cannot list", &dir))?;
        for entry in entries {
            let entry = entry.map_err(io_err("cannot list", &dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".parquet") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The partition year of a file from its `year=YYYY` folder, if it has one.
pub fn partition_year(path: &Path) -> Option<i32> {
    path.ancestors().filter_map(|p| p.file_name()?.to_str()?.strip_prefix("year=")?.parse().ok()).next()
}

/// Reads one Parquet file, keeping only `columns` when given.
pub fn read_file(path: &Path, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>, StoreError> {
    read_row_groups(path, columns, None)
}

/// The number of row groups of a Parquet file, the unit files are read in parallel by.
pub fn row_group_count(path: &Path) -> Result<usize, StoreError> {
    let file = fs::File::open(path).map_err(io_err("cannot open", path))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|source| StoreError::Parquet { path: path.to_path_buf(), source })?;
    Ok(builder.metadata().num_row_groups())
}

/// Reads some row groups of one Parquet file (all of them when `row_groups` is `None`),
/// keeping only `columns` when given.
pub fn read_row_groups(
    path: &Path,
    columns: Option<&[&str]>,
    row_groups: Option<Vec<usize>>,
) -> Result<Vec<RecordBatch>, StoreError> {
    row_group_batches(path, columns, row_groups)?.collect()
}

/// The batches of some row groups of one Parquet file (all of them when `row_groups` is
/// `None`), keeping only `columns` when given, read as they are asked for: the file's footer
/// is parsed once and at most one batch is held at a time.
pub fn row_group_batches(
    path: &Path,
    columns: Option<&[&str]>,
    row_groups: Option<Vec<usize>>,
) -> Result<impl Iterator<Item = Result<RecordBatch, StoreError>>, StoreError> {
    let file = fs::File::open(path).map_err(io_err("cannot open", path))?;
    let parquet_err = |source| StoreError::Parquet { path: path.to_path_buf(), source };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
    let builder = match columns {
        Some(columns) => {
            let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
            builder.with_projection(mask)
        }
        None => builder,
    };
    let builder = match row_groups {
        Some(groups) => builder.with_row_groups(groups),
        None => builder,
    };
    let reader = builder.build().map_err(parquet_err)?;
    let path = path.to_path_buf();
    Ok(reader.map(move |batch| batch.map_err(|source| StoreError::Arrow { path: path.clone(), source })))
}

/// Which rows [`read_file_matching`] keeps: those matching any of the alternatives, each a
/// list of text columns and the values they must all equal.
pub type Matching<'a> = &'a [&'a [(&'a str, &'a str)]];

/// Reads the rows of one Parquet file that `matching` keeps, `columns` only. The columns the
/// alternatives name are decoded first and the others only for the rows kept (a Parquet row
/// filter), so a few failing rows of a large table cost little more than their filter column.
/// A column the file lacks matches nothing.
pub fn read_file_matching(
    path: &Path,
    columns: &[&str],
    matching: Matching<'_>,
) -> Result<Vec<RecordBatch>, StoreError> {
    use arrow_array::Array as _;
    use arrow_array::cast::AsArray;
    let file = fs::File::open(path).map_err(io_err("cannot open", path))?;
    let parquet_err = |source| StoreError::Parquet { path: path.to_path_buf(), source };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
    let mut named: Vec<&str> = matching.iter().flat_map(|pairs| pairs.iter().map(|(column, _)| *column)).collect();
    named.sort_unstable();
    named.dedup();
    let filter_mask = ProjectionMask::columns(builder.parquet_schema(), named.iter().copied());
    let alternatives: Vec<Vec<(String, String)>> =
        matching.iter().map(|pairs| pairs.iter().map(|(c, v)| (c.to_string(), v.to_string())).collect()).collect();
    let predicate = parquet::arrow::arrow_reader::ArrowPredicateFn::new(filter_mask, move |batch: RecordBatch| {
        let keep = |row: usize| {
            alternatives.iter().any(|pairs| {
                pairs.iter().all(|(column, value)| {
                    batch
                        .column_by_name(column)
                        .and_then(|c| c.as_string_opt::<i32>())
                        .is_some_and(|c| !c.is_null(row) && c.value(row) == value)
                })
            })
        };
        Ok(arrow_array::BooleanArray::from_iter((0..batch.num_rows()).map(|row| Some(keep(row)))))
    });
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_row_filter(parquet::arrow::arrow_reader::RowFilter::new(vec![Box::new(predicate)]))
        .build()
        .map_err(parquet_err)?;
    reader.map(|batch| batch.map_err(|source| StoreError::Arrow { path: path.to_path_buf(), source })).collect()
}

/// Reads every file of a table folder.
pub fn read_table(table_dir: &Path, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>, StoreError> {
    let mut out = Vec::new();
    for path in table_files(table_dir)? {
        out.extend(read_file(&path, columns)?);
    }
    Ok(out)
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = temporary_path(path);
    fs::write(&tmp, bytes).map_err(io_err("cannot write", &tmp))?;
    fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io_err("cannot sync", &tmp))?;
    fs::rename(&tmp, path).map_err(io_err("cannot rename into place", path))?;
    Ok(())
}

/// Where a file is written before it is renamed to `path`: `.NAME.tmp` beside it. Every file
/// zhijian renames into place is written there, so readers (which pass over names starting
/// with `.`) never see it, and what a killed run leaves is recognised by its name.
pub fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    fs::File::open(dir).and_then(|f| f.sync_all()).map_err(io_err("cannot sync", dir))
}

/// Concatenates batches of one schema; an empty slice gives an empty batch.
pub fn concat(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    if batches.is_empty() {
        return Ok(RecordBatch::new_empty(Arc::clone(schema)));
    }
    arrow_select::concat::concat_batches(schema, batches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_year_comes_from_the_path() {
        assert_eq!(partition_year(Path::new("/o/samples/year=2013/part-00000.parquet")), Some(2013));
        assert_eq!(partition_year(Path::new("/o/rejects/part-00000.parquet")), None);
    }
}
