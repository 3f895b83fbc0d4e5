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
    // The file is valid whatever the build; a check this binary cannot evaluate is a warning
    // here, where `zhijian check` and `zhijian run` stop on it.
    let has_sql = crate::sql_engine::sql_engine().is_some();
    for spec in &validated.pipeline.checks {
        if !has_sql && matches!(spec.kind, zhijian_model::checks::CheckKind::Sql { .. }) {
            let origin = &spec.origin;
            let what = if spec.optional {
                "optional: reported as skipped"
            } else {
                "`zhijian check` and `zhijian run` stop with exit code 2 on it"
            };
            println!(
                "  warning: {}:{}:{}: check `{}` is an `sql` check and this zhijian is built without \
                 `--features sql` ({what})",
                origin.file, origin.line, origin.column, spec.name
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
