//! The check reports besides the table on stdout: JUnit, JSON, GitHub annotations and step summary.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use zhijian_check::{Outcome, report};

use crate::cli::ReportArgs;

/// Writes the requested reports and returns the exit code the outcomes call for.
pub(crate) fn emit_reports(
    outcomes: &[Outcome],
    args: &ReportArgs,
    suite: &str,
    as_of: &str,
) -> anyhow::Result<ExitCode> {
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
