//! One zhijian run: pipeline file → checked seeds → ingest → staged tables → aggregates →
//! published outputs → `_manifest.json` → `_SUCCESS`.
//!
//! [`run`] either publishes a complete, consistent set of tables or returns an error and
//! leaves the previously published outputs as they were. [`validate`] checks a pipeline file
//! and its seeds without reading any input.

mod manifest;
mod summary;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Datelike, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use zhijian_aggregate::{CubeOptions, TargetSpec};
use zhijian_check::{CheckContext, Outcome, SqlEngine};
use zhijian_pipeline::{ConfigErrors, Pipeline};
use zhijian_seeds::{SeedErrors, Seeds};
use zhijian_store::{Staging, StoreError, write_atomic};

pub use zhijian_ingest::{Progress, panic_message};

pub use manifest::{FileEntry, Manifest, OutputEntry, SkippedEntry, Timing, Totals};
pub use summary::{CityLine, ProgrammeSummary, render_summary};

/// Why a run could not complete. Every variant means exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The pipeline file is invalid.
    #[error(transparent)]
    Pipeline(#[from] ConfigErrors),
    /// The report could not be built.
    #[error(transparent)]
    Report(#[from] zhijian_report::ReportError),
    /// The seeds are invalid.
    #[error(transparent)]
    Seeds(#[from] SeedErrors),
    /// The pipeline's province is not the seeds' province.
    #[error("{}: `province = \"{pipeline}\"` but the seeds in `{}` describe province `{seeds}`", file.display(), seeds_dir.display())]
    Province {
        /// The pipeline file.
        file: PathBuf,
        /// Its province.
        pipeline: String,
        /// The seeds' province.
        seeds: String,
        /// The seeds folder.
        seeds_dir: PathBuf,
    },
    /// An input could not be read.
    #[error(transparent)]
    Ingest(#[from] zhijian_ingest::IngestError),
    /// The aggregates could not be computed.
    #[error(transparent)]
    Aggregate(#[from] zhijian_aggregate::AggregateError),
    /// The outputs could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another run holds the output's lock.
    #[error(transparent)]
    Lock(#[from] zhijian_store::LockError),
    /// The checks could not be evaluated.
    #[error(transparent)]
    Check(#[from] zhijian_check::CheckError),
    /// A file's rows do not add up: some were lost between reading and the tables. Nothing is
    /// published.
    #[error(
        "`{file}`: {read} rows read, but {accepted} accepted + {rejected} rejected + {superseded} superseded = {}; \
         nothing was published (run again with --full-refresh, and report it if it stays)",
        accepted + rejected + superseded
    )]
    Accounting {
        /// The input file.
        file: String,
        /// Rows read.
        read: u64,
        /// Rows accepted.
        accepted: u64,
        /// Rows rejected.
        rejected: u64,
        /// Rows a later delivery replaced.
        superseded: u64,
    },
}

/// Checks that every row of every file is in exactly one place: rows read = accepted +
/// rejected + superseded, per file.
pub fn check_accounting<'a>(files: impl IntoIterator<Item = &'a zhijian_ingest::FileEntry>) -> Result<(), RunError> {
    for f in files {
        if f.rows_read != f.rows_accepted + f.rows_rejected + f.rows_superseded {
            return Err(RunError::Accounting {
                file: f.path.clone(),
                read: f.rows_read,
                accepted: f.rows_accepted,
                rejected: f.rows_rejected,
                superseded: f.rows_superseded,
            });
        }
    }
    Ok(())
}

/// What the caller decides for a run.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Write here (or read from here, for checks) instead of the pipeline's `output`.
    pub output: Option<PathBuf>,
    /// The as-of date when the pipeline file sets none; today by default.
    pub today: Option<NaiveDate>,
    /// The engine for SQL checks, when the binary has one.
    pub sql: Option<Arc<dyn SqlEngine>>,
    /// Publish without evaluating the checks.
    pub skip_checks: bool,
    /// Parse every input again instead of reusing the cached rows of unchanged files.
    pub full_refresh: bool,
    /// Told of each input file as it is read, for a progress display.
    pub progress: Option<Arc<dyn Fn(zhijian_ingest::Progress) + Send + Sync>>,
    /// A source with more records than this is assembled in buckets of about this many, so
    /// memory follows it rather than the input ([`DEFAULT_BATCH_ROWS`] when zero).
    pub batch_rows: usize,
}

/// Records assembled at a time by default: about 400 MiB of memory at the peak of the write
/// stage on the 300,000-sample benchmark drop (100,000 took 670 MiB and was slower, from the
/// page faults of the larger batches).
pub const DEFAULT_BATCH_ROWS: usize = 50_000;

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("output", &self.output)
            .field("today", &self.today)
            .field("sql", &self.sql.is_some())
            .field("skip_checks", &self.skip_checks)
            .field("full_refresh", &self.full_refresh)
            .field("progress", &self.progress.is_some())
            .field("batch_rows", &self.batch_rows)
            .finish()
    }
}

/// What a completed run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The output folder.
    pub output: PathBuf,
    /// The manifest as written.
    pub manifest: Manifest,
    /// Per programme, the per-city figures of the as-of year.
    pub summaries: Vec<ProgrammeSummary>,
    /// The pipeline's checks, evaluated on the new outputs.
    pub checks: Vec<Outcome>,
}

/// What `zhijian check` found.
#[derive(Debug, Clone)]
pub struct CheckRun {
    /// The pipeline's name.
    pub pipeline_name: String,
    /// The output folder checked.
    pub output: PathBuf,
    /// The as-of date of the run that wrote it.
    pub as_of: NaiveDate,
    /// One outcome per check and scope.
    pub outcomes: Vec<Outcome>,
}

fn evaluate_checks(
    pipeline: &Pipeline,
    seeds: &Seeds,
    output: &Path,
    as_of: NaiveDate,
    sql: Option<&dyn SqlEngine>,
) -> Result<Vec<Outcome>, RunError> {
    use zhijian_seeds::AreaKind;
    let cities =
        seeds.areas.iter().filter(|a| a.kind == AreaKind::City).map(|a| (a.code.clone(), a.name.clone())).collect();
    let direct_counties =
        seeds.areas.iter().filter(|a| a.directly_administered).map(|a| (a.code.clone(), a.name.clone())).collect();
    let context = CheckContext { output: output.to_path_buf(), as_of, cities, direct_counties, sql };
    Ok(zhijian_check::evaluate(&pipeline.checks, &context)?)
}

/// Evaluates the pipeline's checks on the outputs of its last run.
pub fn check(path: &Path, options: &RunOptions) -> Result<CheckRun, RunError> {
    let pipeline = Pipeline::load(path)?;
    let seeds = Seeds::load(&pipeline.seeds)?;
    let output = options.output.clone().unwrap_or_else(|| pipeline.output.clone());
    let as_of = zhijian_check::manifest_as_of(&output)?;
    let outcomes = evaluate_checks(&pipeline, &seeds, &output, as_of, options.sql.as_deref())?;
    Ok(CheckRun { pipeline_name: pipeline.name, output, as_of, outcomes })
}

/// Records a stage's duration in the manifest's timings and in the log (`-v`).
fn stage_done(
    timings: &mut Vec<(&'static str, std::time::Duration, Option<u64>)>,
    stage: &'static str,
    clock: Instant,
) {
    let elapsed = clock.elapsed();
    let peak = peak_rss_kib();
    tracing::info!(stage, duration_ms = elapsed.as_millis() as u64, peak_rss_kib = peak, "stage finished");
    timings.push((stage, elapsed, peak));
}

/// The process's peak resident memory so far in KiB, from `/proc/self/status` (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What every cached file depends on besides its bytes and its source: this build of zhijian,
/// the as-of date, and the bytes of every seed file.
fn fingerprint(pipeline: &Pipeline, as_of: NaiveDate) -> Result<String, RunError> {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    // The build: the executable's size and modification time. A rebuild with the same version
    // number (a fix of how rows are read) must not reuse rows its predecessor parsed; an
    // executable that cannot be inspected makes every run parse afresh.
    let build = std::env::current_exe()
        .and_then(std::fs::metadata)
        .ok()
        .and_then(|m| Some((m.len(), m.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos())));
    match build {
        Some((len, modified)) => hasher.update(format!("{len}:{modified}").as_bytes()),
        None => hasher.update(started_nonce().as_bytes()),
    }
    hasher.update(zhijian_model::SCHEMA_VERSION.as_bytes());
    hasher.update(as_of.to_string().as_bytes());
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(&pipeline.seeds)
        .map_err(|source| StoreError::Io { action: "cannot list", path: pipeline.seeds.clone(), source })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    seeds.sort();
    for path in seeds {
        let bytes = std::fs::read(&path).map_err(|source| StoreError::Io {
            action: "cannot read",
            path: path.clone(),
            source,
        })?;
        hasher.update(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default().as_bytes());
        hasher.update(&bytes);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// A value no other run has: the cache key of a run that cannot identify its build.
fn started_nonce() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{}:{now}", std::process::id())
}

/// The input paths of the run that wrote the current outputs, from its manifest.
fn previous_inputs(previous: Option<&Manifest>) -> Vec<String> {
    previous.map(|m| m.inputs.iter().map(|i| i.path.clone()).collect()).unwrap_or_default()
}

/// The published output: the generation its link leads to (a folder of old is itself), so
/// files are linked from there, never through the output path, and its manifest, if it
/// reads.
fn published(output: &Path) -> Option<(PathBuf, Manifest)> {
    let dir = match std::fs::read_link(output) {
        Ok(target) => output.parent().unwrap_or_else(|| Path::new("")).join(target),
        Err(_) => output.to_path_buf(),
    };
    let manifest = zhijian_store::manifest::read_manifest(&dir).ok()?;
    Some((dir, manifest))
}

/// The folder of the output holding the year-to-date report.
pub const REPORT_DIR: &str = "report";

/// What a report of `pipeline` shows for `period`: programmes in seed order, pass-rate
/// thresholds from the pipeline's province- and city-scoped pass-rate checks (their fail zone,
/// else their warn zone), and the directly administered counties.
fn report_options(pipeline: &Pipeline, seeds: &Seeds, as_of: NaiveDate, period: &str) -> zhijian_report::ReportOptions {
    use zhijian_model::checks::{CheckKind, Scope};
    let province = seeds.areas.province().map(|p| (p.code.clone(), p.name.clone())).unwrap_or_default();
    let mut thresholds: Vec<(String, f64)> = Vec::new();
    for spec in &pipeline.checks {
        if let CheckKind::PassRate { programme, category, scope, .. } = &spec.kind
            && category == "all"
            && matches!(scope, Scope::Level(zhijian_model::AreaLevel::Province | zhijian_model::AreaLevel::City))
            && let Some(t) = spec.zones.fail_below.or(spec.zones.warn_below)
            && !thresholds.iter().any(|(p, _)| p == programme.as_str())
        {
            thresholds.push((programme.as_str().to_string(), t));
        }
    }
    zhijian_report::ReportOptions {
        period: period.to_string(),
        as_of,
        province,
        programmes: seeds.programmes.iter().map(|p| (p.code.as_str().to_string(), p.name.clone())).collect(),
        thresholds,
        direct_counties: seeds
            .areas
            .iter()
            .filter(|a| a.directly_administered)
            .filter_map(|a| Some((a.code.clone(), a.parent.clone()?)))
            .collect(),
    }
}

fn write_report(report: &zhijian_report::Report, dir: &Path) -> Result<(), RunError> {
    std::fs::create_dir_all(dir).map_err(|source| zhijian_store::StoreError::Io {
        path: dir.to_path_buf(),
        action: "cannot create",
        source,
    })?;
    write_atomic(&dir.join("report.html"), report.html().as_bytes())?;
    write_atomic(&dir.join("report.md"), report.markdown().as_bytes())?;
    Ok(())
}

/// Writes the quality-status report of the last run of the pipeline at `path` for `period`
/// (default: the year of the as-of date) into `out` (default: the output's `report` folder).
/// Returns the folder written.
pub fn report(path: &Path, period: Option<&str>, out: Option<&Path>) -> Result<PathBuf, RunError> {
    let pipeline = Pipeline::load(path)?;
    let seeds = Seeds::load(&pipeline.seeds)?;
    let as_of = zhijian_check::manifest_as_of(&pipeline.output)?;
    let period = period.map_or_else(|| as_of.year().to_string(), str::to_string);
    let report = zhijian_report::Report::build(&pipeline.output, report_options(&pipeline, &seeds, as_of, &period))?;
    let dir = out.map_or_else(|| pipeline.output.join(REPORT_DIR), Path::to_path_buf);
    write_report(&report, &dir)?;
    Ok(dir)
}

/// The output folder of the pipeline file at `path`, for reading its tables.
pub fn output_folder(path: &Path) -> Result<PathBuf, RunError> {
    Ok(Pipeline::load(path)?.output)
}

/// The pipeline and its seeds, checked.
#[derive(Debug)]
pub struct Validated {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// Its seeds.
    pub seeds: Seeds,
    /// For each source, the files its patterns match now.
    pub files: Vec<(String, Vec<PathBuf>)>,
}

/// Checks the pipeline file at `path`, its seeds, and that its input folders exist.
pub fn validate(path: &Path) -> Result<Validated, RunError> {
    let pipeline = Pipeline::load(path)?;
    let seeds = Seeds::load(&pipeline.seeds)?;
    let province = seeds.areas.province().map(|p| p.code.clone()).unwrap_or_default();
    if province != pipeline.province {
        return Err(RunError::Province {
            file: pipeline.path.clone(),
            pipeline: pipeline.province.clone(),
            seeds: province,
            seeds_dir: pipeline.seeds.clone(),
        });
    }
    let mut files = Vec::new();
    for source in &pipeline.sources {
        files.push((source.name.clone(), zhijian_ingest::source_files(source)?));
    }
    Ok(Validated { pipeline, seeds, files })
}

/// Runs the pipeline file at `path`.
pub fn run(path: &Path, options: &RunOptions) -> Result<RunOutcome, RunError> {
    let started_at = Utc::now();
    let mut timings = Vec::new();
    let clock = Instant::now();
    let Validated { pipeline, seeds, .. } = validate(path)?;
    // A check this binary cannot evaluate would end the run with exit code 2 after all the
    // work: say so before it, with nothing written.
    if !options.skip_checks {
        zhijian_check::ensure_evaluable(&pipeline.checks, options.sql.is_some())?;
    }
    // Components, not the text: `reports/` is the folder `reports`, not what a link there
    // leads to.
    let output: PathBuf = options.output.clone().unwrap_or_else(|| pipeline.output.clone()).components().collect();
    let as_of = pipeline.as_of.or(options.today).unwrap_or_else(|| Utc::now().date_naive());
    stage_done(&mut timings, "load", clock);
    let run_id = format!("{}-{}", started_at.format("%Y%m%dT%H%M%SZ"), std::process::id());
    // One run at a time per output; held until this function returns.
    let _lock =
        zhijian_store::RunLock::acquire(&output, &started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))?;
    // Before anything is written beside it: an output path holding what zhijian did not
    // write stops the run here (publishing checks again).
    zhijian_store::check_output(&output)?;
    let _run_span = tracing::info_span!("run", %run_id).entered();
    tracing::info!(pipeline = %path.display(), %as_of, output = %output.display(), %run_id, "run started");

    let clock = Instant::now();
    let cache = zhijian_ingest::FileCache {
        dir: zhijian_store::sibling_path(&output, "cache"),
        read: !options.full_refresh,
        fingerprint: fingerprint(&pipeline, as_of)?,
    };
    let published = published(&output);
    let previous_inputs = previous_inputs(published.as_ref().map(|(_, m)| m));
    let progress: Option<zhijian_ingest::ProgressFn<'_>> = match &options.progress {
        Some(callback) => Some(callback.as_ref()),
        None => None,
    };
    let ingested = zhijian_ingest::read_inputs(&pipeline, &seeds, as_of, &cache, progress)?;
    let retracted: Vec<String> =
        previous_inputs.into_iter().filter(|p| !ingested.files().any(|f| &f.path == p)).collect();
    for path in &retracted {
        tracing::warn!(file = %path, "an input of the previous run is gone: its rows are retracted");
    }
    let parsed = ingested.files().filter(|f| !f.cached).count();
    tracing::info!(parsed, cached = ingested.files().count() - parsed, retracted = retracted.len(), "inputs");
    stage_done(&mut timings, "ingest", clock);

    // Metadata that depends only on the inputs, so equal inputs give equal bytes.
    let mut inputs_hash = Sha256::new();
    for file in ingested.files() {
        inputs_hash.update(file.path.as_bytes());
        inputs_hash.update(b"\0");
        inputs_hash.update(file.sha256.as_bytes());
        inputs_hash.update(b"\n");
    }
    let inputs_sha256: String = inputs_hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    // The ingest tables' files each name the inputs they were made from (see `write_tables`);
    // the aggregates are made from all of them.
    let metadata = vec![
        ("zhijian.version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("zhijian.as_of".to_string(), as_of.to_string()),
    ];
    let mut aggregate_metadata = metadata.clone();
    aggregate_metadata.push(("zhijian.inputs_sha256".to_string(), inputs_sha256.clone()));

    let clock = Instant::now();
    // The segments the published output lists are reused where their inputs did not change;
    // a full refresh writes everything.
    let previous = match published {
        Some((dir, manifest)) if !options.full_refresh => {
            Some(zhijian_ingest::PreviousOutput { dir, segments: manifest.segments })
        }
        _ => None,
    };
    let staging = Staging::create(&output, &run_id)?;
    let batch_rows = if options.batch_rows == 0 { DEFAULT_BATCH_ROWS } else { options.batch_rows };
    let zhijian_ingest::Written { tables: mut written, files, segments } =
        zhijian_ingest::write_tables(&pipeline, &ingested, &staging, &metadata, batch_rows, previous.as_ref())?;
    check_accounting(&files)?;
    stage_done(&mut timings, "write", clock);

    let clock = Instant::now();
    let province = seeds.areas.province().map(|p| (p.code.clone(), p.name.clone())).unwrap_or_default();
    let cube_options = CubeOptions { province_code: province.0.clone(), province_name: province.1.clone() };
    let aggregates = zhijian_aggregate::aggregate(&staging.table_dir("samples"), &cube_options)?;
    let targets: Vec<TargetSpec> = seeds
        .targets
        .iter()
        .map(|t| TargetSpec {
            year: t.year,
            programme: t.programme.as_str().to_string(),
            area_level: t.area_level,
            area_code: t.area_code.clone(),
            area_name: seeds.areas.get(&t.area_code).map(|a| a.name.clone()).unwrap_or_default(),
            target: t.target,
            unit: t.unit,
            illustrative: t.illustrative,
            basis: t.basis.clone(),
        })
        .collect();
    let attainment = zhijian_aggregate::attainment(&targets, &aggregates.achieved, as_of);
    let pass_rate_files = zhijian_aggregate::write_pass_rates(
        &staging.table_dir("pass_rates"),
        &aggregates.pass_rates,
        &aggregate_metadata,
    )?;
    let attainment_files =
        zhijian_aggregate::write_attainment(&staging.table_dir("attainment"), &attainment, &aggregate_metadata)?;
    written.push(zhijian_ingest::TableWritten { table: "pass_rates", files: pass_rate_files });
    written.push(zhijian_ingest::TableWritten { table: "attainment", files: attainment_files });
    stage_done(&mut timings, "aggregate", clock);

    // The year-to-date report, published with the tables it reads.
    let clock = Instant::now();
    let report = zhijian_report::Report::build(
        &staging.table_dir(""),
        report_options(&pipeline, &seeds, as_of, &as_of.year().to_string()),
    )?;
    write_report(&report, &staging.table_dir(REPORT_DIR))?;
    stage_done(&mut timings, "report", clock);

    // The manifest and `_SUCCESS` go into the set they describe; the set is published whole.
    let staging_dir = staging.table_dir("");
    let manifest = manifest::build(
        &run_id,
        &pipeline,
        as_of,
        started_at,
        &inputs_sha256,
        &files,
        &written,
        &staging_dir,
        &timings,
    );
    let skipped = ingested
        .skipped()
        .iter()
        .map(|s| manifest::SkippedEntry { source: s.source.clone(), path: s.path.clone(), reason: s.reason.clone() })
        .collect();
    let manifest = Manifest { full_refresh: options.full_refresh, retracted, skipped, segments, ..manifest };
    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    write_atomic(&staging.table_dir("_manifest.json"), &json)?;
    write_atomic(&staging.table_dir("_SUCCESS"), b"")?;
    let clock = Instant::now();
    staging.publish()?;
    tracing::info!(duration_ms = clock.elapsed().as_millis() as u64, "published");
    // Entries of files this run did not read (gone, changed, or made under other seeds) go.
    let pruned = zhijian_ingest::prune_cache(&cache.dir, &ingested.cache_keys());
    tracing::debug!(pruned, "cache pruned");
    tracing::info!(run_id = %run_id, "run finished");

    let summaries = summary::summarise(&seeds, &aggregates.pass_rates, &attainment, as_of.year());
    let checks = if options.skip_checks {
        Vec::new()
    } else {
        evaluate_checks(&pipeline, &seeds, &output, as_of, options.sql.as_deref())?
    };
    Ok(RunOutcome { output, manifest, summaries, checks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_that_do_not_add_up_stop_the_run_naming_the_file() {
        let report = |read, accepted, rejected, superseded| zhijian_ingest::FileEntry {
            source: "food-samr".into(),
            path: "../sample-data/food/a.csv".into(),
            sheet: None,
            header_line: 1,
            sha256: String::new(),
            bytes: 0,
            encoding: "utf-8".into(),
            replacements: 0,
            rows_read: read,
            rows_accepted: accepted,
            rows_rejected: rejected,
            rows_superseded: superseded,
            rows_blank: 0,
            rows_totals: 0,
            skipped_rows: Vec::new(),
            cached: true,
        };
        assert!(check_accounting(&[report(10, 7, 2, 1), report(0, 0, 0, 0)]).is_ok());
        let err = check_accounting(&[report(10, 7, 2, 1), report(10, 6, 2, 1)]).unwrap_err();
        assert!(matches!(err, RunError::Accounting { read: 10, accepted: 6, .. }));
        assert_eq!(
            err.to_string(),
            "`../sample-data/food/a.csv`: 10 rows read, but 6 accepted + 2 rejected + 1 superseded = 9; nothing was published (run again with --full-refresh, and report it if it stays)"
        );
    }
}
