//! Reading an Excel worksheet (`.xlsx` or legacy `.xls`) into the same [`Table`] as CSV.
//!
//! What offices' workbooks hold, and what becomes of it:
//! - title rows above the header: skipped up to `header_row`;
//! - merged cells: every cell of a merged region takes the region's value, so a merged
//!   two-row header and a city merged down several rows both read as written;
//! - dates: date-formatted cells become `2013-07-05` in the workbook's date system (1900 or
//!   1904); plain numbers stay numbers, and [`Table::date1904`] tells the date parser which
//!   system a serial number counts from;
//! - formulas: their cached values, as Excel last computed them;
//! - empty trailing rows and columns: blank rows are counted and skipped, empty columns ignored.
//!
//! `source_line` of a worksheet row is its row number in Excel, from 1.

use std::io::Cursor;

use calamine::{Data, Dimensions, Reader, Sheets, open_workbook_auto_from_rs};
use zhijian_pipeline::SheetRef;

use crate::read::{RawRecord, ReadError, Table, compose_header};

/// Reads one worksheet of the workbook `bytes`.
pub fn read_workbook(
    bytes: &[u8],
    sheet: Option<&SheetRef>,
    header_row: usize,
    header_rows: usize,
) -> Result<Table, ReadError> {
    let workbook_error = |err: &dyn std::fmt::Display| ReadError::Workbook { message: err.to_string() };
    let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| workbook_error(&e))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        None => names.first().cloned(),
        Some(SheetRef::Name(wanted)) => names.iter().find(|n| n.trim() == wanted.trim()).cloned(),
        Some(SheetRef::Position(n)) => names.get(n.saturating_sub(1)).cloned(),
    };
    let Some(name) = name else {
        let wanted = match sheet {
            Some(SheetRef::Name(n)) => format!("`{n}`"),
            Some(SheetRef::Position(n)) => format!("number {n}"),
            None => "at all".to_string(),
        };
        return Err(ReadError::NoSheet { wanted, found: names });
    };
    let range = workbook.worksheet_range(&name).map_err(|e| workbook_error(&e))?;
    let merges: Vec<Dimensions> = match &mut workbook {
        Sheets::Xlsx(xlsx) => match xlsx.worksheet_merge_cells(&name) {
            Some(Ok(merges)) => merges,
            Some(Err(err)) => return Err(workbook_error(&err)),
            None => Vec::new(),
        },
        Sheets::Xls(xls) => xls.worksheet_merge_cells(&name).unwrap_or_default(),
        _ => Vec::new(),
    };

    // A grid from A1, so that row and column numbers are Excel's.
    let (height, width) = match range.end() {
        Some((row, col)) => (row as usize + 1, col as usize + 1),
        None => (0, 0),
    };
    let mut grid = vec![vec![String::new(); width]; height];
    let mut date1904 = false;
    for (row, col, value) in range.used_cells() {
        let (start_row, start_col) = range.start().unwrap_or((0, 0));
        let (r, c) = (start_row as usize + row, start_col as usize + col);
        if let Data::DateTime(datetime) = value
            && datetime.is_datetime()
            && is_1904(datetime)
        {
            date1904 = true;
        }
        if let Some(cell) = grid.get_mut(r).and_then(|cells| cells.get_mut(c)) {
            *cell = cell_text(value);
        }
    }
    for merge in &merges {
        let (top, left) = (merge.start.0 as usize, merge.start.1 as usize);
        let Some(value) = grid.get(top).and_then(|cells| cells.get(left)).cloned() else { continue };
        let (bottom, right) = (merge.end.0 as usize, merge.end.1 as usize);
        for cells in grid.iter_mut().take(bottom + 1).skip(top) {
            for cell in cells.iter_mut().take(right + 1).skip(left) {
                if cell.is_empty() {
                    cell.clone_from(&value);
                }
            }
        }
    }

    let first = header_row.saturating_sub(1);
    let last = first + header_rows.max(1);
    if grid.len() < last {
        return Err(ReadError::NoHeader { header_row: last });
    }
    let (header, header_leaves) = compose_header(&grid[first..last], false);
    let mut records = Vec::new();
    let mut blank_records = 0;
    for (index, cells) in grid.into_iter().enumerate().skip(last) {
        if cells.iter().all(|c| c.trim().is_empty()) {
            blank_records += 1;
            continue;
        }
        records.push(RawRecord::new(records.len() as u64, index as u64 + 1, cells.iter().map(String::as_str)));
    }
    // Rows of empty cells below the data are formatting, not records.
    Ok(Table { header, header_leaves, date1904, records, blank_records })
}

/// A cell as text: dates as `2013-07-05`, whole numbers without a decimal point, other numbers
/// in their shortest exact form, errors as Excel shows them (`#N/A`).
fn cell_text(value: &Data) -> String {
    match value {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::Error(err) => err.to_string(),
        Data::DateTime(datetime) if datetime.is_datetime() => {
            let (year, month, day, ..) = datetime.to_ymd_hms_milli();
            format!("{year:04}-{month:02}-{day:02}")
        }
        Data::DateTime(datetime) => number_text(datetime.as_f64()),
    }
}

fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{}", value as i64) } else { format!("{value}") }
}

/// Whether a date cell counts from 1904: its serial read in the 1900 system gives another day
/// than calamine, which knows the workbook's system, reports.
fn is_1904(datetime: &calamine::ExcelDateTime) -> bool {
    let (year, month, day, ..) = datetime.to_ymd_hms_milli();
    let as_1900 = crate::parse::excel_serial_date(datetime.as_f64(), false);
    let reported = chrono::NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day));
    as_1900.is_some() && reported.is_some() && as_1900 != reported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_written() {
        assert_eq!(number_text(41460.0), "41460");
        assert_eq!(number_text(0.12), "0.12");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(cell_text(&Data::Bool(true)), "TRUE");
    }

    fn workbook(name: &str) -> Vec<u8> {
        std::fs::read(format!("../../sample-data/{name}")).unwrap()
    }

    #[test]
    fn a_merged_two_row_header_titles_merged_cells_dates_and_formulas() {
        let bytes = workbook("agri-products/routine-monitoring-2013.xlsx");
        let sheet = SheetRef::Name("例行监测".to_string());
        let table = read_workbook(&bytes, Some(&sheet), 3, 2).unwrap();
        assert_eq!(
            &table.header[..14],
            [
                "序号",
                "样品编号",
                "样品信息/样品名称",
                "样品信息/产品类别",
                "样品信息/抽样环节",
                "抽样地点/市",
                "抽样地点/县（区）",
                "抽样地点/受检单位",
                "抽样日期",
                "检测结果/检测项目数",
                "检测结果/判定结论",
                "检测结果/不合格项目║检验结果║标准值",
                "检测机构",
                "是否复检",
            ]
        );
        assert_eq!(table.header_leaves[5], "市");
        assert!(!table.date1904);
        // Rows 5..=127 hold data (the totals row included); the bordered rows below are not data.
        assert_eq!(table.records.len(), 123);
        assert_eq!((table.records[0].line, table.records[122].line), (5, 127));
        // 序号 is `=ROW()-4`: its cached value.
        assert_eq!(table.records[9].field(0), Some("10"));
        // A city merged down its rows reads on every row; every row names one.
        assert!(table.records[..122].iter().all(|r| r.field(5).is_some_and(|c| !c.is_empty())));
        // Sampling dates: date cells as ISO dates; text and serials as written.
        let dates: Vec<&str> = table.records.iter().filter_map(|r| r.field(8)).collect();
        assert!(dates.iter().any(|d| d.len() == 10 && d.starts_with("2013-0")), "{dates:?}");
        assert!(dates.iter().any(|d| d.contains('年')), "{dates:?}");
        assert!(dates.iter().any(|d| d.len() == 5 && d.starts_with("41")), "a bare serial: {dates:?}");
        let wrong = SheetRef::Name("Sheet1".to_string());
        let err = read_workbook(&bytes, Some(&wrong), 3, 2).unwrap_err();
        assert_eq!(err.to_string(), "no worksheet `Sheet1` in the workbook; it has: `填表说明`, `例行监测`");
    }

    #[test]
    fn legacy_xls_in_the_1904_date_system() {
        let table = read_workbook(&workbook("agri-inputs/nongzi-choucha-2013.xls"), None, 2, 1).unwrap();
        assert!(table.date1904);
        assert_eq!(table.header[0], "抽查编号");
        assert_eq!(table.records.len(), 244);
        // Date cells read in 1904 are 2013 dates, not 2017 ones.
        let first = table.records[0].field(8).unwrap();
        assert!(first.starts_with("2013-"), "{first}");
        // NZ2013044's dates are bare numbers: the parser needs the workbook's system.
        let serial = table.records.iter().find(|r| r.field(0) == Some("NZ2013044")).unwrap();
        let date = crate::parse::parse_date_in(serial.field(8).unwrap(), table.date1904).unwrap();
        assert_eq!(date.to_string(), "2013-04-02");
        assert_ne!(crate::parse::parse_date_in(serial.field(8).unwrap(), false), Some(date));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = read_workbook(b"PK\x03\x04 not really a zip", None, 1, 1).unwrap_err();
        assert!(matches!(err, ReadError::Workbook { .. }), "{err:?}");
    }
}
