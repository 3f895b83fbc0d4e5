//! `zhijian report`: writes the quality-status report of a period and prints its files.

use std::path::Path;
use std::process::ExitCode;

/// Writes report.html and report.md for `period` into `out` and prints their paths.
pub(crate) fn execute(pipeline: &Path, period: Option<&str>, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let dir = zhijian_run::report(pipeline, period, out)?;
    println!("{}", dir.join("report.html").display());
    println!("{}", dir.join("report.md").display());
    Ok(ExitCode::SUCCESS)
}
