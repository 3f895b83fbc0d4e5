//! Why a file's text could not be read as a table, said so that its sender can fix it.

use zhijian_pipeline::Field;

/// Why a file's text could not be read as a table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    /// The file ends before its header row.
    #[error("no header row: the file has fewer than {header_row} lines")]
    NoHeader {
        /// The configured header line.
        header_row: usize,
    },
    /// The workbook could not be opened.
    #[error("cannot read the workbook: {message}")]
    Workbook {
        /// calamine's message.
        message: String,
    },
    /// The configured worksheet does not exist.
    #[error("no worksheet {wanted} in the workbook; it has: {}", .found.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "))]
    NoSheet {
        /// The sheet asked for, quoted or numbered.
        wanted: String,
        /// The sheets the workbook has.
        found: Vec<String>,
    },
    /// A worksheet has more cells than `max_cells` allows.
    #[error(
        "worksheet `{sheet}` has more than {limit} cells (merged regions filled in); raise `max_cells` in the source's `[sources.limits]` if it really is that large"
    )]
    TooManyCells {
        /// The worksheet.
        sheet: String,
        /// The limit.
        limit: usize,
    },
    /// An `.xlsx` file unzips to more than `max_unzipped_bytes`.
    #[error(
        "the workbook unzips to more than {limit} bytes; raise `max_unzipped_bytes` in the source's `[sources.limits]` if it really is that large"
    )]
    Unzipped {
        /// The limit, in bytes.
        limit: u64,
    },
    /// An `.xlsx` file unzips to more than `max_compression_ratio` times its size.
    #[error(
        "the workbook unzips to more than {limit} times its {bytes} bytes, as a zip bomb does; raise `max_compression_ratio` in the source's `[sources.limits]` if it is genuine"
    )]
    CompressionRatio {
        /// The limit.
        limit: f64,
        /// The file's size.
        bytes: u64,
    },
    /// The file could not be read to its end.
    #[error("cannot read the file: {message}")]
    Io {
        /// The OS's message.
        message: String,
    },
    /// The CSV reader failed.
    #[error("line {line}: {message}")]
    Csv {
        /// Line of the problem.
        line: u64,
        /// The reader's message.
        message: String,
    },
    /// `header_row = "auto"` found no row with a column for every required field.
    #[error("{}", describe_not_found(*.searched, .sought, .closest))]
    HeaderNotFound {
        /// How many rows were searched.
        searched: usize,
        /// Each required field with the headers it may appear under.
        sought: Vec<(Field, Vec<String>)>,
        /// The row that came closest (fewest fields without a column), and what it lacks.
        closest: Option<(u64, Box<ReadError>)>,
    },
    /// A problem with one worksheet of a workbook read on several (`sheet = "*"` or a list).
    #[error("worksheet `{sheet}`: {source}")]
    InSheet {
        /// The worksheet.
        sheet: String,
        /// What is wrong with it.
        source: Box<ReadError>,
    },
    /// `sheet = "*"`: no worksheet has the mapped header.
    #[error(
        "no worksheet has the mapped header: {}",
        if .sheets.is_empty() {
            "the workbook has no worksheet".to_string()
        } else {
            .sheets.iter().map(|(sheet, why)| format!("`{sheet}`: {why}")).collect::<Vec<_>>().join("; ")
        }
    )]
    NoSheetWithHeader {
        /// Each worksheet, with why it was not read.
        sheets: Vec<(String, String)>,
    },
    /// Required fields have no column.
    #[error("{}", describe_missing(.missing, .found))]
    MissingColumns {
        /// Each missing field with the headers it may appear under.
        missing: Vec<(Field, Vec<String>)>,
        /// The headers the file has.
        found: Vec<String>,
    },
}

/// Each field with the headers it may appear under: `` `city` (`所在市` or `地市`) ``, the
/// headers after `lead`.
fn describe_fields(fields: &[(Field, Vec<String>)], lead: &str) -> Vec<String> {
    fields
        .iter()
        .map(|(field, aliases)| {
            let names = aliases.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or ");
            format!("`{}` ({lead}{names})", field.as_str())
        })
        .collect()
}

fn describe_missing(missing: &[(Field, Vec<String>)], found: &[String]) -> String {
    let fields = describe_fields(missing, "expected a column named ");
    format!(
        "missing required column(s): {}; the header has: {}",
        fields.join(", "),
        found.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
    )
}

fn describe_not_found(
    searched: usize,
    sought: &[(Field, Vec<String>)],
    closest: &Option<(u64, Box<ReadError>)>,
) -> String {
    let fields = describe_fields(sought, "");
    let mut message = format!(
        "no header row among the first {searched} rows: expected a row with a column for each of {}",
        fields.join(", ")
    );
    if let Some((line, why)) = closest {
        message.push_str(&format!("; the closest is line {line}: {why}"));
    }
    message
}
