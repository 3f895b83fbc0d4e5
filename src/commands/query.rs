//! `zhijian query`: SQL over a run's tables, the result printed or written to a file.

#[cfg(feature = "sql")]
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::QueryFormat;

/// `zhijian query`: resolves the tables' folder, reads the SQL, runs it, writes the result.
pub(crate) fn execute(
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
            crate::atomic_file::write(path, |file| Ok(zhijian_query::write_frame(&mut frame, format, file)?))?;
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
    anyhow::bail!(
        "`zhijian query` needs zhijian built with the `sql` feature, and this build has it off: \
         `cargo build --features sql` (or `cargo install --path . --features sql`)"
    )
}
