//! The `zhijian` command: clap commands, logging and exit codes. The work lives in the crates.
//!
//! Exit codes: 0 ran and every check passed or only warned; 1 ran and a check failed; 2 could
//! not run (bad pipeline file, unreadable input, I/O, usage, checks that cannot be evaluated).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use zhijian_check::{Outcome, SqlEngine, report};
use zhijian_model::text::{json_for_log, log_lines};

// Ingest allocates many small strings on every core; mimalloc is faster at that than glibc's
// malloc and returns freed memory instead of keeping per-thread arenas resident.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Quality-inspection sampling data: ingest, normalise, judge, aggregate, check.
#[derive(Debug, Parser)]
#[command(name = "zhijian", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How check results are reported, besides the table on stdout.
#[derive(Debug, Args)]
struct ReportArgs {
    /// Write the check results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the check results as JSON (after dbt's run_results.json) to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Print GitHub annotations (10 errors and 10 warnings at most, worst first) and append the
    /// table to $GITHUB_STEP_SUMMARY when it is set.
    #[arg(long)]
    github: bool,
    /// Treat warnings as failures (exit 1).
    #[arg(long)]
    warn_error: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a pipeline: ingest every source, write the tables, aggregate, publish, check.
    Run {
        /// The pipeline file, e.g. pipelines/henan-2013.toml.
        pipeline: PathBuf,
        /// Write the outputs here instead of the pipeline's `output`.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Publish without evaluating the checks (leave them to `zhijian check`).
        #[arg(long)]
        no_checks: bool,
        /// Parse every input again instead of reusing the rows of files unchanged since the
        /// last run; the outputs are the same either way.
        #[arg(long)]
        full_refresh: bool,
        /// Assemble a source with more records than this in buckets of at most about this many,
        /// and write Parquet row groups of at most this many rows, so memory stays flat however
        /// large the input (smaller: less memory, more and smaller reads of the cache).
        #[arg(long, default_value_t = zhijian_run::DEFAULT_BATCH_ROWS, value_name = "N")]
        batch_rows: usize,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Evaluate the pipeline's checks on the outputs of its last run.
    Check {
        /// The pipeline file.
        pipeline: PathBuf,
        /// Check the outputs in this folder instead of the pipeline's `output`.
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Check a pipeline file and its seeds; report every error with file:line:col.
    Validate {
        /// The pipeline file.
        pipeline: PathBuf,
    },
    /// Write the quality-status report (report.html with SVG charts, report.md) for a period.
    Report {
        /// The pipeline file whose last run the report reads.
        #[arg(long)]
        pipeline: PathBuf,
        /// `2013`, `2013-Q3` or `2013-07`; the year of the as-of date by default.
        #[arg(long)]
        period: Option<String>,
        /// The folder to write into; the output's `report/` by default.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Query the tables with SQL (polars SQL; SELECT only, nothing is ever written to them; the
    /// query reads the tables only: table functions that open a path, such as read_csv, are
    /// refused).
    #[command(group = clap::ArgGroup::new("tables").required(true).args(["pipeline", "dir"]))]
    Query {
        /// The query; read from stdin when absent or `-`. Tables: samples, results, rejects,
        /// pass_rates, attainment.
        sql: Option<String>,
        /// Query the outputs of this pipeline file.
        #[arg(long)]
        pipeline: Option<PathBuf>,
        /// Query the outputs in this folder.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// How to print the result.
        #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
        format: QueryFormat,
        /// Write the result to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// With --format csv, write text cells exactly as they are. By default a text cell
        /// beginning with =, +, -, @, a tab or a carriage return (other than a plain number
        /// such as -0.5) gets a leading ' so a spreadsheet shows it as text instead of running
        /// it as a formula (OWASP's advice against CSV injection).
        #[arg(long)]
        no_formula_guard: bool,
    },
    /// Write a synthetic drop of every programme (CSV in the sources' shapes), with a
    /// pipeline.toml that reads it and expected.json, for benchmarks and scale tests.
    Generate {
        /// Samples across all programmes (about 4.7 results each).
        #[arg(long)]
        samples: u64,
        /// Seed of the random draws: the same seed gives the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The folder to create; it must be new or empty.
        #[arg(long)]
        out: PathBuf,
        /// The seeds to copy into the drop and draw areas from.
        #[arg(long, default_value = "seeds")]
        seeds: PathBuf,
        /// At most this many rows per CSV file.
        #[arg(long, default_value_t = 1_000_000)]
        rows_per_file: u64,
        /// Share of samples with a delivery mistake (impossible date, unknown city, a row
        /// delivered twice).
        #[arg(long, default_value_t = 0.002)]
        mess_rate: f64,
        /// The CSV files' encoding, declared in the generated pipeline.toml; the rows, and
        /// expected.json, are the same in either.
        #[arg(long, value_enum, default_value_t = GenerateEncoding::Utf8)]
        encoding: GenerateEncoding,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GenerateEncoding {
    /// UTF-8, no byte-order mark.
    #[value(name = "utf-8")]
    Utf8,
    /// GB18030, no byte-order mark, as the agencies' systems export.
    Gb18030,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum QueryFormat {
    /// An aligned text table.
    Table,
    /// CSV with a header; lists joined with `;`; text cells a spreadsheet would run as a
    /// formula guarded with a leading ' (see --no-formula-guard).
    Csv,
    /// A JSON array of objects.
    Json,
    /// Parquet (zstd); needs --output, or stdout redirected to a file.
    Parquet,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    // A panic is a bug, caught at the input file's boundary (the error names the file) or
    // here; the hook logs its place for the bug report instead of printing a backtrace.
    // Some are caught deeper still (a workbook library's panic on a malformed file becomes that
    // file's error), so the place is logged at debug level (`-vv`), not printed.
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map(|l| l.to_string()).unwrap_or_default();
        tracing::debug!(place, "panic: {}", log_lines(&zhijian_run::panic_message(info.payload())));
    }));
    let quiet = cli.quiet;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute(cli.command, quiet))) {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            // Messages quote values from the input: printed so that none passes for a CI
            // workflow command (see zhijian_model::text).
            eprintln!("error: {}", log_lines(&error_chain(&err)));
            ExitCode::from(2)
        }
        Err(panic) => {
            eprintln!("error: internal error, please report it: {}", log_lines(&zhijian_run::panic_message(&*panic)));
            ExitCode::from(2)
        }
    }
}

/// A progress bar of the input files on stderr, only when stderr is a terminal (a scheduler's
/// log gets none) and not with `-q`.
fn progress_bar(quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template("ingest [{bar:30}] {pos}/{len} files, {msg} {elapsed}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// The error and its causes, each cause once: a library error that already quotes its source
/// (`parquet file …: No space left on device`) does not get it repeated.
fn error_chain(err: &anyhow::Error) -> String {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}

/// Log events for stderr when it is not a terminal (a CI or scheduler log): each event is
/// written at once after its text is made safe for such a log — in text lines every `::` and
/// `##[` broken and control characters escaped (see [`log_lines`]), in JSON lines `##[`
/// written `#\u0023[` ([`json_for_log`]) — so an event that quotes an input cell cannot
/// forge a workflow command.
#[derive(Debug, Clone, Copy)]
struct SafeLog {
    json: bool,
}

/// One event's text, written to stderr when dropped (tracing writes each event whole).
#[derive(Debug)]
struct SafeLogEvent {
    json: bool,
    text: Vec<u8>,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for SafeLog {
    type Writer = SafeLogEvent;

    fn make_writer(&'a self) -> SafeLogEvent {
        SafeLogEvent { json: self.json, text: Vec::new() }
    }
}

impl std::io::Write for SafeLogEvent {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SafeLogEvent {
    fn drop(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.text);
        let safe = if self.json { json_for_log(&text) } else { log_lines(&text) };
        // A log line that cannot be written has nowhere else to go.
        let _ = std::io::stderr().lock().write_all(safe.as_bytes());
    }
}

fn init_logging(cli: &Cli) {
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Spans (the run) close with their durations at -v; each stage logs its own.
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(terminal)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE);
    // On a terminal tracing escapes the terminal controls in values itself and the colours are
    // ours; a log file or a CI log gets every event made safe for it.
    let json = matches!(cli.log_format, LogFormat::Json);
    match (json, terminal) {
        (false, true) => builder.with_writer(std::io::stderr).init(),
        (false, false) => builder.with_writer(SafeLog { json }).init(),
        (true, true) => builder.json().with_writer(std::io::stderr).init(),
        (true, false) => builder.json().with_writer(SafeLog { json }).init(),
    }
}

#[cfg(feature = "sql")]
struct PolarsSql;

#[cfg(feature = "sql")]
impl SqlEngine for PolarsSql {
    fn failures(&self, output: &std::path::Path, query: &str, keep: usize) -> Result<zhijian_check::SqlRows, String> {
        zhijian_query::query_text(output, query, keep)
            .map(|t| zhijian_check::SqlRows { count: t.count, columns: t.columns, rows: t.rows })
            .map_err(|e| e.to_string())
    }
}

fn sql_engine() -> Option<Arc<dyn SqlEngine>> {
    #[cfg(feature = "sql")]
    return Some(Arc::new(PolarsSql));
    #[cfg(not(feature = "sql"))]
    None
}

fn execute(command: Command, quiet: bool) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run { pipeline, output, no_checks, full_refresh, batch_rows, report } => {
            let bar = progress_bar(quiet);
            let progress = bar.clone().map(|bar| {
                let rows = Arc::new(std::sync::atomic::AtomicU64::new(0));
                Arc::new(move |event: zhijian_run::Progress| match event {
                    zhijian_run::Progress::Files(n) => bar.inc_length(n),
                    zhijian_run::Progress::FileDone { rows: read } => {
                        let total = rows.fetch_add(read, std::sync::atomic::Ordering::Relaxed) + read;
                        bar.set_message(format!("{total} rows"));
                        bar.inc(1);
                    }
                }) as Arc<dyn Fn(zhijian_run::Progress) + Send + Sync>
            });
            let options = zhijian_run::RunOptions {
                output,
                today: None,
                sql: sql_engine(),
                skip_checks: no_checks,
                full_refresh,
                progress,
                batch_rows,
            };
            let outcome = zhijian_run::run(&pipeline, &options);
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            let outcome = outcome?;
            let totals = &outcome.manifest.totals;
            println!(
                "{}: {} file(s), {} row(s) read, {} accepted, {} rejected{} → {}",
                outcome.manifest.pipeline_name,
                totals.files,
                totals.rows_read,
                totals.rows_accepted,
                totals.rows_rejected,
                if totals.rows_superseded > 0 {
                    format!(", {} replaced by later deliveries", totals.rows_superseded)
                } else {
                    String::new()
                },
                outcome.output.display()
            );
            println!("as of {}\n", outcome.manifest.as_of);
            print!("{}", log_lines(&zhijian_run::render_summary(&outcome.summaries)));
            if outcome.checks.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            println!("checks");
            print!("{}", report::table(&outcome.checks));
            emit_reports(&outcome.checks, &report, &outcome.manifest.pipeline_name, &outcome.manifest.as_of.to_string())
        }
        Command::Check { pipeline, output, report } => {
            let options = zhijian_run::RunOptions {
                output,
                today: None,
                sql: sql_engine(),
                skip_checks: false,
                full_refresh: false,
                progress: None,
                batch_rows: 0,
            };
            let checked = zhijian_run::check(&pipeline, &options)?;
            print!("{}", report::table(&checked.outcomes));
            emit_reports(&checked.outcomes, &report, &checked.pipeline_name, &checked.as_of.to_string())
        }
        Command::Query { sql, pipeline, dir, format, output, no_formula_guard } => {
            query(sql, pipeline, dir, format, output, !no_formula_guard)
        }
        Command::Generate { samples, seed, out, seeds, rows_per_file, mess_rate, encoding } => {
            let encoding = match encoding {
                GenerateEncoding::Utf8 => zhijian_generate::Encoding::Utf8,
                GenerateEncoding::Gb18030 => zhijian_generate::Encoding::Gb18030,
            };
            let options = zhijian_generate::Options {
                samples,
                seed,
                out: out.clone(),
                seeds,
                rows_per_file,
                mess_rate,
                encoding,
            };
            let expected = zhijian_generate::generate(&options)?;
            let accepted: u64 = expected.programmes.values().map(|p| p.samples).sum();
            eprintln!(
                "generated {} rows in {} files ({accepted} samples accepted, {} rows to be rejected)",
                expected.rows,
                expected.files.len(),
                expected.rejected_rows.values().sum::<u64>()
            );
            println!("{}", out.join("pipeline.toml").display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { pipeline, period, out } => {
            let dir = zhijian_run::report(&pipeline, period.as_deref(), out.as_deref())?;
            println!("{}", dir.join("report.html").display());
            println!("{}", dir.join("report.md").display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { pipeline } => {
            let validated = zhijian_run::validate(&pipeline)?;
            println!("{}: ok", pipeline.display());
            for (source, files) in &validated.files {
                println!("  source `{source}`: {} file(s) match", files.len());
            }
            println!("  {} check(s)", validated.pipeline.checks.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `zhijian query`: resolves the tables' folder, reads the SQL, runs it, writes the result.
fn query(
    sql: Option<String>,
    pipeline: Option<PathBuf>,
    dir: Option<PathBuf>,
    format: QueryFormat,
    output: Option<PathBuf>,
    guard_formulas: bool,
) -> anyhow::Result<ExitCode> {
    let tables = match (pipeline, dir) {
        (_, Some(dir)) => dir,
        (Some(pipeline), None) => zhijian_run::output_folder(&pipeline)?,
        (None, None) => anyhow::bail!("give --pipeline FILE or --dir OUTPUT"),
    };
    let sql = match sql.as_deref() {
        None | Some("-") => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("cannot read the query from stdin")?;
            text
        }
        Some(text) => text.to_string(),
    };
    if sql.trim().is_empty() {
        anyhow::bail!("no query: give it as an argument or on stdin");
    }
    if let Some(path) = &output {
        // The result may go anywhere but into the tables it was read from.
        let inside = |p: &std::path::Path| std::fs::canonicalize(p).ok();
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        if let (Some(target), Some(root)) = (inside(parent), inside(&tables))
            && target.starts_with(&root)
        {
            anyhow::bail!(
                "`{}` lies inside the tables' folder `{}`; write the result elsewhere",
                path.display(),
                tables.display()
            );
        }
    }
    if format == QueryFormat::Parquet && output.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        anyhow::bail!("parquet is binary: give --output FILE or redirect stdout");
    }
    run_query(&tables, &sql, format, output.as_deref(), guard_formulas)
}

#[cfg(feature = "sql")]
fn run_query(
    tables: &std::path::Path,
    sql: &str,
    format: QueryFormat,
    output: Option<&std::path::Path>,
    guard_formulas: bool,
) -> anyhow::Result<ExitCode> {
    let mut opened = zhijian_query::Tables::open(tables)?;
    let mut frame = opened.query(sql)?;
    let format = match format {
        QueryFormat::Table => zhijian_query::OutputFormat::Table,
        QueryFormat::Csv => zhijian_query::OutputFormat::Csv { guard_formulas },
        QueryFormat::Json => zhijian_query::OutputFormat::Json,
        QueryFormat::Parquet => zhijian_query::OutputFormat::Parquet,
    };
    match output {
        Some(path) => {
            // Written beside its destination and renamed into place: never a half-written file.
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let temporary = path.with_file_name(format!(".{name}.zhijian-tmp"));
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(&temporary).with_context(|| format!("cannot write `{}`", path.display()))?,
            );
            zhijian_query::write_frame(&mut frame, format, &mut file)?;
            file.flush().with_context(|| format!("cannot write `{}`", path.display()))?;
            drop(file);
            std::fs::rename(&temporary, path).with_context(|| format!("cannot write `{}`", path.display()))?;
        }
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            zhijian_query::write_frame(&mut frame, format, &mut stdout)?;
            stdout.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "sql"))]
fn run_query(
    _tables: &std::path::Path,
    _sql: &str,
    _format: QueryFormat,
    _output: Option<&std::path::Path>,
    _guard_formulas: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`zhijian query` needs zhijian built with the `sql` feature (the default); this build has it off")
}

/// Writes the requested reports and returns the exit code the outcomes call for.
fn emit_reports(outcomes: &[Outcome], args: &ReportArgs, suite: &str, as_of: &str) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit(outcomes, suite))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    if let Some(path) = &args.json {
        let generated_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let json = serde_json::to_vec_pretty(&report::json(outcomes, &generated_at, as_of, suite))?;
        std::fs::write(path, json).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    if args.github {
        print!("{}", report::github_annotations(outcomes));
        if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
            let path = PathBuf::from(summary);
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot open `{}`", path.display()))?;
            file.write_all(report::markdown(outcomes, 1024 * 1024 - 1024).as_bytes())
                .with_context(|| format!("cannot write `{}`", path.display()))?;
        }
    }
    Ok(ExitCode::from(zhijian_check::exit_code(outcomes, args.warn_error)))
}
