//! Writing the tables: every source's rows read back from the cache a bucket at a time,
//! assembled into samples, cut by year and written as Parquet, segment by segment (see the
//! `segments` module), in an order that does not depend on the threads; segments whose inputs
//! did not change since the previous run are linked from it instead.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::Datelike;
use rayon::prelude::*;
use zhijian_pipeline::{Pipeline, Source};
use zhijian_store::{Staging, WrittenFile, YearWriter};

use crate::assemble::{self, FileRows, assemble};
use crate::inputs::ReadInputs;
use zhijian_store::manifest::{SegmentEntry, SegmentFile, SegmentRows};

use crate::segments::{self, PreviousOutput, Segment};
use crate::tables::{self, SourcedReject};
use crate::{FileEntry, IngestError, spill};

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
    /// `samples`, `results` and `rejects`, each table's files in path order.
    pub tables: Vec<TableWritten>,
    /// One report per input file, in source and path order, with its accepted, rejected and
    /// superseded rows.
    pub files: Vec<FileEntry>,
    /// Every source's segments, in source and group order: written, or reused.
    pub segments: Vec<SegmentEntry>,
}

/// The tables [`write_tables`] writes, in the order it lists them.
const TABLES: [&str; 3] = ["samples", "results", "rejects"];

/// Groups every source's rows into samples and writes `samples`, `results` (by year of
/// sampling) and `rejects` into the staging folder; `metadata` goes into every file, with
/// `zhijian.inputs_sha256` over the inputs the file was made from.
///
/// Each source's output is cut into segments (see the `segments` module), each with files of
/// its own. A segment whose fingerprint `previous` lists is linked from there, not written.
/// A segment with more than `batch_rows` records is assembled in buckets of at most about
/// that many (a power of two of them): bucket `b` holds the rows whose sample id hashes into
/// its range of partitions, read straight from the files' cache entries (see the `spill`
/// module), so every row of a sample lands in the same bucket, and each bucket is assembled
/// and written before the next is read. Memory follows `batch_rows`, not the size of the
/// input. Within a bucket samples are sorted by key, results by sample, file and record,
/// rejects by file and record; the buckets follow one another in order.
pub fn write_tables(
    pipeline: &Pipeline,
    read: &ReadInputs,
    staging: &Staging,
    metadata: &[(String, String)],
    batch_rows: usize,
    previous: Option<&PreviousOutput>,
) -> Result<Written, IngestError> {
    let root = staging.table_dir("");
    for table in TABLES {
        let dir = root.join(table);
        std::fs::create_dir_all(&dir).map_err(|source| IngestError::Io { path: dir.clone(), source })?;
    }
    let plan = segments::plan(&read.sources, batch_rows);
    let mut entries: Vec<Option<SegmentEntry>> = vec![None; plan.len()];
    if let Some(previous) = previous {
        let published: HashMap<&str, &SegmentEntry> =
            previous.segments.iter().map(|entry| (entry.fingerprint.as_str(), entry)).collect();
        for (slot, segment) in entries.iter_mut().zip(&plan) {
            if let Some(entry) = published.get(segment.fingerprint.as_str())
                && segments::link(previous, entry, &root)?
            {
                *slot = Some(SegmentEntry { reused: true, ..(*entry).clone() });
            }
        }
    }

    // The work is a list of units in output order: a whole segment, or one bucket of a large
    // one, read straight from the files' cache entries.
    let mut units = Vec::new();
    for (index, segment) in plan.iter().enumerate().filter(|(index, _)| entries[*index].is_none()) {
        if segment.buckets > 1 {
            tracing::info!(
                source = %pipeline.sources[segment.source].name, group = segment.group,
                buckets = segment.buckets, "assembling in buckets"
            );
        }
        units.extend((0..segment.buckets).map(|bucket| Unit {
            segment: index,
            partitions: spill::bucket_partitions(bucket, segment.buckets),
            last: bucket + 1 == segment.buckets,
        }));
    }
    let build = |unit: &Unit| -> Result<Built, IngestError> {
        let segment = &plan[unit.segment];
        let (source, files) = (&pipeline.sources[segment.source], &read.sources[segment.source]);
        let mut inputs: Vec<(usize, bool)> = segment.home.iter().map(|&i| (i, true)).collect();
        inputs.extend(segment.borrowed.iter().map(|&i| (i, false)));
        inputs.sort_unstable();
        let rows = inputs
            .into_iter()
            .map(|(index, home)| {
                let file = &files[index];
                let only = (!home).then_some(&segment.shared);
                let outcomes =
                    spill::read_partitions(&file.rows_path, &file.rows, &file.columns, unit.partitions.clone(), only)
                        .inspect_err(|err| {
                        if matches!(err, IngestError::CacheDamaged { .. }) {
                            crate::cache::discard_entry(&file.rows_path);
                        }
                    })?;
                Ok(FileRows { file: file.report.path.clone(), outcomes, home })
            })
            .collect::<Result<Vec<_>, IngestError>>()?;
        Built::new(unit, source, assemble(source.programme, source.layout, rows))
    };

    // A window of units (one per thread) is assembled and turned into Arrow batches in
    // parallel while the window before it is encoded and written, in unit order, so the
    // output does not depend on the threads. At most two windows are held.
    let mut open: Option<SegmentWriters> = None;
    let mut write = |built: Built| -> Result<(), IngestError> {
        let writers = match &mut open {
            Some(writers) => writers,
            None => open.insert(SegmentWriters::new(&plan[built.segment], &root, metadata, batch_rows)?),
        };
        let (segment, last) = (built.segment, built.last);
        built.write(writers)?;
        if last && let Some(writers) = open.take() {
            entries[segment] = Some(writers.finish(pipeline, read, &plan[segment], &root)?);
        }
        Ok(())
    };
    let window = rayon::current_num_threads().max(1);
    let mut pending: Vec<Built> = Vec::new();
    for chunk in units.chunks(window) {
        let ready = std::mem::take(&mut pending);
        let (written, built) = rayon::join(
            || ready.into_iter().try_for_each(&mut write),
            || chunk.par_iter().map(build).collect::<Result<Vec<_>, _>>(),
        );
        written?;
        pending = built?;
    }
    pending.into_iter().try_for_each(&mut write)?;
    let entries: Vec<SegmentEntry> = entries.into_iter().flatten().collect();
    let reused = entries.iter().filter(|e| e.reused).count();
    tracing::info!(segments = entries.len(), reused, written = entries.len() - reused, "segments");

    let mut reports: Vec<Vec<FileEntry>> =
        read.sources.iter().map(|files| files.iter().map(|f| f.report.clone()).collect()).collect();
    let places: Vec<HashMap<&str, usize>> = read
        .sources
        .iter()
        .map(|files| files.iter().enumerate().map(|(i, f)| (f.report.path.as_str(), i)).collect())
        .collect();
    for (segment, entry) in plan.iter().zip(&entries) {
        for rows in &entry.rows {
            if let Some(&index) = places[segment.source].get(rows.input.as_str()) {
                let report = &mut reports[segment.source][index];
                report.rows_accepted += rows.accepted;
                report.rows_rejected += rows.rejected;
                report.rows_superseded += rows.superseded;
            }
        }
    }
    let files: Vec<FileEntry> = reports.into_iter().flatten().collect();
    for report in &files {
        tracing::info!(
            file = %report.path, encoding = %report.encoding, cached = report.cached, read = report.rows_read,
            accepted = report.rows_accepted, rejected = report.rows_rejected,
            superseded = report.rows_superseded, "ingested"
        );
    }
    let mut tables: Vec<TableWritten> = TABLES
        .iter()
        .map(|&table| {
            let mut files: Vec<WrittenFile> = entries
                .iter()
                .flat_map(|entry| &entry.files)
                .filter(|file| file.table == table)
                .map(|file| WrittenFile { path: root.join(&file.path), rows: file.rows })
                .collect();
            files.sort_by(|a, b| a.path.cmp(&b.path));
            TableWritten { table, files }
        })
        .collect();
    // `rejects` is one file even when no row was rejected, so the table can be read.
    if let Some(rejects) = tables.iter_mut().find(|t| t.table == "rejects" && t.files.is_empty()) {
        let schema = zhijian_model::rejects_schema();
        let writer = YearWriter::new(&staging.table_dir("rejects"), "part", &schema, metadata, false, batch_rows)?;
        rejects.files = writer.finish()?;
    }
    Ok(Written { tables, files, segments: entries })
}

/// A piece of [`write_tables`]' work: a segment's rows, or one bucket of them (the partitions
/// of its files' rows it holds).
struct Unit {
    segment: usize,
    partitions: std::ops::Range<u16>,
    /// The segment's last bucket.
    last: bool,
}

/// The files of the segment being written.
struct SegmentWriters {
    samples: YearWriter,
    results: YearWriter,
    rejects: YearWriter,
    /// (accepted, rejected, superseded) per input.
    rows: BTreeMap<String, (u64, u64, u64)>,
}

impl SegmentWriters {
    fn new(
        segment: &Segment,
        root: &Path,
        metadata: &[(String, String)],
        batch_rows: usize,
    ) -> Result<Self, IngestError> {
        let mut metadata = metadata.to_vec();
        metadata.push(("zhijian.inputs_sha256".to_string(), segment.inputs_sha256.clone()));
        let stem = segment.stem();
        let writer = |table: &str, schema: arrow_schema::SchemaRef| {
            YearWriter::new(&root.join(table), &stem, &schema, &metadata, true, batch_rows)
        };
        Ok(SegmentWriters {
            samples: writer("samples", zhijian_model::samples_schema())?,
            results: writer("results", zhijian_model::results_schema())?,
            rejects: writer("rejects", zhijian_model::rejects_schema())?,
            rows: BTreeMap::new(),
        })
    }

    /// Closes the files; the segment as the manifest lists it.
    fn finish(
        self,
        pipeline: &Pipeline,
        read: &ReadInputs,
        segment: &Segment,
        root: &Path,
    ) -> Result<SegmentEntry, IngestError> {
        let mut files = Vec::new();
        for (table, writer) in TABLES.into_iter().zip([self.samples, self.results, self.rejects]) {
            for written in writer.finish()? {
                let bytes = std::fs::metadata(&written.path)
                    .map_err(|source| IngestError::Io { path: written.path.clone(), source })?
                    .len();
                files.push(SegmentFile {
                    table: table.to_string(),
                    path: relative(root, &written.path),
                    rows: written.rows,
                    bytes,
                });
            }
        }
        let inputs = &read.sources[segment.source];
        let names = |list: &[usize]| list.iter().map(|&i| inputs[i].report.path.clone()).collect();
        Ok(SegmentEntry {
            source: pipeline.sources[segment.source].name.clone(),
            group: segment.group,
            groups: segment.groups,
            fingerprint: segment.fingerprint.clone(),
            reused: false,
            inputs: names(&segment.home),
            borrowed: names(&segment.borrowed),
            files,
            rows: self
                .rows
                .into_iter()
                .map(|(input, (accepted, rejected, superseded))| SegmentRows { input, accepted, rejected, superseded })
                .collect(),
        })
    }
}

/// `path` relative to `root`, with `/` between its parts.
fn relative(root: &Path, path: &Path) -> String {
    let inside: PathBuf = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    inside.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

/// A unit assembled, sorted and turned into Arrow batches, with its rows counted per file.
struct Built {
    segment: usize,
    last: bool,
    samples: Vec<(i32, arrow_array::RecordBatch)>,
    results: Vec<(i32, arrow_array::RecordBatch)>,
    rejects: Vec<arrow_array::RecordBatch>,
    /// (accepted, rejected, superseded) per file.
    counts: std::collections::HashMap<String, (u64, u64, u64)>,
}

impl Built {
    /// Within a unit samples are sorted by key, results by sample, file and record, rejects by
    /// file and record; each table's rows are cut by year of sampling.
    fn new(unit: &Unit, source: &Source, assembled: assemble::Assembled) -> Result<Built, IngestError> {
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
        Ok(Built { segment: unit.segment, last: unit.last, samples, results, rejects, counts })
    }

    /// Appends the batches to the segment's files and the counts to its rows per input.
    fn write(self, writers: &mut SegmentWriters) -> Result<(), IngestError> {
        for (year, batch) in &self.samples {
            writers.samples.write(Some(*year), batch)?;
        }
        for (year, batch) in &self.results {
            writers.results.write(Some(*year), batch)?;
        }
        for batch in &self.rejects {
            writers.rejects.write(None, batch)?;
        }
        for (input, (accepted, rejected, superseded)) in self.counts {
            let entry = writers.rows.entry(input).or_default();
            entry.0 += accepted;
            entry.1 += rejected;
            entry.2 += superseded;
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
