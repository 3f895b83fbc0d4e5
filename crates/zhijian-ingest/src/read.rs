//! Reading delimited text into records and mapping its header onto canonical fields. Excel
//! workbooks become the same [`Table`] in [`crate::excel`].

use std::collections::HashMap;

use zhijian_pipeline::{ColumnMap, Field};
use zhijian_seeds::normalise_key;

/// One data record of a file: its cells in one string, so a record is two allocations
/// rather than one per cell.
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
}

impl RawRecord {
    /// A record of these cells.
    pub fn new<'c>(record: u64, line: u64, cells: impl IntoIterator<Item = &'c str>) -> Self {
        let (mut text, mut ends) = (String::new(), Vec::new());
        for cell in cells {
            text.push_str(cell);
            ends.push(text.len());
        }
        RawRecord { record, line, text, ends }
    }

    /// The cell in column `index` (from 0), as decoded.
    pub fn field(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.text.get(start..end)
    }

    /// The cells in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        (0..self.ends.len()).filter_map(|i| self.field(i))
    }

    /// The whole record as text, cells joined by `|`, for `rejects.raw_record`.
    pub fn joined(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.ends.len());
        for (i, cell) in self.fields().enumerate() {
            if i > 0 {
                out.push('|');
            }
            out.push_str(cell);
        }
        out
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
    /// Records with every cell empty (Excel's trailing `,,,,` rows), skipped and counted.
    pub blank_records: u64,
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
    /// The CSV reader failed.
    #[error("line {line}: {message}")]
    Csv {
        /// Line of the problem.
        line: u64,
        /// The reader's message.
        message: String,
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

fn describe_missing(missing: &[(Field, Vec<String>)], found: &[String]) -> String {
    let fields: Vec<String> = missing
        .iter()
        .map(|(field, aliases)| {
            format!(
                "`{}` (expected a column named {})",
                field.as_str(),
                aliases.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or ")
            )
        })
        .collect();
    format!(
        "missing required column(s): {}; the header has: {}",
        fields.join(", "),
        found.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
    )
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

/// Parses `text` as delimited records; lines before `header_row` (1-based) are titles, and the
/// header spans `header_rows` records.
pub fn read_table(text: &str, delimiter: u8, header_row: usize, header_rows: usize) -> Result<Table, ReadError> {
    let mut reader = TableReader::new(text, delimiter, header_row, header_rows)?;
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
    table.records = records;
    Ok(table)
}

/// Reads delimited text record by record, so a large file's records need not all be in
/// memory at once: the header first ([`TableReader::new`]), then chunks of records.
#[derive(Debug)]
pub struct TableReader<'t> {
    reader: csv::Reader<&'t [u8]>,
    lines: LineCounter<'t>,
    header: Vec<String>,
    header_leaves: Vec<String>,
    records: u64,
    blank_records: u64,
    record: csv::StringRecord,
}

impl<'t> TableReader<'t> {
    /// Reads up to and including the header rows.
    pub fn new(text: &'t str, delimiter: u8, header_row: usize, header_rows: usize) -> Result<Self, ReadError> {
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut this = TableReader {
            reader,
            lines: LineCounter::new(text),
            header: Vec::new(),
            header_leaves: Vec::new(),
            records: 0,
            blank_records: 0,
            record: csv::StringRecord::new(),
        };
        let mut header_lines: Vec<Vec<String>> = Vec::new();
        while header_lines.len() < header_rows.max(1) {
            let Some(line) = this.advance()? else { return Err(ReadError::NoHeader { header_row }) };
            if (line as usize) < header_row {
                continue;
            }
            header_lines.push(this.record.iter().map(|c| c.trim().to_string()).collect());
        }
        let (header, leaves) = compose_header(&header_lines, true);
        this.header = header;
        this.header_leaves = leaves;
        Ok(this)
    }

    /// Reads the next record into `self.record`; returns its line, or `None` at the end.
    fn advance(&mut self) -> Result<Option<u64>, ReadError> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => Ok(Some(self.lines.line_at(self.record.position().map_or(0, |p| p.byte()) as usize))),
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                Err(ReadError::Csv { line, message: err.to_string() })
            }
        }
    }

    /// The header, as a [`Table`] without records.
    pub fn header(&self) -> Table {
        Table {
            header: self.header.clone(),
            header_leaves: self.header_leaves.clone(),
            date1904: false,
            records: Vec::new(),
            blank_records: 0,
        }
    }

    /// Records with every cell empty skipped so far.
    pub fn blank_records(&self) -> u64 {
        self.blank_records
    }

    /// Up to `max` more data records; empty at the end of the text.
    pub fn next_chunk(&mut self, max: usize) -> Result<Vec<RawRecord>, ReadError> {
        let mut out = Vec::with_capacity(max.min(64 * 1024));
        while out.len() < max {
            let Some(line) = self.advance()? else { break };
            if self.record.iter().all(|c| c.trim().is_empty()) {
                self.blank_records += 1;
                continue;
            }
            out.push(RawRecord::new(self.records, line, self.record.iter()));
            self.records += 1;
        }
        Ok(out)
    }
}

#[derive(Debug)]
struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter { text: text.as_bytes(), offset: 0, line: 1 }
    }

    /// The 1-based line of the first character of a record starting at `offset` (offsets
    /// must not decrease). Line breaks the record starts with belong to the previous line.
    fn line_at(&mut self, offset: usize) -> u64 {
        let mut start = offset.min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.offset {
            self.line += self.text[self.offset..start].iter().filter(|&&b| b == b'\n').count() as u64;
            self.offset = start;
        }
        self.line
    }
}

/// Where each mapped field sits in a file's header.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ColumnIndex {
    positions: HashMap<Field, (usize, String)>,
    /// Each field's column by the field's number, made at the first lookup: `get` runs for
    /// every cell read, and an array index is much cheaper than hashing.
    #[serde(skip)]
    slots: std::sync::OnceLock<Vec<Option<usize>>>,
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
            Ok(ColumnIndex { positions, slots: std::sync::OnceLock::new() })
        } else {
            Err(ReadError::MissingColumns {
                missing,
                found: header.iter().filter(|h| !h.is_empty()).cloned().collect(),
            })
        }
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
        let pipeline = zhijian_pipeline::Pipeline::parse(
            std::path::Path::new("p.toml"),
            r#"
[pipeline]
name = "t"
province = "410000"
seeds = "s"
output = "o"
[[sources]]
name = "s"
programme = "food"
files = "*.csv"
[sources.columns]
sample_id = ["抽样编号", "样品编号"]
product_name = "样品名称"
city = "所在市"
sampling_date = "抽样日期"
item = "检验项目"
result = "检验结果"
"#,
        )
        .unwrap();
        let columns = &pipeline.sources[0].columns;
        let required = pipeline.sources[0].layout.required_fields();
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
