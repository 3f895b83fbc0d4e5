//! Laying a worksheet's cells out as a [`Table`]: the header rows (at a fixed row or searched
//! for), the merged regions filled in, the records as the cells each row has, and the blank
//! rows among them counted.

use zhijian_pipeline::Limits;

use super::SheetCells;
use crate::read::{HeaderSearch, RawRecord, ReadError, Table, compose_header, find_header};

/// Lays the cells out as records: the header rows in full, every later row as the cells it
/// has (see [`RawRecord`]); merged regions filled in within the sheet's used range.
pub(super) fn build_table(
    mut sheet: SheetCells,
    header: HeaderSearch<'_>,
    header_rows: usize,
    limits: &Limits,
) -> Result<Table, ReadError> {
    sheet.cells.sort_by_key(|(position, _)| *position);
    // A cell written twice (a malformed sheet): the last one counts, as in a grid.
    sheet.cells.reverse();
    sheet.cells.dedup_by_key(|(position, _)| *position);
    sheet.cells.reverse();
    // The used range, from A1 so that row and column numbers are Excel's.
    let height = sheet.cells.iter().map(|((row, _), _)| *row as u64 + 1).max().unwrap_or(0);
    let width = sheet.cells.iter().map(|((_, col), _)| *col as u64 + 1).max().unwrap_or(0);
    fill_merges(&mut sheet, height, width, limits)?;

    let span = header_rows.max(1);
    let first = match header {
        HeaderSearch::At(header_row) => header_row.saturating_sub(1) as u64,
        HeaderSearch::Auto(source) => find_header(&first_rows(&sheet, span), span, false, source)? as u64,
    };
    let last = first.saturating_add(span as u64);
    if height < last {
        return Err(ReadError::NoHeader { header_row: usize::try_from(last).unwrap_or(usize::MAX) });
    }
    let mut header_lines: Vec<Vec<String>> = (first..last).map(|_| vec![String::new(); width as usize]).collect();
    let mut records = Vec::new();
    let mut row_cells: Vec<(u32, String)> = Vec::new();
    let mut current_row: Option<u32> = None;
    let flush = |row: u32, cells: &mut Vec<(u32, String)>, records: &mut Vec<RawRecord>| {
        if !cells.is_empty() && !cells.iter().all(|(_, text)| text.trim().is_empty()) {
            records.push(RawRecord::from_cells(records.len() as u64, u64::from(row) + 1, cells, width as u32));
        }
        cells.clear();
    };
    for ((row, col), text) in sheet.cells {
        let row64 = u64::from(row);
        if row64 < first {
            continue;
        }
        if row64 < last {
            if let Some(cell) = header_lines.get_mut((row64 - first) as usize).and_then(|r| r.get_mut(col as usize)) {
                *cell = text;
            }
            continue;
        }
        if current_row != Some(row) {
            if let Some(previous) = current_row {
                flush(previous, &mut row_cells, &mut records);
            }
            current_row = Some(row);
        }
        row_cells.push((col, text));
    }
    if let Some(previous) = current_row {
        flush(previous, &mut row_cells, &mut records);
    }
    let (header, header_leaves) = compose_header(&header_lines, false);
    // Rows of empty cells below the header, to the end of the used range: counted, skipped;
    // the runs that a row follows are listed.
    let blank_records = (height - last).saturating_sub(records.len() as u64);
    let mut blank_runs = Vec::new();
    let mut previous = last;
    for record in &records {
        if record.line > previous + 1 {
            blank_runs.push((previous + 1, record.line - 1));
        }
        previous = record.line;
    }
    Ok(Table {
        header,
        header_leaves,
        date1904: sheet.date1904,
        records,
        blank_records,
        header_line: first + 1,
        blank_runs,
    })
}

/// The sheet's rows where `header_row = "auto"` searches a header of `span` rows: rows 1 to
/// [`crate::read::HEADER_SEARCH_ROWS`] + `span` − 1 (empty ones too), each as wide as the
/// widest of them; with their row numbers from 1.
fn first_rows(sheet: &SheetCells, span: usize) -> Vec<(u64, Vec<String>)> {
    let height = sheet.cells.last().map_or(0, |((row, _), _)| *row as usize + 1);
    let count = (crate::read::HEADER_SEARCH_ROWS + span - 1).min(height);
    let within = |row: u32| (row as usize) < count;
    let searched = || sheet.cells.iter().take_while(|((row, _), _)| within(*row));
    let width = searched().map(|((_, col), _)| *col as usize + 1).max().unwrap_or(0);
    let mut rows: Vec<(u64, Vec<String>)> = (1..=count as u64).map(|line| (line, vec![String::new(); width])).collect();
    for ((row, col), text) in searched() {
        if let Some(cell) = rows.get_mut(*row as usize).and_then(|(_, cells)| cells.get_mut(*col as usize)) {
            cell.clone_from(text);
        }
    }
    rows
}

/// Gives every empty cell of a merged region the value of its top-left cell, within the used
/// range (`height` × `width`); the cells it adds count toward `max_cells`.
fn fill_merges(sheet: &mut SheetCells, height: u64, width: u64, limits: &Limits) -> Result<(), ReadError> {
    let mut fills: std::collections::BTreeMap<(u32, u32), String> = std::collections::BTreeMap::new();
    let too_many = |sheet: &SheetCells| ReadError::TooManyCells { sheet: sheet.name.clone(), limit: limits.max_cells };
    for merge in &sheet.merges {
        let (top, left) = merge.start;
        let bottom = u64::from(merge.end.0).min(height.saturating_sub(1));
        let right = u64::from(merge.end.1).min(width.saturating_sub(1));
        if u64::from(top) > bottom || u64::from(left) > right {
            continue;
        }
        let value = match sheet.cells.binary_search_by_key(&(top, left), |(p, _)| *p) {
            Ok(i) => sheet.cells[i].1.clone(),
            Err(_) => fills.get(&(top, left)).cloned().unwrap_or_default(),
        };
        if value.is_empty() {
            continue;
        }
        let area = (bottom - u64::from(top) + 1).saturating_mul(right - u64::from(left) + 1);
        if area > limits.max_cells as u64 {
            return Err(too_many(sheet));
        }
        for row in u64::from(top)..=bottom {
            for col in u64::from(left)..=right {
                let position = (row as u32, col as u32);
                match sheet.cells.binary_search_by_key(&position, |(p, _)| *p) {
                    Ok(i) if sheet.cells[i].1.is_empty() => sheet.cells[i].1.clone_from(&value),
                    Ok(_) => {}
                    Err(_) => {
                        if !fills.contains_key(&position) {
                            if sheet.cells.len() + fills.len() >= limits.max_cells {
                                return Err(too_many(sheet));
                            }
                            fills.insert(position, value.clone());
                        }
                    }
                }
            }
        }
    }
    if !fills.is_empty() {
        sheet.cells.extend(fills);
        sheet.cells.sort_by_key(|(position, _)| *position);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use zhijian_pipeline::SheetRef;

    use super::*;
    use crate::excel::tests::{sheets, workbook, xlsx};
    use crate::excel::{Workbook, read_workbook};

    #[test]
    fn a_merged_two_row_header_titles_merged_cells_dates_and_formulas() {
        let bytes = workbook("agri-products/routine-monitoring-2013.xlsx");
        let sheet = SheetRef::Name("例行监测".to_string());
        let table = read_workbook(&bytes, Some(&sheet), 3, 2, &Limits::default()).unwrap();
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
        let err = read_workbook(&bytes, Some(&wrong), 3, 2, &Limits::default()).unwrap_err();
        assert_eq!(err.to_string(), "no worksheet `Sheet1` in the workbook; it has: `填表说明`, `例行监测`");
    }

    #[test]
    fn a_lone_cell_at_the_last_address_costs_one_cell() {
        // Once a dense grid from A1 to XFD1048576: 17 billion cells, memory exhausted.
        let bytes = xlsx(
            &[("A1", "抽样编号"), ("B1", "样品名称"), ("A2", "S1"), ("B2", "面粉"), ("XFD1048576", "x")],
            &[],
            &[],
        );
        let table = read_workbook(&bytes, None, 1, 1, &Limits::default()).unwrap();
        assert_eq!(table.header.len(), 16384);
        assert_eq!(&table.header[..2], ["抽样编号", "样品名称"]);
        assert_eq!(table.records.len(), 2);
        assert_eq!((table.records[0].line, table.records[0].field(1)), (2, Some("面粉")));
        let last = &table.records[1];
        assert_eq!(
            (last.line, last.field(16383), last.field(5), last.field(16384)),
            (1048576, Some("x"), Some(""), None)
        );
        assert_eq!(last.joined(), "…|x", "a run of 16,383 empty cells is one `…` cell");
        assert_eq!(table.records[0].joined(), "S1|面粉|…");
        assert_eq!(table.blank_records, 1048576 - 1 - 2);
    }

    #[test]
    fn cells_and_merged_regions_are_capped() {
        let limits = Limits { max_cells: 5, ..Limits::default() };
        let cells: Vec<(String, String)> = (1..=6).map(|r| (format!("A{r}"), format!("v{r}"))).collect();
        let cells: Vec<(&str, &str)> = cells.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let err = read_workbook(&xlsx(&cells, &[], &[]), None, 1, 1, &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "worksheet `Sheet1` has more than 5 cells (merged regions filled in); raise `max_cells` in the source's `[sources.limits]` if it really is that large"
        );
        assert!(read_workbook(&xlsx(&cells[..5], &[], &[]), None, 1, 1, &limits).is_ok());
        // A region merged over the whole sheet: filled only within the used range, and refused
        // when that is beyond the cap, rather than 17 billion cells filled in.
        let spread = xlsx(&[("A1", "h"), ("A2", "城市"), ("XFD1048576", "x")], &["A2:XFD1048576"], &[]);
        let err = read_workbook(&spread, None, 1, 1, &Limits::default()).unwrap_err();
        assert!(matches!(err, ReadError::TooManyCells { limit: 10_000_000, .. }), "{err}");
        let down =
            xlsx(&[("A1", "城市"), ("B1", "样品"), ("A2", "郑州"), ("B2", "a"), ("B3", "b")], &["A2:A1048576"], &[]);
        let table = read_workbook(&down, None, 1, 1, &Limits::default()).unwrap();
        let cities: Vec<Option<&str>> = table.records.iter().map(|r| r.field(0)).collect();
        assert_eq!(cities, [Some("郑州"), Some("郑州")], "merged down to the last used row only");
    }

    #[test]
    fn a_header_found_below_titles_and_the_blank_rows_among_the_data() {
        let pipeline = zhijian_pipeline::Pipeline::parse(
            std::path::Path::new("p.toml"),
            "[pipeline]\nname = \"t\"\nprovince = \"410000\"\nseeds = \"s\"\noutput = \"o\"\n[[sources]]\nname = \"s\"\nprogramme = \"agri_products\"\nfiles = \"*.xlsx\"\nlayout = \"sample_rows\"\n[sources.format.xlsx]\nsheet = \"*\"\nheader_row = \"auto\"\n[sources.columns]\nsample_id = \"样品编号\"\nproduct_name = \"样品名称\"\ncity = \"市\"\nsampling_date = \"抽样日期\"\nsample_verdict = \"判定结论\"\n",
        )
        .unwrap();
        let source = &pipeline.sources[0];
        let header = [("A3", "样品编号"), ("B3", "样品名称"), ("C3", "市"), ("D3", "抽样日期"), ("E3", "判定结论")];
        let mut cells: Vec<(&str, &str)> = vec![("A1", "2013年例行监测"), ("C2", "填报：某某站")];
        cells.extend(header);
        cells.extend([("A4", "S1"), ("B4", "韭菜"), ("A6", "S2"), ("B6", "芹菜"), ("A7", " "), ("A8", "")]);
        let bytes = sheets(&[("说明", &[("A1", "样品编号"), ("B1", "说明")]), ("数据", &cells)]);
        let mut workbook = Workbook::open(&bytes, &Limits::default()).unwrap();
        let table = workbook.read_sheet("数据", HeaderSearch::Auto(source), 1).unwrap();
        assert_eq!((table.header_line, &table.header[..2]), (3, &["样品编号".to_string(), "样品名称".to_string()][..]));
        assert_eq!(table.records.iter().map(|r| (r.record, r.line)).collect::<Vec<_>>(), [(0, 4), (1, 6)]);
        // Row 5 is missing, row 7 is a space, row 8 an empty cell: three blank rows, one run listed.
        assert_eq!((table.blank_records, table.blank_runs), (3, vec![(5, 5)]));
        let err = workbook.read_sheet("说明", HeaderSearch::Auto(source), 1).unwrap_err();
        assert!(
            err.to_string().starts_with("no header row among the first 50 rows: expected a row with a column for each of `sample_id` (`样品编号`)"),
            "{err}"
        );
        // A fixed header row reads the same sheet alike.
        let fixed = workbook.read_sheet("数据", HeaderSearch::At(3), 1).unwrap();
        assert_eq!((fixed.header_line, fixed.records.len(), fixed.blank_runs), (3, 2, vec![(5, 5)]));
    }
}
