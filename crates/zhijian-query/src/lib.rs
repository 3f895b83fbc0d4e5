//! SQL over zhijian's tables, with polars. The only crate that names polars.
//!
//! [`Tables::open`] registers every table of an output folder under its name (`samples`,
//! `results`, `rejects`, `pass_rates`, `attainment`), each a lazy scan of its Hive-partitioned
//! Parquet files, read as any analyst would read them. Queries are read-only: polars SQL has
//! no statement that writes or deletes files, and only `SELECT` (and `WITH … SELECT`) is
//! accepted. Queries are sandboxed: they see the registered tables and nothing else; a table
//! function that opens a path (`read_csv('/etc/passwd')`, `read_parquet`, `read_json`, …) or a
//! path as a table name is refused before polars runs the query ([`QueryError::NotATable`]),
//! for `zhijian query` and SQL checks alike. [`write_frame`] renders a result as an aligned
//! text table, CSV (cells that a spreadsheet would run as a formula guarded), JSON or Parquet.

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars::sql::SQLContext;
use zhijian_model::text::{json_for_log, log_line};

mod sandbox;

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
    /// One statement at a time.
    #[error("expected one SELECT statement, found {0}")]
    Statements(usize),
    /// The query does not parse.
    #[error("{0}")]
    Syntax(String),
    /// The query reads something other than a table by name: a table function that opens a
    /// path, or a path.
    #[error(
        "expected a table ({}) or a name the query defines, found {found}: a query reads the published tables only, never a file",
        TABLES.join(", ")
    )]
    NotATable {
        /// What the query names instead, e.g. the table function `read_csv('/etc/passwd')`.
        found: String,
    },
    /// The query names a table that does not exist.
    #[error("{message}\nthe tables are: {}", .tables.join(", "))]
    UnknownTable {
        /// polars' message.
        message: String,
        /// The tables that exist.
        tables: Vec<String>,
    },
    /// The query names a column that does not exist.
    #[error("{message}\n{}", .columns.iter().map(|(t, c)| format!("columns of `{t}`: {}", c.join(", "))).collect::<Vec<_>>().join("\n"))]
    UnknownColumn {
        /// polars' message.
        message: String,
        /// The columns of each table the query names.
        columns: Vec<(String, Vec<String>)>,
    },
    /// polars refused the query or failed to run it.
    #[error("{0}")]
    Polars(String),
    /// Writing the result failed.
    #[error("cannot write the result: {0}")]
    Write(String),
}

impl From<PolarsError> for QueryError {
    fn from(err: PolarsError) -> Self {
        QueryError::Polars(err.to_string())
    }
}

/// The tables of one output folder, registered for SQL.
pub struct Tables {
    context: SQLContext,
    /// Each table's columns, in schema order, for messages about unknown names.
    columns: Vec<(String, Vec<String>)>,
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
        let mut columns = Vec::new();
        for table in TABLES {
            let dir = output.join(table);
            if !dir.is_dir() {
                return Err(QueryError::MissingTable { table, output: output.to_path_buf() });
            }
            let mut frame = scan(&dir)?;
            let schema = frame.collect_schema()?;
            columns.push((table.to_string(), schema.iter_names().map(|n| n.to_string()).collect()));
            context.register(table, frame);
        }
        Ok(Tables { context, columns })
    }

    /// Runs a SELECT query and collects its result. An unknown table or column gets an error
    /// that lists what exists. A query that is not one SELECT, or that reads anything but the
    /// tables (a table function such as `read_csv('…')`, a path), is refused before it runs.
    pub fn query(&mut self, sql: &str) -> Result<DataFrame, QueryError> {
        sandbox::check(sql)?;
        let result = self.context.execute(sql).and_then(|frame| frame.collect());
        result.map_err(|err| self.explain(sql, err))
    }

    fn explain(&self, sql: &str, err: PolarsError) -> QueryError {
        let message = err.to_string();
        let lower = message.to_ascii_lowercase();
        if lower.contains("relation") && lower.contains("not found") {
            return QueryError::UnknownTable { message, tables: TABLES.iter().map(|t| t.to_string()).collect() };
        }
        // polars lists the valid columns itself when one table is in scope; otherwise list them.
        let listed = lower.contains("valid columns");
        if !listed
            && (matches!(err, PolarsError::ColumnNotFound(_))
                || (lower.contains("column") && lower.contains("not found"))
                || lower.contains("no column named"))
        {
            let sql_lower = sql.to_ascii_lowercase();
            let named: Vec<(String, Vec<String>)> = self
                .columns
                .iter()
                .filter(|(table, _)| {
                    sql_lower
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .any(|word| word == table.as_str())
                })
                .cloned()
                .collect();
            return QueryError::UnknownColumn { message, columns: named };
        }
        QueryError::Polars(message)
    }
}

/// How [`write_frame`] renders a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// An aligned text table with a row count, for people; names from the data printed through
    /// [`log_line`], so no cell ends its line or passes for a CI workflow command.
    Table,
    /// CSV with a header; lists joined with `;`.
    Csv {
        /// Guard text cells against formula injection (OWASP, "CSV Injection"): a text cell
        /// that begins with `=`, `+`, `-`, `@`, a tab or a carriage return, and is not a plain
        /// number such as `-0.5`, gets a leading `'`, so a spreadsheet shows it as text instead
        /// of running it. `zhijian query` sets it unless `--no-formula-guard` is given.
        guard_formulas: bool,
    },
    /// A JSON array of row objects, on one line; `##[` in strings written `#\u0023[` (the same
    /// string to any JSON reader), so the line is safe in a CI log.
    Json,
    /// Parquet (zstd), for another program.
    Parquet,
}

/// Writes `frame` to `out` in `format`.
pub fn write_frame(frame: &mut DataFrame, format: OutputFormat, out: &mut dyn Write) -> Result<(), QueryError> {
    let write = |err: PolarsError| QueryError::Write(err.to_string());
    match format {
        OutputFormat::Table => render_table(frame, out).map_err(|e| QueryError::Write(e.to_string())),
        OutputFormat::Csv { guard_formulas } => {
            let mut flat = flatten_lists(frame)?;
            if guard_formulas {
                flat = guard_formula_cells(frame, flat)?;
            }
            CsvWriter::new(out).include_header(true).finish(&mut flat).map_err(write)
        }
        OutputFormat::Json => write_json(frame, out),
        OutputFormat::Parquet => ParquetWriter::new(out)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(frame)
            .map(|_| ())
            .map_err(write),
    }
}

/// A JSON array of row objects, numbers in their shortest exact form (polars' own JSON writer
/// rounds some floats in the last digit).
fn write_json(frame: &DataFrame, out: &mut dyn Write) -> Result<(), QueryError> {
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let mut rows = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let mut row = serde_json::Map::with_capacity(names.len());
        for (name, column) in names.iter().zip(frame.columns()) {
            row.insert(name.clone(), json_value(column.get(i)?));
        }
        rows.push(serde_json::Value::Object(row));
    }
    let text = serde_json::to_string(&rows).map_err(|e| QueryError::Write(e.to_string()))?;
    writeln!(out, "{}", json_for_log(&text)).map_err(|e| QueryError::Write(e.to_string()))
}

fn json_value(value: AnyValue<'_>) -> serde_json::Value {
    use serde_json::Value;
    match value {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(b),
        AnyValue::Int8(v) => v.into(),
        AnyValue::Int16(v) => v.into(),
        AnyValue::Int32(v) => v.into(),
        AnyValue::Int64(v) => v.into(),
        AnyValue::UInt8(v) => v.into(),
        AnyValue::UInt16(v) => v.into(),
        AnyValue::UInt32(v) => v.into(),
        AnyValue::UInt64(v) => v.into(),
        AnyValue::Float32(v) => serde_json::Number::from_f64(f64::from(v)).map_or(Value::Null, Value::Number),
        AnyValue::Float64(v) => serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::List(items) => {
            Value::Array((0..items.len()).map(|i| items.get(i).map(json_value).unwrap_or(Value::Null)).collect())
        }
        other => Value::String(other.to_string()),
    }
}

/// The text of one cell: empty for null, lists joined with `;`.
fn cell_text(value: AnyValue<'_>) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::List(items) => {
            (0..items.len()).map(|i| items.get(i).map(cell_text).unwrap_or_default()).collect::<Vec<_>>().join(";")
        }
        other => other.to_string(),
    }
}

/// CSV has no lists: list columns become text joined with `;`.
fn flatten_lists(frame: &DataFrame) -> Result<DataFrame, QueryError> {
    let mut flat = frame.clone();
    for column in frame.columns() {
        if matches!(column.dtype(), DataType::List(_)) {
            let texts: Vec<Option<String>> = (0..column.len())
                .map(|i| column.get(i).map(|v| if matches!(v, AnyValue::Null) { None } else { Some(cell_text(v)) }))
                .collect::<PolarsResult<_>>()?;
            let name = column.name().clone();
            flat.replace(name.as_str(), Column::new(name.clone(), texts))?;
        }
    }
    Ok(flat)
}

/// Whether a spreadsheet would run `text` as a formula (OWASP's list of leading characters),
/// leaving plain numbers (`-0.5`, `+3`) alone: a spreadsheet reads those as numbers.
fn formula_like(text: &str) -> bool {
    let Some(first) = text.chars().next() else { return false };
    if !matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r') {
        return false;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let plain_number = unsigned.chars().any(|c| c.is_ascii_digit())
        && unsigned.chars().all(|c| c.is_ascii_digit() || c == '.')
        && unsigned.matches('.').count() <= 1;
    !plain_number
}

/// `flat` (the CSV frame) with a `'` before every formula-like cell of the columns that hold
/// text in `frame`: strings, and lists of strings (already joined in `flat`).
fn guard_formula_cells(frame: &DataFrame, mut flat: DataFrame) -> Result<DataFrame, QueryError> {
    for column in frame.columns() {
        let text = match column.dtype() {
            DataType::String => true,
            DataType::List(inner) => matches!(inner.as_ref(), DataType::String),
            _ => false,
        };
        if !text {
            continue;
        }
        let name = column.name().clone();
        let cells = flat.column(name.as_str())?.str()?;
        if !cells.iter().flatten().any(formula_like) {
            continue;
        }
        let guarded: Vec<Option<String>> = cells
            .iter()
            .map(|cell| cell.map(|t| if formula_like(t) { format!("'{t}") } else { t.to_string() }))
            .collect();
        flat.replace(name.as_str(), Column::new(name.clone(), guarded))?;
    }
    Ok(flat)
}

/// Display width: CJK and full-width characters take two columns in a terminal.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

fn render_table(frame: &DataFrame, out: &mut dyn Write) -> std::io::Result<()> {
    let header: Vec<String> = frame.get_column_names().iter().map(|c| log_line(c).into_owned()).collect();
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        rows.push(
            frame
                .columns()
                .iter()
                .map(|c| c.get(i).map(|v| log_line(&cell_text(v)).into_owned()).unwrap_or_default())
                .collect(),
        );
    }
    let numeric: Vec<bool> = frame.columns().iter().map(|c| c.dtype().is_primitive_numeric()).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|j| rows.iter().map(|r| width(&r[j])).chain(std::iter::once(width(&header[j]))).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String], out: &mut dyn Write| -> std::io::Result<()> {
        let mut text = String::new();
        for (j, cell) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[j] - width(cell));
            if j > 0 {
                text.push_str("  ");
            }
            if numeric[j] {
                text.push_str(&pad);
                text.push_str(cell);
            } else {
                text.push_str(cell);
                if j + 1 < cells.len() {
                    text.push_str(&pad);
                }
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(&header, out)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule, out)?;
    for row in &rows {
        line(row, out)?;
    }
    writeln!(out, "({} row{})", rows.len(), if rows.len() == 1 { "" } else { "s" })
}

pub use zhijian_model::text::TextRows;

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
            row.push(cell_text(value));
        }
        rows.push(row);
    }
    Ok(TextRows { count: frame.height() as u64, columns, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(frame: &mut DataFrame, format: OutputFormat) -> String {
        let mut out = Vec::new();
        write_frame(frame, format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_cells_that_would_run_as_formulas_are_guarded() {
        let names = [
            "=HYPERLINK(\"http://x.invalid\")",
            "+1+1",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\tx",
            "-0.5",
            "-",
            "a=b",
            "",
        ];
        let mut frame = df!(
            "name" => names,
            "value" => [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        )
        .unwrap();
        let items =
            Series::new("items".into(), names.iter().map(|n| Series::new("".into(), [*n, "铅"])).collect::<Vec<_>>());
        frame.with_column(items.into()).unwrap();
        let guarded = written(&mut frame, OutputFormat::Csv { guard_formulas: true });
        let expected = "name,value,items\n\
            \"'=HYPERLINK(\"\"http://x.invalid\"\")\",-1.5,\"'=HYPERLINK(\"\"http://x.invalid\"\");铅\"\n\
            '+1+1,2.0,'+1+1;铅\n\
            '-2+3+cmd|' /C calc'!A0,-3.0,'-2+3+cmd|' /C calc'!A0;铅\n\
            '@SUM(A1),4.0,'@SUM(A1);铅\n\
            '\tx,5.0,'\tx;铅\n\
            -0.5,6.0,'-0.5;铅\n\
            '-,7.0,'-;铅\n\
            a=b,8.0,a=b;铅\n\
            \"\",9.0,;铅\n";
        assert_eq!(guarded, expected);
        let raw = written(&mut frame, OutputFormat::Csv { guard_formulas: false });
        assert!(raw.contains("\n+1+1,2.0,+1+1;铅\n"), "{raw}");
    }

    #[test]
    fn table_cells_cannot_inject_workflow_commands() {
        let mut frame = df!("category_1" => ["::stop-commands::pwned", "糕点\n::error::x"], "n" => [1, 2]).unwrap();
        let table = written(&mut frame, OutputFormat::Table);
        assert_eq!(
            table,
            "category_1                n\n------------------------  -\n:\\:stop-commands:\\:pwned  1\n糕点\\n:\\:error:\\:x        2\n(2 rows)\n"
        );
    }

    #[test]
    fn json_strings_stay_the_same_strings() {
        let mut frame = df!("a" => ["x##[error]y"]).unwrap();
        let json = written(&mut frame, OutputFormat::Json);
        assert_eq!(json, "[{\"a\":\"x#\\u0023[error]y\"}]\n");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back[0]["a"], "x##[error]y");
    }
}
