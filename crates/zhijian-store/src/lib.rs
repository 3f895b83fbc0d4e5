//! zhijian's datasets on disk.
//!
//! A dataset folder holds one subfolder per table. Partitioned tables are laid out Hive-style,
//! `samples/year=2013/part-00000.parquet`; the partition column is not stored in the files, so
//! polars, DuckDB and pyarrow add it from the path. Files are zstd-compressed, carry page
//! statistics and dictionary encoding, and the key/value metadata `zhijian.schema_version`
//! plus whatever the caller adds (never a timestamp: the same rows give the same bytes).
//!
//! A run writes into a [`Staging`] folder beside the outputs (its name starts with `.`, so
//! readers skip it) and [`Staging::publish`] renames each table into place. `_manifest.json`
//! and `_SUCCESS` are written last.
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
//! let staging = zhijian_store::Staging::create(dir.path(), "demo").unwrap();
//! let table = staging.table_dir("counts");
//! let written = zhijian_store::write_partition(&table, Some(2013), &schema, &[batch], &[]).unwrap();
//! assert_eq!(written.rows, 2);
//! staging.publish(&["counts"]).unwrap();
//! let back = zhijian_store::read_table(&dir.path().join("counts"), None).unwrap();
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
    /// Arrow failed to assemble a batch.
    #[error("arrow data for `{path}`: {source}")]
    Arrow {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: arrow_schema::ArrowError,
    },
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
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
    let mut metadata = vec![KeyValue::new(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string())];
    metadata.extend(extra_metadata.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())));
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_dictionary_enabled(true)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
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
    let reader = builder.build().map_err(parquet_err)?;
    reader.collect::<Result<Vec<_>, _>>().map_err(|source| StoreError::Arrow { path: path.to_path_buf(), source })
}

/// Reads every file of a table folder.
pub fn read_table(table_dir: &Path, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>, StoreError> {
    let mut out = Vec::new();
    for path in table_files(table_dir)? {
        out.extend(read_file(&path, columns)?);
    }
    Ok(out)
}

/// A run's private folder beside the outputs, published table by table.
#[derive(Debug)]
pub struct Staging {
    output: PathBuf,
    dir: PathBuf,
    run_id: String,
}

impl Staging {
    /// Creates `<output>/.staging-<run_id>`, removing leftovers of earlier killed runs.
    pub fn create(output: &Path, run_id: &str) -> Result<Staging, StoreError> {
        fs::create_dir_all(output).map_err(io_err("cannot create output folder", output))?;
        let entries = fs::read_dir(output).map_err(io_err("cannot list", output))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".staging-") || name.starts_with(".trash-") {
                let path = entry.path();
                fs::remove_dir_all(&path).map_err(io_err("cannot remove leftover", &path))?;
            }
        }
        let dir = output.join(format!(".staging-{run_id}"));
        fs::create_dir_all(&dir).map_err(io_err("cannot create", &dir))?;
        Ok(Staging { output: output.to_path_buf(), dir, run_id: run_id.to_string() })
    }

    /// The staging folder of a table.
    pub fn table_dir(&self, table: &str) -> PathBuf {
        self.dir.join(table)
    }

    /// The final folder of a table.
    pub fn published_dir(&self, table: &str) -> PathBuf {
        self.output.join(table)
    }

    /// Moves each staged table into place: `_SUCCESS` is removed first, the old table is
    /// renamed aside, the new one renamed in, the old one deleted. Each table switches in one
    /// rename.
    pub fn publish(self, tables: &[&str]) -> Result<(), StoreError> {
        let success = self.output.join("_SUCCESS");
        if success.exists() {
            fs::remove_file(&success).map_err(io_err("cannot remove", &success))?;
        }
        let trash = self.output.join(format!(".trash-{}", self.run_id));
        fs::create_dir_all(&trash).map_err(io_err("cannot create", &trash))?;
        for table in tables {
            let staged = self.table_dir(table);
            let target = self.published_dir(table);
            if target.exists() {
                let aside = trash.join(table);
                fs::rename(&target, &aside).map_err(io_err("cannot move aside", &target))?;
            }
            fs::rename(&staged, &target).map_err(io_err("cannot publish", &target))?;
        }
        sync_dir(&self.output)?;
        fs::remove_dir_all(&trash).map_err(io_err("cannot remove", &trash))?;
        fs::remove_dir_all(&self.dir).map_err(io_err("cannot remove", &self.dir))?;
        Ok(())
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fs::write(&tmp, bytes).map_err(io_err("cannot write", &tmp))?;
    fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io_err("cannot sync", &tmp))?;
    fs::rename(&tmp, path).map_err(io_err("cannot rename into place", path))?;
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
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

    #[test]
    fn publishing_replaces_the_old_table_whole() {
        let dir = tempfile::tempdir().unwrap();
        let schema = zhijian_model::pass_rates_schema();
        for round in 0..2 {
            let staging = Staging::create(dir.path(), &format!("r{round}")).unwrap();
            let year = 2013 + round;
            write_partition(&staging.table_dir("pass_rates"), Some(year), &schema, &[], &[]).unwrap();
            staging.publish(&["pass_rates"]).unwrap();
        }
        let files = table_files(&dir.path().join("pass_rates")).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(partition_year(&files[0]), Some(2014));
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, ["pass_rates"]);
    }
}
