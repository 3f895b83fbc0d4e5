//! SQL over zhijian's tables, with polars. The only crate that names polars.
//!
//! [`Tables::open`] registers every table of an output folder under its name (`samples`,
//! `results`, `rejects`, `pass_rates`, `attainment`), each a lazy scan of its Hive-partitioned
//! Parquet files, read as any analyst would read them. Queries are read-only: polars SQL has
//! no statement that writes or deletes files, and only `SELECT` (and `WITH … SELECT`) is
//! accepted.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars::sql::SQLContext;

/// The tables a query can name.
pub const TABLES: &[&str] = &["samples", "results", "rejects", "pass_rates", "attainment"];

/// Why a query could not run.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The output folder lacks a table.
    #[error("no table `{table}` in `{}`; run `zhijian run` first", output.display())]
    MissingTable {
        /// The table.
        table: &'static str,
        /// The output folder.
        output: PathBuf,
    },
    /// Only reading statements are accepted.
    #[error("only SELECT queries are accepted, found `{0}`")]
    NotSelect(String),
    /// polars refused the query or failed to run it.
    #[error("{0}")]
    Polars(String),
}

impl From<PolarsError> for QueryError {
    fn from(err: PolarsError) -> Self {
        QueryError::Polars(err.to_string())
    }
}

/// The tables of one output folder, registered for SQL.
pub struct Tables {
    context: SQLContext,
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tables").field("tables", &self.context.get_tables()).finish()
    }
}

fn scan(dir: &Path) -> PolarsResult<LazyFrame> {
    let args = ScanArgsParquet { hive_options: HiveOptions::new_enabled(), ..Default::default() };
    let pattern = format!("{}/**/*.parquet", dir.display());
    LazyFrame::scan_parquet(PlRefPath::new(pattern.as_str()), args)
}

impl Tables {
    /// Registers every table of `output`.
    pub fn open(output: &Path) -> Result<Tables, QueryError> {
        let context = SQLContext::new();
        for table in TABLES {
            let dir = output.join(table);
            if !dir.is_dir() {
                return Err(QueryError::MissingTable { table, output: output.to_path_buf() });
            }
            context.register(table, scan(&dir)?);
        }
        Ok(Tables { context })
    }

    /// Runs a SELECT query and collects its result.
    pub fn query(&mut self, sql: &str) -> Result<DataFrame, QueryError> {
        let first = sql.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        if !matches!(first.as_str(), "select" | "with" | "(") {
            return Err(QueryError::NotSelect(first));
        }
        Ok(self.context.execute(sql)?.collect()?)
    }
}

/// A query's result as text cells.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextRows {
    /// Rows in the result.
    pub count: u64,
    /// Column names.
    pub columns: Vec<String>,
    /// The first rows, each cell rendered as text (empty for null).
    pub rows: Vec<Vec<String>>,
}

/// Runs `sql` over the tables of `output`; returns the row count and the first `keep` rows.
pub fn query_text(output: &Path, sql: &str, keep: usize) -> Result<TextRows, QueryError> {
    let mut tables = Tables::open(output)?;
    let frame = tables.query(sql)?;
    let columns: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let head = frame.head(Some(keep));
    let mut rows = Vec::with_capacity(head.height());
    for i in 0..head.height() {
        let mut row = Vec::with_capacity(columns.len());
        for column in head.columns() {
            let value = column.get(i).map_err(QueryError::from)?;
            row.push(match value {
                AnyValue::Null => String::new(),
                AnyValue::String(s) => s.to_string(),
                AnyValue::StringOwned(s) => s.to_string(),
                other => other.to_string(),
            });
        }
        rows.push(row);
    }
    Ok(TextRows { count: frame.height() as u64, columns, rows })
}
