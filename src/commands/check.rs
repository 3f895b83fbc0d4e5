//! `zhijian check`: evaluates a pipeline's checks on the outputs of its last run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use zhijian_check::report;

use crate::check_reports::emit_reports;
use crate::cli::ReportArgs;
use crate::sql_engine::sql_engine;

/// Checks the outputs in `output` (the pipeline's own by default), prints the table and reports.
pub(crate) fn execute(pipeline: &Path, output: Option<PathBuf>, report: &ReportArgs) -> anyhow::Result<ExitCode> {
    let options = zhijian_run::RunOptions {
        output,
        today: None,
        sql: sql_engine(),
        skip_checks: false,
        full_refresh: false,
        progress: None,
        batch_rows: 0,
    };
    let checked = zhijian_run::check(pipeline, &options)?;
    print!("{}", report::table(&checked.outcomes));
    emit_reports(&checked.outcomes, report, &checked.pipeline_name, &checked.as_of.to_string())
}
