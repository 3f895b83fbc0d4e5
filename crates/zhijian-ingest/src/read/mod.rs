//! Reading delimited text into records and mapping its header onto canonical fields. Excel
//! workbooks become the same [`Table`] in [`crate::excel`].
//!
//! By stage: the text is split into records from a window that a [`TextSource`] refills
//! (`split`), the header is found and composed (`header`), and its columns are mapped onto
//! the source's fields (`columns`); what goes wrong is a [`ReadError`] (`error`) or, for one
//! record, a [`Malformed`] record.

mod columns;
mod error;
mod header;
mod split;

use std::collections::VecDeque;

use zhijian_pipeline::Limits;

pub use self::columns::ColumnIndex;
pub use self::error::ReadError;
pub use self::header::{HEADER_SEARCH_ROWS, HeaderSearch, compose_header, find_header};
pub use self::split::{InMemory, Malformed, MalformedKind, TextSource};

use self::split::Splitter;

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

/// Parses `text` as delimited records with the default [`Limits`]; lines before `header_row`
/// (1-based) are titles, and the header spans `header_rows` records.
pub fn read_table(text: &str, delimiter: u8, header_row: usize, header_rows: usize) -> Result<Table, ReadError> {
    TableReader::new(text, delimiter, header_row, header_rows, &Limits::default())?.into_table(usize::MAX)
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
    /// that only a window of it is held (see `Splitter::new`): the records are the same
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

    /// Every record left, read `chunk` at a time, with the header and the blank rows: the
    /// whole [`Table`].
    pub fn into_table(mut self, chunk: usize) -> Result<Table, ReadError> {
        let mut records = Vec::new();
        loop {
            let next = self.next_chunk(chunk)?;
            if next.is_empty() {
                break;
            }
            records.extend(next);
        }
        let mut table = self.header();
        table.blank_records = self.blank_records();
        table.blank_runs = self.blank_runs().to_vec();
        table.records = records;
        Ok(table)
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

#[cfg(test)]
mod tests {
    use super::*;
    use zhijian_pipeline::Field;

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
