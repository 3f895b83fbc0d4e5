//! A workbook as the transformations see it — every worksheet's cells as stored (text, number or
//! boolean; a number format that makes a number a date; a formula with its cached value), its
//! merged regions, and the workbook's date system — read with calamine, the reader zhijian uses,
//! and written back as an `.xlsx` with rust_xlsxwriter, whatever it was read from (there is no
//! writer of legacy `.xls` worth the name).
//!
//! What the sample workbooks hold and zhijian relies on comes through: the sheets in their
//! order (a notes sheet before the data), title rows, a merged two-row header, cities merged
//! down their rows, dates as date cells, text, bare serial numbers and `=DATE()` formulas with
//! their cached values, the 1904 date system. Borders, fonts and column widths do not, and
//! neither do formatted cells without a value, which zhijian reads as no cell either.

use std::collections::BTreeMap;
use std::io::{Cursor, Read as _, Write as _};

use calamine::{Data, Reader as _, Sheets};
use chrono::{Datelike, NaiveDate};

/// What a cell stores.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
}

/// A number format that shows a number as a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateFormat {
    /// A custom format code: `yyyy-mm-dd`, `yyyy"年"m"月"d"日"`.
    Code(&'static str),
    /// One of Excel's built-in formats by number (14 is the locale's short date).
    Builtin(u8),
}

/// What calamine tells of a date cell's format: that it is one, not which.
pub(crate) const READ_DATE_FORMAT: DateFormat = DateFormat::Code("yyyy-mm-dd");

/// One cell with a value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    /// The value, or a formula's cached value.
    pub value: Value,
    /// Set when the number is shown as a date.
    pub date_format: Option<DateFormat>,
    /// The formula without its `=`: `DATE(2013,5,12)`.
    pub formula: Option<String>,
}

impl Cell {
    pub(crate) fn text(text: impl Into<String>) -> Cell {
        Cell { value: Value::Text(text.into()), date_format: None, formula: None }
    }

    pub(crate) fn number(number: f64) -> Cell {
        Cell { value: Value::Number(number), date_format: None, formula: None }
    }

    /// The number, when the cell stores one.
    pub(crate) fn as_number(&self) -> Option<f64> {
        match self.value {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The text, when the cell stores text.
    pub(crate) fn as_text(&self) -> Option<&str> {
        match &self.value {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// A merged region, both corners included, (row, column) from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Merge {
    pub first: (u32, u32),
    pub last: (u32, u32),
}

impl Merge {
    pub(crate) fn contains(&self, (row, col): (u32, u32)) -> bool {
        (self.first.0..=self.last.0).contains(&row) && (self.first.1..=self.last.1).contains(&col)
    }
}

/// One worksheet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Worksheet {
    pub name: String,
    /// By (row, column) from 0.
    pub cells: BTreeMap<(u32, u32), Cell>,
    pub merges: Vec<Merge>,
}

/// One workbook.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Book {
    pub sheets: Vec<Worksheet>,
    /// Serial numbers count from 1904-01-01 (day 0), not from 1899-12-30 (day 0 in effect, past
    /// Excel's phantom 1900-02-29).
    pub date1904: bool,
}

/// Days between the two systems' day 0: a date's 1900 serial is its 1904 serial plus this.
pub(crate) const SYSTEMS_APART: f64 = 1462.0;

/// The day an Excel serial number names in a date system; `None` before 1900-03-01, where the
/// 1900 system counts a day that never was.
pub(crate) fn serial_date(serial: f64, date1904: bool) -> Option<NaiveDate> {
    // 2,958,465 is 9999-12-31, the last day Excel has.
    if !(0.0..=2_958_465.0).contains(&serial) || !date1904 && serial < 61.0 {
        return None;
    }
    let day0 = if date1904 { NaiveDate::from_ymd_opt(1904, 1, 1)? } else { NaiveDate::from_ymd_opt(1899, 12, 30)? };
    day0.checked_add_signed(chrono::Duration::days(serial.floor() as i64))
}

/// The serial number of `date` in a date system.
pub(crate) fn date_serial(date: NaiveDate, date1904: bool) -> f64 {
    let day0 = if date1904 { NaiveDate::from_ymd_opt(1904, 1, 1) } else { NaiveDate::from_ymd_opt(1899, 12, 30) };
    (date - day0.unwrap()).num_days() as f64
}

impl Book {
    /// Reads an `.xlsx` or `.xls`.
    pub(crate) fn read(bytes: &[u8]) -> Book {
        let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        let mut sheets = Vec::new();
        // The .xls's system, told by its date cells: calamine knows it and reports each date
        // cell's day, which a serial read in the 1900 system misses by four years.
        let mut shows_1904 = false;
        for name in workbook.sheet_names() {
            let range = workbook.worksheet_range(&name).unwrap();
            let formulas = workbook.worksheet_formula(&name).unwrap();
            let merges = match &mut workbook {
                Sheets::Xlsx(xlsx) => xlsx.worksheet_merge_cells(&name).map(Result::unwrap).unwrap_or_default(),
                Sheets::Xls(xls) => xls.worksheet_merge_cells(&name).unwrap_or_default(),
                _ => panic!("only .xlsx and .xls workbooks are rewritten"),
            };
            let mut cells = BTreeMap::new();
            let (top, left) = range.start().unwrap_or((0, 0));
            for (row, col, data) in range.used_cells() {
                let position = (top + row as u32, left + col as u32);
                let cell = match data {
                    Data::Empty => continue,
                    Data::String(s) => Cell::text(s.clone()),
                    Data::Float(f) => Cell::number(*f),
                    Data::Int(i) => Cell::number(*i as f64),
                    Data::Bool(b) => Cell { value: Value::Bool(*b), date_format: None, formula: None },
                    Data::DateTime(datetime) if datetime.is_datetime() => {
                        let (y, m, d, ..) = datetime.to_ymd_hms_milli();
                        let day = NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d));
                        shows_1904 |= day.is_some() && serial_date(datetime.as_f64(), true) == day;
                        Cell {
                            value: Value::Number(datetime.as_f64()),
                            date_format: Some(READ_DATE_FORMAT),
                            formula: None,
                        }
                    }
                    other => panic!("worksheet `{name}` {position:?}: a cell the rewrite does not know: {other:?}"),
                };
                cells.insert(position, cell);
            }
            let (top, left) = formulas.start().unwrap_or((0, 0));
            for (row, col, formula) in formulas.used_cells() {
                if formula.is_empty() {
                    continue;
                }
                let position = (top + row as u32, left + col as u32);
                let cell =
                    cells.get_mut(&position).unwrap_or_else(|| panic!("{position:?}: a formula without a value"));
                cell.formula = Some(formula.trim_start_matches('=').to_string());
            }
            let merges = merges
                .into_iter()
                .map(|d| Merge { first: d.start, last: d.end })
                .filter(|m| m.first != m.last)
                .collect();
            sheets.push(Worksheet { name, cells, merges });
        }
        let date1904 = if bytes.starts_with(b"PK") { workbook_xml_says_1904(bytes) } else { shows_1904 };
        Book { sheets, date1904 }
    }

    /// The workbook as an `.xlsx`.
    pub(crate) fn write(&self) -> Vec<u8> {
        use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Formula};
        let mut workbook = rust_xlsxwriter::Workbook::new();
        // A fixed creation time, so the same workbook gives the same bytes.
        let created = ExcelDateTime::from_ymd(2013, 10, 8).unwrap();
        workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
        let plain = Format::new();
        for sheet in &self.sheets {
            let worksheet = workbook.add_worksheet();
            worksheet.set_name(&sheet.name).unwrap();
            for merge in &sheet.merges {
                let (first, last) = (merge.first, merge.last);
                worksheet.merge_range(first.0, first.1 as u16, last.0, last.1 as u16, "", &plain).unwrap();
            }
            for (&(row, col), cell) in &sheet.cells {
                let col = u16::try_from(col).unwrap();
                let format = match cell.date_format {
                    Some(DateFormat::Code(code)) => Format::new().set_num_format(code),
                    Some(DateFormat::Builtin(index)) => Format::new().set_num_format_index(index),
                    None => plain.clone(),
                };
                if let Some(formula) = &cell.formula {
                    let cached = match &cell.value {
                        Value::Text(t) => t.clone(),
                        Value::Number(n) => format!("{n}"),
                        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
                    };
                    let formula = Formula::new(format!("={formula}")).set_result(cached);
                    worksheet.write_formula_with_format(row, col, formula, &format).unwrap();
                    continue;
                }
                match &cell.value {
                    Value::Text(t) => worksheet.write_string_with_format(row, col, t, &format),
                    Value::Number(n) => worksheet.write_number_with_format(row, col, *n, &format),
                    Value::Bool(b) => worksheet.write_boolean_with_format(row, col, *b, &format),
                }
                .unwrap();
            }
        }
        let bytes = workbook.save_to_buffer().unwrap();
        if self.date1904 { with_1904_dates(&bytes) } else { bytes }
    }
}

/// Whether an `.xlsx`'s `xl/workbook.xml` declares the 1904 system (`<workbookPr date1904="1"`).
fn workbook_xml_says_1904(bytes: &[u8]) -> bool {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    archive.by_name("xl/workbook.xml").unwrap().read_to_string(&mut xml).unwrap();
    let Some(at) = xml.find("<workbookPr") else { return false };
    let element = &xml[at..at + xml[at..].find('>').unwrap()];
    ["date1904=\"1\"", "date1904=\"true\""].iter().any(|a| element.contains(a))
}

/// The `.xlsx` `bytes` with its workbook saved in the 1904 date system, which rust_xlsxwriter
/// does not offer: `date1904="1"` on `<workbookPr>`, as Excel for Mac writes it.
fn with_1904_dates(bytes: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for index in 0..archive.len() {
        let mut part = archive.by_index(index).unwrap();
        let mut body = Vec::new();
        part.read_to_end(&mut body).unwrap();
        if part.name() == "xl/workbook.xml" {
            let xml = String::from_utf8(body).unwrap();
            assert!(xml.contains("<workbookPr "), "rust_xlsxwriter wrote no <workbookPr>");
            body = xml.replacen("<workbookPr ", "<workbookPr date1904=\"1\" ", 1).into_bytes();
        }
        out.start_file(part.name(), options).unwrap();
        out.write_all(&body).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// `date` as `2013年7月5日`.
pub(crate) fn chinese(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled(path: &str) -> Book {
        Book::read(&std::fs::read(crate::common::repo().join("sample-data").join(path)).unwrap())
    }

    #[test]
    fn serials_count_from_each_system_s_day_0() {
        let july5 = NaiveDate::from_ymd_opt(2013, 7, 5).unwrap();
        assert_eq!(date_serial(july5, false), 41460.0);
        assert_eq!(date_serial(july5, true), 41460.0 - SYSTEMS_APART);
        assert_eq!(serial_date(41460.0, false), Some(july5));
        assert_eq!(serial_date(39998.0, true), Some(july5));
        assert_eq!(serial_date(61.0, false), NaiveDate::from_ymd_opt(1900, 3, 1));
        assert_eq!(serial_date(60.0, false), None, "1900-02-29 never was");
    }

    #[test]
    fn the_sample_workbooks_read_as_their_readmes_describe() {
        let routine = bundled("agri-products/routine-monitoring-2013.xlsx");
        assert!(!routine.date1904);
        let names: Vec<&str> = routine.sheets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["填表说明", "例行监测"]);
        let data = &routine.sheets[1];
        assert_eq!(data.cells[&(2, 2)].as_text(), Some("样品信息"), "the upper header row");
        assert_eq!(data.cells[&(3, 2)].as_text(), Some("样品名称"), "the lower header row");
        assert!(data.merges.contains(&Merge { first: (2, 2), last: (2, 4) }), "样品信息 over three columns");
        assert!(data.merges.contains(&Merge { first: (2, 1), last: (3, 1) }), "样品编号 down both rows");
        assert_eq!(data.cells[&(4, 0)].formula.as_deref(), Some("ROW()-4"));
        // Dates as date cells, text, bare serials and formulas: each kind at least once.
        let dates: Vec<&Cell> = (4..127).filter_map(|row| data.cells.get(&(row, 8))).collect();
        assert!(dates.iter().any(|c| c.date_format.is_some() && c.formula.is_none()));
        assert!(dates.iter().any(|c| c.as_text().is_some_and(|t| t.contains('年'))));
        assert!(dates.iter().any(|c| c.date_format.is_none() && c.as_number().is_some()));
        assert!(dates.iter().any(|c| c.formula.as_deref().is_some_and(|f| f.starts_with("DATE("))));

        let inputs = bundled("agri-inputs/nongzi-choucha-2013.xls");
        assert!(inputs.date1904, "the .xls is saved in the 1904 system");
        assert_eq!(inputs.sheets[0].name, "监督抽查");
        assert_eq!(inputs.sheets[0].cells[&(1, 0)].as_text(), Some("抽查编号"));
    }

    #[test]
    fn a_workbook_reads_back_as_written_in_both_date_systems() {
        for path in ["agri-products/routine-monitoring-2013.xlsx", "agri-inputs/nongzi-choucha-2013.xls"] {
            let book = bundled(path);
            for date1904 in [false, true] {
                let shaped = Book { date1904, ..book.clone() };
                let bytes = shaped.write();
                assert_eq!(Book::read(&bytes), shaped, "{path}, 1904: {date1904}");
                assert_eq!(bytes, shaped.write(), "{path}: the same workbook, the same bytes");
            }
        }
    }
}
