//! The `zhijian` command: clap commands, logging and exit codes. The work lives in the crates.
//!
//! Exit codes: 0 ran and every check passed or only warned; 1 ran and a check failed; 2 could
//! not run (bad pipeline file, unreadable input, I/O, usage, checks that cannot be evaluated).

#[cfg(feature = "sql")]
mod atomic_file;
mod check_reports;
mod cli;
mod commands;
mod logging;
mod progress;
mod sql_engine;

use std::process::ExitCode;

use clap::Parser as _;
use zhijian_model::text::log_lines;

use crate::cli::{Cli, Command};

// Ingest allocates many small strings on every core; mimalloc is faster at that than glibc's
// malloc and returns freed memory instead of keeping per-thread arenas resident.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(&cli);
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

/// Hands the command to its module; `quiet` (`-q`) also hides the progress bar.
fn execute(command: Command, quiet: bool) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run { pipeline, output, no_checks, full_refresh, batch_rows, report } => {
            commands::run::execute(&pipeline, output, no_checks, full_refresh, batch_rows, &report, quiet)
        }
        Command::Check { pipeline, output, report } => commands::check::execute(&pipeline, output, &report),
        Command::Query { sql, pipeline, dir, format, output, no_formula_guard } => {
            commands::query::execute(sql, pipeline, dir, format, output, !no_formula_guard)
        }
        Command::Generate { samples, seed, out, seeds, rows_per_file, mess_rate, encoding } => {
            commands::generate::execute(samples, seed, out, seeds, rows_per_file, mess_rate, encoding)
        }
        Command::Report { pipeline, period, out } => {
            commands::report::execute(&pipeline, period.as_deref(), out.as_deref())
        }
        Command::Validate { pipeline } => commands::validate::execute(&pipeline),
    }
}
