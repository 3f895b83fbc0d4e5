//! The `zhijian` command: clap commands, logging and exit codes. The work lives in the crates.
//!
//! Exit codes: 0 ran and every check passed or only warned; 1 ran and a check failed; 2 could
//! not run (bad pipeline file, unreadable input, I/O, usage).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Quality-inspection sampling data: ingest, normalise, judge, aggregate.
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

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a pipeline: ingest every source, write the tables, aggregate, publish.
    Run {
        /// The pipeline file, e.g. pipelines/henan-2013.toml.
        pipeline: PathBuf,
        /// Write the outputs here instead of the pipeline's `output`.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Check a pipeline file and its seeds; report every error with file:line:col.
    Validate {
        /// The pipeline file.
        pipeline: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    match execute(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
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
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    match cli.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn execute(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run { pipeline, output } => {
            let options = zhijian_run::RunOptions { output, today: None };
            let outcome = zhijian_run::run(&pipeline, &options)?;
            let totals = &outcome.manifest.totals;
            println!(
                "{}: {} file(s), {} row(s) read, {} accepted, {} rejected → {}",
                outcome.manifest.pipeline_name,
                totals.files,
                totals.rows_read,
                totals.rows_accepted,
                totals.rows_rejected,
                outcome.output.display()
            );
            println!("as of {}\n", outcome.manifest.as_of);
            print!("{}", zhijian_run::render_summary(&outcome.summaries));
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { pipeline } => {
            let validated = zhijian_run::validate(&pipeline)?;
            println!("{}: ok", pipeline.display());
            for (source, files) in &validated.files {
                println!("  source `{source}`: {} file(s) match", files.len());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
