//! `zhijian validate`: checks a pipeline file and its seeds and prints what it found.

use std::path::Path;
use std::process::ExitCode;

/// Validates the pipeline file and prints its sources' matching files and its checks' count.
pub(crate) fn execute(pipeline: &Path) -> anyhow::Result<ExitCode> {
    let validated = zhijian_run::validate(pipeline)?;
    println!("{}: ok", pipeline.display());
    for (source, files) in &validated.files {
        println!("  source `{source}`: {} file(s) match", files.len());
    }
    println!("  {} check(s)", validated.pipeline.checks.len());
    Ok(ExitCode::SUCCESS)
}
