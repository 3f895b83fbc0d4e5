//! Reading delimited text into records and mapping its header onto canonical fields. Excel
//! workbooks become the same [`Table`] in [`crate::excel`].

use std::collections::{HashMap, VecDeque};

use zhijian_pipeline::{ColumnMap, Field, Limits, Source};
use zhijian_seeds::normalise_key;

/// One data record of a file: its cells in one string, so a record is two allocations
/// rather than one per cell. A worksheet row with few cells far apart (a lone cell at
/// `XFD7`) keeps only the cells it has, with their columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// Record number among the data records, from 0 (header and title rows excluded).
    pub record: u64,
    /// Line where the record starts, from 1.
    pub line: u64,
    /// The cells, as decoded, one after another.
    text: String,
    /// Where each cell ends in `text`.
    ends: Vec<usize>,
    /// For a sparse worksheet row: the column (from 0, ascending) of each cell of `ends`, and
    /// the row's width; the columns between hold empty cells.
    sparse: Option<Box<(Vec<u32>, u32)>>,
    /// Why the record could not be split into fields; its one cell is then its text.
    malformed: Option<Box<Malformed>>,
}

/// Gaps of more empty cells than this between two cells of a sparse row are written as one
/// `…` cell by [`RawRecord::joined`], so a row with a cell far to the right does not make a
/// huge `raw_record`.
const JOINED_GAP_MAX: u32 = 255;

impl RawRecord {
    /// A record of these cells.
    pub fn new<'c>(record: u64, line: u64, cells: impl IntoIterator<Item = &'c str>) -> Self {
        let (mut text, mut ends) = (String::new(), Vec::new());
        for cell in cells {
            text.push_str(cell);
            ends.push(text.len());
        }
        RawRecord { record, line, text, ends, sparse: None, malformed: None }
    }

    /// A worksheet row of `width` columns from the cells it has, `(column from 0, text)` in
    /// ascending columns: laid out in full when that costs little more than the cells
    /// themselves, else kept sparse, so memory follows the cells present.
    pub(crate) fn from_cells(record: u64, line: u64, cells: &[(u32, String)], width: u32) -> Self {
        let dense = (width as usize) <= 2 * cells.len() + 64;
        let mut text = String::with_capacity(cells.iter().map(|(_, t)| t.len()).sum());
        let mut ends = Vec::with_capacity(if dense { width as usize } else { cells.len() });
        if dense {
            let mut next = cells.iter().peekable();
            for column in 0..width {
                if let Some((_, cell)) = next.next_if(|(c, _)| *c == column) {
                    text.push_str(cell);
                }
                ends.push(text.len());
            }
            return RawRecord { record, line, text, ends, sparse: None, malformed: None };
        }
        let mut columns = Vec::with_capacity(cells.len());
        for (column, cell) in cells.iter().filter(|(c, _)| *c < width) {
            text.push_str(cell);
            ends.push(text.len());
            columns.push(*column);
        }
        RawRecord { record, line, text, ends, sparse: Some(Box::new((columns, width))), malformed: None }
    }

    /// Why a CSV record could not be split into fields (a stray quote, a field or record
    /// beyond the limits): such a record holds one cell, its text as written, and is rejected
    /// as `record_malformed`.
    pub fn malformed(&self) -> Option<&Malformed> {
        self.malformed.as_deref()
    }

    /// The `k`-th stored cell.
    fn stored(&self, k: usize) -> Option<&str> {
        let end = *self.ends.get(k)?;
        let start = if k == 0 { 0 } else { *self.ends.get(k - 1)? };
        self.text.get(start..end)
    }

    /// The cell in column `index` (from 0), as decoded.
    pub fn field(&self, index: usize) -> Option<&str> {
        match &self.sparse {
            None => self.stored(index),
            Some(sparse) => {
                let (columns, width) = &**sparse;
                let column = u32::try_from(index).ok().filter(|c| c < width)?;
                match columns.binary_search(&column) {
                    Ok(k) => self.stored(k),
                    Err(_) => Some(""),
                }
            }
        }
    }

    /// The cells in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        let width = self.sparse.as_ref().map_or(self.ends.len(), |s| s.1 as usize);
        (0..width).filter_map(|i| self.field(i))
    }

    /// The whole record as text, cells joined by `|`, for `rejects.raw_record`; in a sparse
    /// row, a run of more than 255 empty cells is one `…` cell.
    pub fn joined(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.ends.len());
        let Some(sparse) = &self.sparse else {
            for k in 0..self.ends.len() {
                if k > 0 {
                    out.push('|');
                }
                out.push_str(self.stored(k).unwrap_or(""));
            }
            return out;
        };
        let (columns, width) = &**sparse;
        let mut cells = 0usize;
        let mut push = |out: &mut String, text: &str| {
            if cells > 0 {
                out.push('|');
            }
            out.push_str(text);
            cells += 1;
        };
        let mut next = 0u32;
        for (k, column) in columns.iter().enumerate() {
            push_gap(&mut out, &mut push, column.saturating_sub(next));
            push(&mut out, self.stored(k).unwrap_or(""));
            next = column + 1;
        }
        push_gap(&mut out, &mut push, width.saturating_sub(next));
        out
    }
}

/// Writes `length` empty cells, or one `…` cell for a run longer than [`JOINED_GAP_MAX`].
fn push_gap(out: &mut String, push: &mut impl FnMut(&mut String, &str), length: u32) {
    if length > JOINED_GAP_MAX {
        push(out, "…");
    } else {
        for _ in 0..length {
            push(out, "");
        }
    }
}

/// A file's header and records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// The header of each column: the texts of its header rows, top to bottom, joined with
    /// `/` (`检测结果/检验结论` under a merged two-row header).
    pub header: Vec<String>,
    /// The bottom part of each column's header (`检验结论`), which aliases may name alone.
    pub header_leaves: Vec<String>,
    /// Excel serial numbers in this file count from 1904 (a workbook saved on a Mac).
    pub date1904: bool,
    /// Data records, blank ones excluded.
    pub records: Vec<RawRecord>,
    /// Rows below the header with every cell empty (Excel's trailing `,,,,` rows, empty lines),
    /// skipped and counted.
    pub blank_records: u64,
    /// Line (worksheet row) of the header's first row, from 1.
    pub header_line: u64,
    /// The runs of blank rows below the header that another row follows, as (first line, last
    /// line) from 1: separators inside the data, listed in the manifest. Blank rows after the
    /// last row are only counted.
    pub blank_runs: Vec<(u64, u64)>,
}

/// How many rows `header_row = "auto"` searches for the header: it must start on one of the
/// first 50 rows (worksheet rows 1–50; the first 50 non-empty lines of delimited text).
pub const HEADER_SEARCH_ROWS: usize = 50;

/// Where a table's header is.
#[derive(Debug, Clone, Copy)]
pub enum HeaderSearch<'s> {
    /// Its first row, from 1 (a line of delimited text, a worksheet row): `header_row = 3`.
    At(usize),
    /// `header_row = "auto"`: the first of the first [`HEADER_SEARCH_ROWS`] rows where a header
    /// (of `header_rows` rows, from there down) has a column for every field the source
    /// requires, as [`ColumnIndex::for_source`] maps it.
    Auto(&'s Source),
}

impl<'s> HeaderSearch<'s> {
    /// Where the header of `source`'s files is.
    pub fn of(source: &'s Source) -> HeaderSearch<'s> {
        match source.format.header().0 {
            zhijian_pipeline::HeaderRow::Fixed(row) => HeaderSearch::At(row),
            zhijian_pipeline::HeaderRow::Auto => HeaderSearch::Auto(source),
        }
    }
}

/// The first of `rows` (a table's first rows, top to bottom: each one's line from 1 and its
/// trimmed cells) that starts a header of `header_rows` rows mapping every field `source`
/// requires; only the first [`HEADER_SEARCH_ROWS`] rows may start it. `fill_right` composes
/// the header as delimited text leaves a merged cell (see [`compose_header`]).
pub fn find_header(
    rows: &[(u64, Vec<String>)],
    header_rows: usize,
    fill_right: bool,
    source: &Source,
) -> Result<usize, ReadError> {
    let span = header_rows.max(1);
    // The closest miss, for the error: the fewest fields without a column.
    let mut closest: Option<(usize, u64, ReadError)> = None;
    for start in 0..rows.len().min(HEADER_SEARCH_ROWS) {
        let Some(candidate) = rows.get(start..start + span) else { break };
        let lines: Vec<Vec<String>> = candidate.iter().map(|(_, cells)| cells.clone()).collect();
        let (header, header_leaves) = compose_header(&lines, fill_right);
        if header.iter().all(String::is_empty) {
            continue;
        }
        let table = Table { header, header_leaves, ..Table::default() };
        match ColumnIndex::for_source(&table, source) {
            Ok(_) => return Ok(start),
            Err(err) => {
                let missing = match &err {
                    ReadError::MissingColumns { missing, .. } => missing.len(),
                    _ => usize::MAX,
                };
                if closest.as_ref().is_none_or(|(fewest, _, _)| missing < *fewest) {
                    closest = Some((missing, candidate[0].0, err));
                }
            }
        }
    }
    let required = source.required_fields();
    Err(ReadError::HeaderNotFound {
        searched: HEADER_SEARCH_ROWS,
        sought: required.iter().map(|f| (*f, source.columns.aliases(*f).to_vec())).collect(),
        closest: closest.map(|(_, line, err)| (line, Box::new(err))),
    })
}

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

/// Composes a header from its rows (top to bottom): each column's non-empty texts, without
/// repeats, joined with `/`. An empty cell in an upper row takes the text on its left, as a
/// merged group header exported to CSV leaves it (`检测结果,,`).
pub fn compose_header(rows: &[Vec<String>], fill_right: bool) -> (Vec<String>, Vec<String>) {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut filled: Vec<Vec<String>> = rows.to_vec();
    if fill_right {
        let last = filled.len().saturating_sub(1);
        for row in filled.iter_mut().take(last) {
            let mut left = String::new();
            row.resize(width, String::new());
            for cell in row.iter_mut() {
                if cell.trim().is_empty() {
                    cell.clone_from(&left);
                } else {
                    left = cell.trim().to_string();
                }
            }
        }
    }
    let mut header = Vec::with_capacity(width);
    let mut leaves = Vec::with_capacity(width);
    for column in 0..width {
        let mut parts: Vec<String> = Vec::new();
        for row in &filled {
            let text = row.get(column).map_or("", |c| c.trim()).replace(['\n', '\r'], "");
            if !text.is_empty() && parts.last() != Some(&text) {
                parts.push(text);
            }
        }
        leaves.push(parts.last().cloned().unwrap_or_default());
        header.push(parts.join("/"));
    }
    (header, leaves)
}

/// Parses `text` as delimited records with the default [`Limits`]; lines before `header_row`
/// (1-based) are titles, and the header spans `header_rows` records.
pub fn read_table(text: &str, delimiter: u8, header_row: usize, header_rows: usize) -> Result<Table, ReadError> {
    let mut reader = TableReader::new(text, delimiter, header_row, header_rows, &Limits::default())?;
    let mut records = Vec::new();
    loop {
        let chunk = reader.next_chunk(usize::MAX)?;
        if chunk.is_empty() {
            break;
        }
        records.extend(chunk);
    }
    let mut table = reader.header();
    table.blank_records = reader.blank_records();
    table.blank_runs = reader.blank_runs().to_vec();
    table.records = records;
    Ok(table)
}

/// Reads delimited text record by record, so a large file's records need not all be in
/// memory at once: the header first ([`TableReader::new`]), then chunks of records.
///
/// The dialect is RFC 4180's, as spreadsheets write it: a field that starts with `"` is
/// quoted and may hold delimiters, line breaks and doubled quotes (`""`); a quote inside an
/// unquoted field is a character like any other; a line ends at `\r\n`, `\n` or `\r`, and
/// empty lines are skipped. A record that cannot be split — a quote never closed, text after
/// a closing quote, a field or record beyond the [`Limits`] — comes back as a record with
/// [`RawRecord::malformed`] set, holding the lines from its start to the line where it went
/// wrong; reading resumes on the next line, so one stray quote costs one record, not the
/// rest of the file.
#[derive(Debug)]
pub struct TableReader<'t> {
    splitter: Splitter<'t>,
    header: Vec<String>,
    header_leaves: Vec<String>,
    header_line: u64,
    records: u64,
    blank_records: u64,
    blank_runs: Vec<(u64, u64)>,
    /// The blank rows since the last row that was not blank: (first line, last line).
    pending_blank: Option<(u64, u64)>,
    /// Records read while searching for the header, below it: the data's first, each with
    /// the empty lines before it.
    queued: VecDeque<(RawRecord, u64)>,
}

impl<'t> TableReader<'t> {
    /// Reads up to and including the header rows, the header's first line being `header_row`
    /// (from 1). A header row that cannot be split is an error; a malformed title line above
    /// it is skipped like any title.
    pub fn new(
        text: &'t str,
        delimiter: u8,
        header_row: usize,
        header_rows: usize,
        limits: &Limits,
    ) -> Result<Self, ReadError> {
        TableReader::open(text, delimiter, HeaderSearch::At(header_row), header_rows, limits)
    }

    /// Reads up to and including the header rows, found as `header` says: at a fixed line, or
    /// searched for (`header_row = "auto"`, see [`find_header`]), in which case the records
    /// read past the header are the first data records.
    pub fn open(
        text: &'t str,
        delimiter: u8,
        header: HeaderSearch<'_>,
        header_rows: usize,
        limits: &Limits,
    ) -> Result<Self, ReadError> {
        TableReader::open_source(Box::new(InMemory::new(text, usize::MAX)), delimiter, header, header_rows, limits)
    }

    /// [`Self::open`] over text that arrives in pieces — a file decoded as it is read — so
    /// that only a window of it is held (see [`Splitter::new`]): the records are the same
    /// however the text is cut.
    pub fn open_source(
        source: Box<dyn TextSource + Send + 't>,
        delimiter: u8,
        header: HeaderSearch<'_>,
        header_rows: usize,
        limits: &Limits,
    ) -> Result<Self, ReadError> {
        let mut this = TableReader {
            splitter: Splitter::new(source, delimiter, limits),
            header: Vec::new(),
            header_leaves: Vec::new(),
            header_line: 0,
            records: 0,
            blank_records: 0,
            blank_runs: Vec::new(),
            pending_blank: None,
            queued: VecDeque::new(),
        };
        let span = header_rows.max(1);
        let mut header_lines: Vec<Vec<String>> = Vec::new();
        match header {
            HeaderSearch::At(header_row) => {
                while header_lines.len() < span {
                    let Some(record) = this.splitter.next_record(0) else {
                        this.splitter.failed()?;
                        return Err(ReadError::NoHeader { header_row });
                    };
                    if (record.line as usize) < header_row {
                        continue;
                    }
                    if let Some(malformed) = &record.malformed {
                        return Err(ReadError::Csv {
                            line: record.line,
                            message: format!("the header row: {malformed}"),
                        });
                    }
                    if header_lines.is_empty() {
                        this.header_line = record.line;
                    }
                    header_lines.push(record.fields().map(|c| c.trim().to_string()).collect());
                }
            }
            HeaderSearch::Auto(source) => {
                let mut scanned: Vec<(RawRecord, u64)> = Vec::new();
                while scanned.len() < HEADER_SEARCH_ROWS + span - 1 {
                    let Some(record) = this.splitter.next_record(0) else { break };
                    scanned.push((record, this.splitter.empty_lines));
                }
                this.splitter.failed()?;
                // A malformed line is no header: it is searched as an empty row.
                let rows: Vec<(u64, Vec<String>)> = scanned
                    .iter()
                    .map(|(record, _)| {
                        let cells = match record.malformed {
                            Some(_) => Vec::new(),
                            None => record.fields().map(|c| c.trim().to_string()).collect(),
                        };
                        (record.line, cells)
                    })
                    .collect();
                let start = find_header(&rows, span, true, source)?;
                this.header_line = rows[start].0;
                header_lines = rows[start..start + span].iter().map(|(_, cells)| cells.clone()).collect();
                this.queued = scanned.into_iter().skip(start + span).collect();
            }
        }
        let (header, leaves) = compose_header(&header_lines, true);
        this.header = header;
        this.header_leaves = leaves;
        Ok(this)
    }

    /// The header, as a [`Table`] without records.
    pub fn header(&self) -> Table {
        Table {
            header: self.header.clone(),
            header_leaves: self.header_leaves.clone(),
            header_line: self.header_line,
            ..Table::default()
        }
    }

    /// Rows with every cell empty, and empty lines, skipped below the header so far.
    pub fn blank_records(&self) -> u64 {
        self.blank_records
    }

    /// The runs of blank rows below the header so far that a row followed: (first line, last
    /// line), from 1.
    pub fn blank_runs(&self) -> &[(u64, u64)] {
        &self.blank_runs
    }

    /// Counts `count` blank rows from line `first` to `last` into the current run.
    fn blank(&mut self, first: u64, last: u64, count: u64) {
        self.blank_records += count;
        self.pending_blank = Some(match self.pending_blank {
            Some((from, to)) => (from, to.max(last)),
            None => (first, last),
        });
    }

    /// Up to `max` more data records, numbered from 0; empty at the end of the text.
    /// Malformed records are among them (see [`RawRecord::malformed`]); blank ones and empty
    /// lines are counted and skipped.
    pub fn next_chunk(&mut self, max: usize) -> Result<Vec<RawRecord>, ReadError> {
        let mut out = Vec::with_capacity(max.min(64 * 1024));
        while out.len() < max {
            let (mut record, empty_lines) = match self.queued.pop_front() {
                Some(queued) => queued,
                None => match self.splitter.next_record(0) {
                    Some(record) => (record, self.splitter.empty_lines),
                    None => {
                        self.splitter.failed()?;
                        // Empty lines at the end, and blank rows after the last row: counted only.
                        self.blank_records += self.splitter.empty_lines;
                        self.splitter.empty_lines = 0;
                        self.pending_blank = None;
                        break;
                    }
                },
            };
            if empty_lines > 0 {
                self.blank(record.line.saturating_sub(empty_lines), record.line.saturating_sub(1), empty_lines);
            }
            if record.malformed.is_none() && record.fields().all(|c| c.trim().is_empty()) {
                self.blank(record.line, record.line, 1);
                continue;
            }
            if let Some(run) = self.pending_blank.take() {
                self.blank_runs.push(run);
            }
            record.record = self.records;
            out.push(record);
            self.records += 1;
        }
        Ok(out)
    }
}

/// Why a CSV record could not be split into fields. The record goes to `rejects` as
/// `record_malformed`; its text is the lines from its start to the line where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// What went wrong.
    pub kind: MalformedKind,
    /// Field (from 0) where it went wrong.
    pub field: usize,
    /// The first and last line of the record as rejected, from 1; reading resumed on the line
    /// after the last.
    pub lines: (u64, u64),
}

/// What went wrong in a [`Malformed`] record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedKind {
    /// A quote opened a field on `line` and is not closed before the end of the text.
    UnclosedQuote {
        /// Line of the opening quote, from 1.
        line: u64,
    },
    /// A quote opened a field on `line` and closed on `closed_on`, followed by text rather than
    /// a delimiter or the end of the line: usually a stray quote closed by another field's.
    TextAfterQuote {
        /// Line of the opening quote, from 1.
        line: u64,
        /// Line of the closing quote, from 1.
        closed_on: u64,
    },
    /// A field longer than `max_field_bytes`; when `quoted`, a quote opened on `line` and is
    /// not closed within the limit.
    FieldTooLong {
        /// Line of the field's start (its opening quote), from 1.
        line: u64,
        /// Whether the field is quoted.
        quoted: bool,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A record longer than `max_record_bytes`.
    RecordTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = self.field + 1;
        match &self.kind {
            MalformedKind::UnclosedQuote { line } => {
                write!(f, "the quote that opens field {field} on line {line} is never closed")?
            }
            MalformedKind::TextAfterQuote { line, closed_on } => write!(
                f,
                "the quote that opens field {field} on line {line} closes on line {closed_on} and is followed by text, not by a delimiter or the end of the line"
            )?,
            MalformedKind::FieldTooLong { line, quoted: true, limit } => write!(
                f,
                "the quote that opens field {field} on line {line} is not closed within {limit} bytes (`max_field_bytes`)"
            )?,
            MalformedKind::FieldTooLong { line, quoted: false, limit } => {
                write!(f, "field {field} on line {line} is longer than {limit} bytes (`max_field_bytes`)")?
            }
            MalformedKind::RecordTooLong { limit } => {
                write!(f, "the record is longer than {limit} bytes (`max_record_bytes`)")?
            }
        }
        let (first, last) = self.lines;
        if first == last {
            write!(f, "; line {first} rejected, reading resumes on line {}", last + 1)
        } else {
            write!(f, "; lines {first}–{last} rejected, reading resumes on line {}", last + 1)
        }
    }
}

/// The most of a malformed record's text kept in `rejects.raw_record`, in bytes.
const MALFORMED_TEXT_KEPT: usize = 4096;

/// Text that arrives in pieces: a file decoded as it is read ([`crate::decode::TextStream`]),
/// or text in memory ([`InMemory`]).
pub trait TextSource {
    /// Appends the next piece of text to `out`; `Ok(0)` once the text has ended.
    fn read_text(&mut self, out: &mut String) -> std::io::Result<usize>;
}

impl<R: std::io::Read> TextSource for crate::decode::TextStream<R> {
    fn read_text(&mut self, out: &mut String) -> std::io::Result<usize> {
        crate::decode::TextStream::read_text(self, out)
    }
}

/// Text in memory, handed out `block` bytes at a time (cut at character boundaries), so tests
/// can cut it anywhere a file's blocks would.
#[derive(Debug)]
pub struct InMemory<'t> {
    text: &'t str,
    block: usize,
}

impl<'t> InMemory<'t> {
    /// `text` in pieces of about `block` bytes.
    pub fn new(text: &'t str, block: usize) -> Self {
        InMemory { text, block: block.max(1) }
    }
}

impl TextSource for InMemory<'_> {
    fn read_text(&mut self, out: &mut String) -> std::io::Result<usize> {
        let mut cut = self.block.min(self.text.len());
        while !self.text.is_char_boundary(cut) {
            cut += 1;
        }
        let (piece, rest) = self.text.split_at(cut);
        out.push_str(piece);
        self.text = rest;
        Ok(piece.len())
    }
}

/// Splits delimited text into records (see [`TableReader`] for the dialect): the state of one
/// pass over the text, with its line count.
struct Splitter<'t> {
    /// The text read and not yet consumed, from `pos` on; refilled from `source` so that it
    /// always holds [`Self::lookahead`] bytes past `pos` until the text has ended.
    text: String,
    source: Box<dyn TextSource + Send + 't>,
    /// The source has nothing more.
    ended: bool,
    /// Why the source stopped early.
    error: Option<String>,
    /// The start of the text has been looked at for a byte-order mark.
    started: bool,
    /// What a record can need beyond its start: see [`Self::new`].
    lookahead: usize,
    delimiter: u8,
    limits: Limits,
    /// Where the next record may start.
    pos: usize,
    /// The line of `pos`, from 1.
    line: u64,
    /// Empty lines skipped by the last call of [`Self::next_record`] (before its record, or
    /// at the end of the text).
    empty_lines: u64,
    /// The last record's line break is still to be read (it ends that line, not an empty one).
    pending_break: bool,
}

/// How splitting a record stopped early: where it went wrong, and the line it is rejected to.
struct Failure {
    kind: MalformedKind,
    field: usize,
    /// A position on the last line to reject: the opening quote of a quoted field, else where
    /// the scan stopped.
    at: usize,
    /// The line of `at`.
    at_line: u64,
}

impl std::fmt::Debug for Splitter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Splitter").field("line", &self.line).field("ended", &self.ended).finish_non_exhaustive()
    }
}

impl<'t> Splitter<'t> {
    /// Splits the text `source` gives. The text is held a window at a time: the most a record
    /// can look at past its start is a record's limit and two fields' (a quoted field may
    /// start at the record's limit and be followed by spaces), and the window keeps that much
    /// ahead, so every decision is taken on the same bytes as over the whole text.
    fn new(source: Box<dyn TextSource + Send + 't>, delimiter: u8, limits: &Limits) -> Self {
        let lookahead =
            limits.max_record_bytes.saturating_add(limits.max_field_bytes.saturating_mul(2)).saturating_add(16);
        Splitter {
            text: String::new(),
            source,
            ended: false,
            error: None,
            started: false,
            lookahead,
            delimiter,
            limits: *limits,
            pos: 0,
            line: 1,
            empty_lines: 0,
            pending_break: false,
        }
    }

    /// The error that ended the text early, once.
    fn failed(&mut self) -> Result<(), ReadError> {
        match self.error.take() {
            Some(message) => Err(ReadError::Io { message }),
            None => Ok(()),
        }
    }

    /// Reads until `want` bytes are held past `pos` or the text has ended, dropping what is
    /// consumed first.
    fn fill(&mut self, want: usize) {
        while !self.ended && self.text.len() - self.pos < want {
            if self.pos > 0 {
                self.text.drain(..self.pos);
                self.pos = 0;
            }
            match self.source.read_text(&mut self.text) {
                Ok(0) => self.ended = true,
                Ok(_) => {}
                Err(e) => {
                    self.error = Some(e.to_string());
                    self.ended = true;
                }
            }
        }
    }

    /// The next record, numbered `record`; `None` at the end of the text. The empty lines
    /// skipped on the way are in `empty_lines`.
    fn next_record(&mut self, record: u64) -> Option<RawRecord> {
        self.fill(self.lookahead);
        if !self.started {
            self.started = true;
            // A byte-order mark left in the text (one re-encoded with it, or a second one) is
            // no part of the first header, as the csv crate skipped it too.
            if self.text.starts_with('\u{FEFF}') {
                self.pos = '\u{FEFF}'.len_utf8();
            }
        }
        // Empty lines are no records; they are counted.
        let mut breaks = 0u64;
        loop {
            if self.text.len() - self.pos < 2 {
                self.fill(self.lookahead);
            }
            let bytes = self.text.as_bytes();
            let Some(&b) = bytes.get(self.pos) else { break };
            match b {
                b'\n' => self.line += 1,
                b'\r' if bytes.get(self.pos + 1) != Some(&b'\n') => self.line += 1,
                b'\r' => {
                    self.pos += 1;
                    continue;
                }
                _ => break,
            }
            breaks += 1;
            self.pos += 1;
        }
        self.empty_lines = breaks.saturating_sub(u64::from(self.pending_break));
        self.pending_break = false;
        self.fill(self.lookahead);
        if self.pos >= self.text.len() {
            return None;
        }
        let (start, line) = (self.pos, self.line);
        let mut text = String::new();
        let mut ends = Vec::new();
        let window = std::mem::take(&mut self.text);
        let split = self.split(&window, &mut text, &mut ends);
        self.text = window;
        match split {
            Ok(()) => {
                self.pending_break = true;
                Some(RawRecord { record, line, text, ends, sparse: None, malformed: None })
            }
            Err(failure) => {
                // Reject up to the end of the failure's line; resume on the next one. What is
                // kept of it must be in the window first.
                let past = failure.at.saturating_sub(start);
                self.pos = start;
                self.fill(MALFORMED_TEXT_KEPT + 1);
                let start = self.pos;
                let at = (start + past).min(self.text.len());
                let line_end = |text: &str, from: usize| memchr::memchr2(b'\r', b'\n', &text.as_bytes()[from..]);
                let end = line_end(&self.text, at).map_or(self.text.len(), |i| at + i);
                let raw = self.text.get(start..end).unwrap_or("");
                let mut kept = raw.len().min(MALFORMED_TEXT_KEPT);
                while !raw.is_char_boundary(kept) {
                    kept -= 1;
                }
                let mut cell = raw.get(..kept).unwrap_or("").to_string();
                // A line that goes on past the window is read on until it ends.
                self.pos = end;
                let cut = kept < raw.len();
                while self.pos >= self.text.len() && !self.ended {
                    self.pos = self.text.len();
                    self.fill(1);
                    self.pos = line_end(&self.text, self.pos).map_or(self.text.len(), |i| self.pos + i);
                }
                if cut {
                    cell.push('…');
                }
                self.fill(2);
                let bytes = self.text.as_bytes();
                if bytes.get(self.pos) == Some(&b'\r') && bytes.get(self.pos + 1) == Some(&b'\n') {
                    self.pos += 1;
                }
                if self.pos < bytes.len() {
                    self.pos += 1;
                }
                self.line = failure.at_line + 1;
                let malformed = Malformed { kind: failure.kind, field: failure.field, lines: (line, failure.at_line) };
                let ends = vec![cell.len()];
                Some(RawRecord { record, line, text: cell, ends, sparse: None, malformed: Some(Box::new(malformed)) })
            }
        }
    }

    /// Splits the record at `self.pos` of `source` (the window) into `text` and `ends`,
    /// leaving `self.pos` at its line break (or the end of the text) and `self.line` on its
    /// last line.
    fn split(&mut self, source: &str, text: &mut String, ends: &mut Vec<usize>) -> Result<(), Failure> {
        let bytes = source.as_bytes();
        let record_start = self.pos;
        let max_field = self.limits.max_field_bytes;
        loop {
            let field = ends.len();
            let field_start = self.pos;
            let cell_start = text.len();
            if bytes.get(self.pos) == Some(&b'"') {
                let (open_line, open) = (self.line, self.pos);
                let mut i = self.pos + 1;
                loop {
                    let window_end = bytes.len().min(open.saturating_add(max_field).saturating_add(2));
                    let window = bytes.get(i..window_end).unwrap_or(&[]);
                    let Some(offset) = memchr::memchr(b'"', window) else {
                        let kind = if window_end >= bytes.len() {
                            MalformedKind::UnclosedQuote { line: open_line }
                        } else {
                            MalformedKind::FieldTooLong { line: open_line, quoted: true, limit: max_field }
                        };
                        return Err(Failure { kind, field, at: open, at_line: open_line });
                    };
                    let quote = i + offset;
                    self.line += line_breaks(&bytes[i..quote]);
                    text.push_str(source.get(i..quote).unwrap_or(""));
                    if quote - open > max_field.saturating_add(1) {
                        let kind = MalformedKind::FieldTooLong { line: open_line, quoted: true, limit: max_field };
                        return Err(Failure { kind, field, at: open, at_line: open_line });
                    }
                    match bytes.get(quote + 1) {
                        Some(b'"') => {
                            text.push('"');
                            i = quote + 2;
                        }
                        _ => {
                            // Spaces after the closing quote are kept, as the csv crate does;
                            // anything else but a delimiter or a line end is a stray quote.
                            let mut after = quote + 1;
                            while matches!(bytes.get(after), Some(b' ' | b'\t')) {
                                after += 1;
                            }
                            match bytes.get(after) {
                                None | Some(b'\r' | b'\n') => {}
                                Some(&b) if b == self.delimiter => {}
                                Some(_) => {
                                    let kind = MalformedKind::TextAfterQuote { line: open_line, closed_on: self.line };
                                    return Err(Failure { kind, field, at: open, at_line: open_line });
                                }
                            }
                            text.push_str(source.get(quote + 1..after).unwrap_or(""));
                            // The spaces count toward the field's length too (found by fuzzing).
                            if text.len() - cell_start > max_field {
                                let kind =
                                    MalformedKind::FieldTooLong { line: open_line, quoted: false, limit: max_field };
                                return Err(Failure { kind, field, at: open, at_line: open_line });
                            }
                            self.pos = after;
                            break;
                        }
                    }
                }
            } else {
                let window_end = bytes.len().min(self.pos.saturating_add(max_field).saturating_add(1));
                let window = bytes.get(self.pos..window_end).unwrap_or(&[]);
                let end = match memchr::memchr3(self.delimiter, b'\r', b'\n', window) {
                    Some(offset) => self.pos + offset,
                    None if window_end >= bytes.len() => bytes.len(),
                    None => {
                        let kind = MalformedKind::FieldTooLong { line: self.line, quoted: false, limit: max_field };
                        return Err(Failure { kind, field, at: window_end, at_line: self.line });
                    }
                };
                if end - field_start > max_field {
                    let kind = MalformedKind::FieldTooLong { line: self.line, quoted: false, limit: max_field };
                    return Err(Failure { kind, field, at: end, at_line: self.line });
                }
                text.push_str(source.get(self.pos..end).unwrap_or(""));
                self.pos = end;
            }
            ends.push(text.len());
            if self.pos - record_start > self.limits.max_record_bytes {
                let kind = MalformedKind::RecordTooLong { limit: self.limits.max_record_bytes };
                return Err(Failure { kind, field, at: self.pos, at_line: self.line });
            }
            match bytes.get(self.pos) {
                Some(&b) if b == self.delimiter && b != b'\r' && b != b'\n' => self.pos += 1,
                _ => return Ok(()),
            }
        }
    }
}

/// Line breaks in `bytes`: `\n`, and `\r` not followed by `\n`.
fn line_breaks(bytes: &[u8]) -> u64 {
    let mut count = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            count += 1;
        }
    }
    count
}

/// Where each mapped field sits in a file's header.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ColumnIndex {
    positions: HashMap<Field, (usize, String)>,
    /// Each field's column by the field's number, made at the first lookup: `get` runs for
    /// every cell read, and an array index is much cheaper than hashing.
    #[serde(skip)]
    slots: std::sync::OnceLock<Vec<Option<usize>>>,
    /// The source's result groups in this file, in pipeline order; empty without groups.
    #[serde(default)]
    pub groups: Vec<crate::groups::GroupIndex>,
}

impl ColumnIndex {
    /// Maps the header onto the fields of `columns`: for each field, the first of its aliases
    /// that the header has (width, case and spaces folded), matching a column's whole header
    /// (`检测结果/检验结论`) first, then its bottom part (`检验结论`). Fails when a field of
    /// `required` has no column.
    pub fn new(table: &Table, columns: &ColumnMap, required: &[Field]) -> Result<ColumnIndex, ReadError> {
        let header = &table.header;
        let keys: Vec<String> = header.iter().map(|h| normalise_key(h)).collect();
        let leaves: Vec<String> = table.header_leaves.iter().map(|h| normalise_key(h)).collect();
        let mut positions = HashMap::new();
        let mut missing = Vec::new();
        for field in Field::ALL {
            let aliases = columns.aliases(*field);
            let found = aliases.iter().find_map(|alias| {
                let key = normalise_key(alias);
                keys.iter().position(|k| *k == key).or_else(|| leaves.iter().position(|k| *k == key))
            });
            match found {
                Some(i) => {
                    positions.insert(*field, (i, header[i].clone()));
                }
                None if required.contains(field) => missing.push((*field, aliases.to_vec())),
                None => {}
            }
        }
        if missing.is_empty() {
            Ok(ColumnIndex { positions, slots: std::sync::OnceLock::new(), groups: Vec::new() })
        } else {
            Err(ReadError::MissingColumns {
                missing,
                found: header.iter().filter(|h| !h.is_empty()).cloned().collect(),
            })
        }
    }

    /// The columns of `source` in `table`: its own fields (those [`Source::required_fields`]
    /// names must be there) and its result groups'.
    ///
    /// [`Source::required_fields`]: zhijian_pipeline::Source::required_fields
    pub fn for_source(table: &Table, source: &zhijian_pipeline::Source) -> Result<ColumnIndex, ReadError> {
        let mut index = ColumnIndex::new(table, &source.columns, &source.required_fields())?;
        index.groups = crate::groups::GroupIndex::new(table, &source.result_groups)?;
        Ok(index)
    }

    /// The trimmed cell of `field` in `record`; `None` when unmapped, absent or empty.
    pub fn get<'r>(&self, record: &'r RawRecord, field: Field) -> Option<&'r str> {
        let slots = self.slots.get_or_init(|| {
            let mut slots = vec![None; Field::ALL.len()];
            for (field, (i, _)) in &self.positions {
                slots[*field as usize] = Some(*i);
            }
            slots
        });
        let cell = record.field((*slots.get(field as usize)?)?)?.trim();
        (!cell.is_empty()).then_some(cell)
    }

    /// The field mapped to column `index` (from 0) and its header; the first by field order
    /// when one column feeds two fields.
    pub fn field_at(&self, index: usize) -> Option<(Field, &str)> {
        Field::ALL
            .iter()
            .find_map(|field| self.positions.get(field).filter(|(i, _)| *i == index).map(|(_, h)| (*field, h.as_str())))
    }

    /// The header a field was found under.
    pub fn header(&self, field: Field) -> Option<&str> {
        self.positions.get(&field).map(|(_, h)| h.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_blank_rows_and_lines() {
        let text = "2013年食品抽检汇总表\n抽样编号,样品名称\nA1,\"面粉\nB\"\n,\nA2,大米\n";
        let table = read_table(text, b',', 2, 1).unwrap();
        assert_eq!(table.header, ["抽样编号", "样品名称"]);
        assert_eq!(table.blank_records, 1);
        let lines: Vec<(u64, u64)> = table.records.iter().map(|r| (r.record, r.line)).collect();
        assert_eq!(lines, [(0, 3), (1, 6)]);
        assert_eq!(table.records[0].field(1), Some("面粉\nB"));
        assert_eq!(table.records[0].joined(), "A1|面粉\nB");
        assert_eq!(table.records[1].fields().collect::<Vec<_>>(), ["A2", "大米"]);
    }

    #[test]
    fn missing_columns_are_named_with_what_was_found() {
        // Build the map through a pipeline file, as users do.
        let source = crate::testing::source("");
        let columns = &source.columns;
        let required = source.layout.required_fields();
        let table = |header: &[&str]| {
            let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
            Table { header_leaves: header.clone(), header, ..Table::default() }
        };
        let err =
            ColumnIndex::new(&table(&["样品编号", "样品名称", "所在市", "抽样日期", "检验项目"]), columns, &required)
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required column(s): `result` (expected a column named `检验结果`); the header has: `样品编号`, `样品名称`, `所在市`, `抽样日期`, `检验项目`"
        );
        let index = ColumnIndex::new(
            &table(&["样品编号 ", "样品名称", "所在市", "抽样日期", "检验项目", "检验结果"]),
            columns,
            &required,
        )
        .unwrap();
        assert_eq!(index.header(Field::SampleId), Some("样品编号 "));
    }

    #[test]
    fn two_row_headers_join_and_match_by_leaf() {
        let text = "抽样信息,,检测结果,\n抽样编号,样品名称,检验项目,检验结果\nA1,面粉,铅,0.1\n";
        let table = read_table(text, b',', 1, 2).unwrap();
        assert_eq!(table.header, ["抽样信息/抽样编号", "抽样信息/样品名称", "检测结果/检验项目", "检测结果/检验结果"]);
        assert_eq!(table.header_leaves, ["抽样编号", "样品名称", "检验项目", "检验结果"]);
        assert_eq!(table.records.len(), 1);
        assert_eq!(table.records[0].line, 3);
        let (header, _) =
            compose_header(&[vec!["序号".into(), "检测".into()], vec!["序号".into(), "结论".into()]], false);
        assert_eq!(header, ["序号", "检测/结论"], "a vertically merged cell appears once");
    }
}

#[cfg(test)]
mod malformed_tests {
    use super::*;

    fn read(text: &str, limits: &Limits) -> Vec<(u64, String, Option<String>)> {
        let mut reader = TableReader::new(text, b',', 1, 1, limits).unwrap();
        let records = reader.next_chunk(usize::MAX).unwrap();
        records.iter().map(|r| (r.line, r.joined(), r.malformed().map(|m| m.to_string()))).collect()
    }

    #[test]
    fn an_unclosed_quote_costs_its_record_not_the_rest_of_the_file() {
        // Once: one record from line 2 to the end, the quote's field holding every later line.
        let text = "抽样编号,样品名称,检验结果\nA1,\"面粉,0.1\nA2,大米,0.2\r\nA3,玉米,0.3\n";
        assert_eq!(
            read(text, &Limits::default()),
            [
                (
                    2,
                    "A1,\"面粉,0.1".to_string(),
                    Some("the quote that opens field 2 on line 2 is never closed; line 2 rejected, reading resumes on line 3".to_string())
                ),
                (3, "A2|大米|0.2".to_string(), None),
                (4, "A3|玉米|0.3".to_string(), None),
            ]
        );
    }

    #[test]
    fn a_stray_quote_closed_by_a_later_one_costs_its_record() {
        // The quote of line 3 closes at the quote that opens line 5's field, followed by text.
        let text = "h1,h2,h3\nA0,\"多行\n文本\",x\nA1,\"面粉,0.1\nA2,大米,0.2\nA3,\"玉米\",0.3\n";
        assert_eq!(
            read(text, &Limits::default()),
            [
                (2, "A0|多行\n文本|x".to_string(), None),
                (
                    4,
                    "A1,\"面粉,0.1".to_string(),
                    Some("the quote that opens field 2 on line 4 closes on line 6 and is followed by text, not by a delimiter or the end of the line; line 4 rejected, reading resumes on line 5".to_string())
                ),
                (5, "A2|大米|0.2".to_string(), None),
                (6, "A3|玉米|0.3".to_string(), None),
            ]
        );
        // A record that starts with a good multi-line field and then opens a stray quote is
        // rejected from its first line to the quote's.
        let text = "h1,h2,h3\n\"a\nb\",\"c,d\nA2,e,f\n";
        let records = read(text, &Limits::default());
        assert_eq!(records[0].0, 2);
        assert_eq!(records[0].1, "\"a\nb\",\"c,d");
        assert!(
            records[0].2.as_deref().unwrap().ends_with("lines 2–3 rejected, reading resumes on line 4"),
            "{records:?}"
        );
        assert_eq!(records[1], (4, "A2|e|f".to_string(), None));
    }

    #[test]
    fn fields_and_records_beyond_the_limits_are_malformed() {
        let limits = Limits { max_field_bytes: 10, max_record_bytes: 24, ..Limits::default() };
        let text = "h1,h2\nA1,0123456789abc,x\nA2,\"0123456789ab\nc\",x\nA3,0123456789\nA4,1,2,3,4,5,6,7,8,9,10,11,12\nA5,\"01234567\"\"\",x\n";
        let records = read(text, &limits);
        let messages: Vec<(u64, Option<&str>)> = records.iter().map(|r| (r.0, r.2.as_deref())).collect();
        assert_eq!(
            messages,
            [
                (
                    2,
                    Some(
                        "field 2 on line 2 is longer than 10 bytes (`max_field_bytes`); line 2 rejected, reading resumes on line 3"
                    )
                ),
                (
                    3,
                    Some(
                        "the quote that opens field 2 on line 3 is not closed within 10 bytes (`max_field_bytes`); line 3 rejected, reading resumes on line 4"
                    )
                ),
                // Line 4, `c",x`, is a record of its own: a quote inside a field is a character.
                (4, None),
                (5, None),
                (
                    6,
                    Some(
                        "the record is longer than 24 bytes (`max_record_bytes`); line 6 rejected, reading resumes on line 7"
                    )
                ),
                (7, None),
            ]
        );
        assert_eq!(records[1].1, "A2,\"0123456789ab");
        assert_eq!(records[2].1, "c\"|x");
        assert_eq!(records[5].1, "A5|01234567\"|x", "a doubled quote is one quote, and counts once");
        // Spaces after a closing quote are part of the field, and count toward its length.
        let text = "h1,h2\nA1,\"x\"          ,y\nA2,\"x\" ,y\n";
        let records = read(text, &limits);
        assert_eq!(
            records[0].2.as_deref(),
            Some(
                "field 2 on line 2 is longer than 10 bytes (`max_field_bytes`); line 2 rejected, reading resumes on line 3"
            )
        );
        assert_eq!(records[1], (3, "A2|x |y".to_string(), None));
        // What is kept of a giant line in `raw_record` is bounded.
        let giant = format!("h\n{}\nA2\n", "x".repeat(200_000));
        let records = read(&giant, &Limits::default());
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].1.chars().count(), MALFORMED_TEXT_KEPT + 1);
        assert_eq!(records[1], (3, "A2".to_string(), None));
    }

    #[test]
    fn a_malformed_header_is_an_error_and_a_malformed_title_is_skipped() {
        let err = TableReader::new("a,\"b\n", b',', 1, 1, &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: the header row: the quote that opens field 2 on line 1 is never closed; line 1 rejected, reading resumes on line 2"
        );
        let reader = TableReader::new("\"2013年报告\nh1,h2\na,b\n", b',', 2, 1, &Limits::default()).unwrap();
        assert_eq!(reader.header().header, ["h1", "h2"]);
    }

    #[test]
    fn a_byte_order_mark_left_in_the_text_is_skipped() {
        let table = read_table("\u{FEFF}样品编号,检验结论\nA1,合格\n", b',', 1, 1).unwrap();
        assert_eq!(table.header, ["样品编号", "检验结论"]);
        assert_eq!(table.records[0].line, 2);
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        let table = read_table("h1,h2\ra,b\r\rc,\"d\re\"\rf,g", b',', 1, 1).unwrap();
        let lines: Vec<u64> = table.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 6]);
    }
}

/// The CSV reader against the csv crate: on any text, a record is either malformed or split as
/// the csv crate splits it.
#[cfg(test)]
mod differential {
    use super::*;
    use proptest::prelude::*;

    fn ours(text: &str) -> Option<Vec<Vec<String>>> {
        let mut splitter = Splitter::new(Box::new(InMemory::new(text, 3)), b',', &Limits::default());
        let mut out = Vec::new();
        while let Some(record) = splitter.next_record(0) {
            if record.malformed().is_some() {
                return None;
            }
            out.push(record.fields().map(str::to_string).collect());
        }
        Some(out)
    }

    fn theirs(text: &str) -> Vec<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
    }

    /// Every record of `text` read through `TableReader` in pieces of `block` bytes.
    fn in_blocks(text: &str, block: usize, limits: &Limits) -> Result<(Table, Vec<RawRecord>), ReadError> {
        let source = Box::new(InMemory::new(text, block));
        let mut reader = TableReader::open_source(source, b',', HeaderSearch::At(1), 1, limits)?;
        let mut records = Vec::new();
        loop {
            let chunk = reader.next_chunk(3)?;
            if chunk.is_empty() {
                break;
            }
            records.extend(chunk);
        }
        let mut table = reader.header();
        table.blank_records = reader.blank_records();
        table.blank_runs = reader.blank_runs().to_vec();
        Ok((table, records))
    }

    /// A malformed line longer than what a reject keeps, and longer than the window, is cut
    /// and skipped as over the whole text.
    #[test]
    fn a_long_malformed_line_is_the_same_in_pieces() {
        let limits = Limits { max_field_bytes: 16, max_record_bytes: 64, ..Limits::default() };
        for line in ["x".repeat(10_000), format!("\"{}", "中".repeat(3_000)), format!("a,\"b\"{}", " ".repeat(9_000))]
        {
            let text = format!("h1,h2\n{line}\r\nc,d\n{line}");
            let whole = in_blocks(&text, usize::MAX, &limits).unwrap();
            assert_eq!(whole.1.len(), 3);
            assert!(whole.1[0].malformed().is_some() && whole.1[0].joined().ends_with('…'));
            for block in [1, 7, 4096, 4097] {
                assert_eq!(in_blocks(&text, block, &limits).unwrap(), whole, "blocks of {block}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        /// A file read a window at a time gives the records, lines, blank rows and malformed
        /// records of the whole text, wherever its blocks cut it (tiny limits, so fields and
        /// records reach them and the window is small).
        #[test]
        fn records_do_not_depend_on_how_the_text_is_cut(
            text in "[a,\" \r\n中]{0,300}",
            block in 1usize..9,
            field in 1usize..12,
            record in 1usize..40,
        ) {
            let limits = Limits { max_field_bytes: field, max_record_bytes: record.max(field), ..Limits::default() };
            let whole = in_blocks(&text, usize::MAX, &limits);
            let cut = in_blocks(&text, block, &limits);
            prop_assert_eq!(cut, whole, "{:?}", text);
        }

        #[test]
        fn any_text_is_malformed_or_split_as_the_csv_crate_does(text in "[a,\" \r\n中]{0,40}") {
            if let Some(records) = ours(&text) {
                prop_assert_eq!(records, theirs(&text), "{:?}", text);
            }
        }

        #[test]
        fn what_the_csv_crate_writes_reads_back(rows in prop::collection::vec(prop::collection::vec("[a,\" \r\n中]{0,6}", 1..5), 0..6)) {
            let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            for row in &rows {
                writer.write_record(row).unwrap();
            }
            let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
            let records = ours(&text);
            prop_assert_eq!(records.as_ref(), Some(&theirs(&text)), "{:?}", text);
        }
    }
}

#[cfg(test)]
mod line_tests {
    #[test]
    fn crlf_and_lf_give_the_same_lines() {
        for text in ["h1,h2\r\na,b\r\n\r\nc,\"d\r\ne\"\r\nf,g", "h1,h2\na,b\n\nc,\"d\ne\"\nf,g"] {
            let table = super::read_table(text, b',', 1, 1).unwrap();
            let lines: Vec<u64> = table.records.iter().map(|r| r.line).collect();
            assert_eq!(lines, [2, 4, 6], "{text:?}");
        }
    }
}

/// Blank rows among the data, and headers found by their columns (`header_row = "auto"`).
#[cfg(test)]
mod layout_tests {
    use super::*;

    use crate::testing::source;

    fn read(text: &str, header: HeaderSearch<'_>, header_rows: usize) -> Result<Table, ReadError> {
        let mut reader = TableReader::open(text, b',', header, header_rows, &Limits::default())?;
        let mut table = reader.header();
        table.records = reader.next_chunk(usize::MAX)?;
        assert!(reader.next_chunk(usize::MAX)?.is_empty());
        table.blank_records = reader.blank_records();
        table.blank_runs = reader.blank_runs().to_vec();
        Ok(table)
    }

    #[test]
    fn empty_lines_and_blank_rows_are_counted_and_their_runs_listed() {
        // Line 4 empty, line 5 only delimiters, line 7 a space: blank; lines 9 and 10 empty
        // after the last row: counted, not listed.
        let text = "标题\n抽样编号,样品名称\nA1,面粉\n\n,\nA2,大米\n \nA3,玉米\n\n\n";
        let table = read(text, HeaderSearch::At(2), 1).unwrap();
        let records: Vec<(u64, u64)> = table.records.iter().map(|r| (r.record, r.line)).collect();
        assert_eq!(records, [(0, 3), (1, 6), (2, 8)]);
        assert_eq!((table.header_line, table.blank_records), (2, 5));
        assert_eq!(table.blank_runs, [(4, 5), (7, 7)]);
        // CRLF and a lone CR count as LF does; no empty line at all counts nothing.
        let table = read(&text.replace('\n', "\r\n"), HeaderSearch::At(2), 1).unwrap();
        assert_eq!((table.blank_records, table.blank_runs.clone()), (5, vec![(4, 5), (7, 7)]));
        let table = read("h\r1\r\r2", HeaderSearch::At(1), 1).unwrap();
        assert_eq!((table.blank_records, table.blank_runs), (1, vec![(3, 3)]));
        let table = read("h\n1\n2", HeaderSearch::At(1), 1).unwrap();
        assert_eq!((table.blank_records, table.blank_runs), (0, vec![]));
        // After a malformed record, whose line break is read with it, the empty line is one.
        let table = read("h1,h2\nA,\"x\n\nB,y\n", HeaderSearch::At(1), 1).unwrap();
        assert_eq!(table.records.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
        assert_eq!((table.blank_records, table.blank_runs), (1, vec![(3, 3)]));
        // Empty lines among the titles are no blank rows of the data.
        let table = read("\n\n标题\n\nh\nA\n", HeaderSearch::At(5), 1).unwrap();
        assert_eq!((table.header_line, table.blank_records), (5, 0));
    }

    #[test]
    fn the_header_is_the_first_row_with_every_required_column() {
        let source = source("");
        // Two title lines (one quoted over two lines), an empty line, then the header.
        let text = "2013年食品抽检汇总表\n\"填报单位：\n某某局\"\n\n抽样编号,样品名称,所在市,抽样日期,检验项目,检验结果\n\nA1,面粉,郑州市,2013-07-05,铅,0.1\nA2,大米,开封市,2013-07-06,铅,0.2\n";
        let table = read(text, HeaderSearch::Auto(&source), 1).unwrap();
        assert_eq!(table.header_line, 5);
        assert_eq!(table.header[0], "抽样编号");
        let records: Vec<(u64, u64, Option<&str>)> =
            table.records.iter().map(|r| (r.record, r.line, r.field(1))).collect();
        assert_eq!(records, [(0, 7, Some("面粉")), (1, 8, Some("大米"))]);
        assert_eq!((table.blank_records, table.blank_runs.clone()), (1, vec![(6, 6)]));
        // A title row that holds some of the headers is not taken for the header.
        let text = "抽样编号：2013-01\n抽样编号,样品名称,所在市,抽样日期,检验项目,检验结果\nA1,面粉,郑州市,2013-07-05,铅,0.1\n";
        assert_eq!(read(text, HeaderSearch::Auto(&source), 1).unwrap().header_line, 2);
        // More data than the search reads ahead: every record comes out, in order.
        let mut text = String::from("标题\n抽样编号,样品名称,所在市,抽样日期,检验项目,检验结果\n");
        for i in 0..120 {
            text.push_str(&format!("A{i},面粉,郑州市,2013-07-05,铅,0.1\n"));
        }
        let table = read(&text, HeaderSearch::Auto(&source), 1).unwrap();
        assert_eq!(table.records.len(), 120);
        assert!(table.records.iter().enumerate().all(|(i, r)| r.record == i as u64 && r.line == i as u64 + 3));
    }

    #[test]
    fn a_two_row_header_is_found_by_its_joined_texts() {
        let source = source("");
        let text = "快检周报\n抽样信息,,,,检测结果,\n抽样编号,样品名称,所在市,抽样日期,检验项目,检验结果\nA1,面粉,郑州市,2013-07-05,铅,0.1\n";
        let table = read(text, HeaderSearch::Auto(&source), 2).unwrap();
        assert_eq!(table.header_line, 2);
        assert_eq!(table.header[4], "检测结果/检验项目");
        assert_eq!(table.records.iter().map(|r| r.line).collect::<Vec<_>>(), [4]);
    }

    #[test]
    fn no_header_in_the_first_rows_names_what_was_sought_and_the_closest_row() {
        let source = source("");
        let text = "标题\n抽样编号,样品名称,所在市,抽样日期,检验项目\nA1,面粉,郑州市,2013-07-05,铅\n";
        let err = read(text, HeaderSearch::Auto(&source), 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no header row among the first 50 rows: expected a row with a column for each of `sample_id` (`抽样编号` or `样品编号`), `product_name` (`样品名称`), `city` (`所在市`), `sampling_date` (`抽样日期`), `item` (`检验项目`), `result` (`检验结果`); the closest is line 2: missing required column(s): `result` (expected a column named `检验结果`); the header has: `抽样编号`, `样品名称`, `所在市`, `抽样日期`, `检验项目`"
        );
        // The header must start within the first 50 rows.
        let mut late = "标题\n".repeat(HEADER_SEARCH_ROWS);
        late.push_str("抽样编号,样品名称,所在市,抽样日期,检验项目,检验结果\nA1,面粉,郑州市,2013-07-05,铅,0.1\n");
        assert!(matches!(read(&late, HeaderSearch::Auto(&source), 1), Err(ReadError::HeaderNotFound { .. })));
        let mut in_time = "标题\n".repeat(HEADER_SEARCH_ROWS - 1);
        in_time.push_str("抽样编号,样品名称,所在市,抽样日期,检验项目,检验结果\nA1,面粉,郑州市,2013-07-05,铅,0.1\n");
        assert_eq!(read(&in_time, HeaderSearch::Auto(&source), 1).unwrap().header_line, 50);
        assert!(read("", HeaderSearch::Auto(&source), 1).unwrap_err().to_string().ends_with("`result` (`检验结果`)"));
    }

    #[test]
    fn header_row_auto_in_the_pipeline_file_searches() {
        let source = source("[sources.format.csv]\nheader_row = \"auto\"");
        assert!(matches!(HeaderSearch::of(&source), HeaderSearch::Auto(_)));
        assert!(matches!(HeaderSearch::of(&self::source("")), HeaderSearch::At(1)));
    }
}
