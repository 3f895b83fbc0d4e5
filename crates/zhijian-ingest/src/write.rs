//! Writing the tables: every source's rows read back from the cache a bucket at a time,
//! assembled into samples, cut by year and written as Parquet, in an order that does not depend
//! on the threads.

use chrono::Datelike;
use rayon::prelude::*;
use zhijian_pipeline::{Pipeline, Source};
use zhijian_store::{Staging, WrittenFile, YearWriter};

use crate::assemble::{self, FileRows, assemble};
use crate::inputs::ReadInputs;
use crate::tables::{self, SourcedReject};
use crate::{FileReport, IngestError, spill};

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
