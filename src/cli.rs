//! The command line: clap's `Cli` and `Command` definitions and the argument types they share.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `--version`: the version and the cargo features built in, so a bug report or a CI log says
/// whether this binary can run `zhijian query` and `sql` checks.
const VERSION: &str = if cfg!(feature = "sql") {
    concat!(env!("CARGO_PKG_VERSION"), " (features: sql)")
} else {
    concat!(env!("CARGO_PKG_VERSION"), " (features: none; `--features sql` adds `zhijian query` and sql checks)")
};

/// Quality-inspection sampling data: ingest, normalise, judge, aggregate, check.
#[derive(Debug, Parser)]
#[command(name = "zhijian", version = VERSION, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How check results are reported, besides the table on stdout.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Write the check results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) junit: Option<PathBuf>,
    /// Write the check results as JSON (after dbt's run_results.json) to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// Print GitHub annotations (10 errors and 10 warnings at most, worst first) and append the
    /// table to $GITHUB_STEP_SUMMARY when it is set.
    #[arg(long)]
    pub(crate) github: bool,
    /// Treat warnings as failures (exit 1).
    #[arg(long)]
    pub(crate) warn_error: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
pub(crate) enum GenerateEncoding {
    /// UTF-8, no byte-order mark.
    #[value(name = "utf-8")]
    Utf8,
    /// GB18030, no byte-order mark, as the agencies' systems export.
    Gb18030,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum QueryFormat {
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
