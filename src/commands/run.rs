//! `zhijian run`: runs a pipeline and prints its totals, its summary and its checks.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zhijian_check::report;
use zhijian_model::text::log_lines;

use crate::check_reports::emit_reports;
use crate::cli::ReportArgs;
use crate::progress;
use crate::sql_engine::sql_engine;

/// Runs the pipeline with a progress bar unless `quiet`, prints what it did, and reports its
/// checks.
pub(crate) fn execute(
    pipeline: &Path,
    output: Option<PathBuf>,
    no_checks: bool,
    full_refresh: bool,
    batch_rows: usize,
    report: &ReportArgs,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let bar = progress::bar(quiet);
    let progress = bar.clone().map(progress::reporter);
    let options = zhijian_run::RunOptions {
        output,
        today: None,
        sql: sql_engine(),
        skip_checks: no_checks,
        full_refresh,
        progress,
        batch_rows,
    };
    let outcome = zhijian_run::run(pipeline, &options);
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
    emit_reports(&outcome.checks, report, &outcome.manifest.pipeline_name, &outcome.manifest.as_of.to_string())
}
