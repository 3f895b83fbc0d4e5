//! The transformations of workbooks (see `book.rs` for how one is read and written): dates in
//! other forms, the other date system, rows in another order, the data sheet behind another,
//! numbers stored as text; and two that change what the rows mean, to show that the comparison
//! sees it: [`ResultsTimesThousand`] and [`SystemSwappedUnshifted`].
//!
//! Every one of them writes each workbook again as an `.xlsx` (see `drops::transform`), so the
//! legacy `.xls` is transformed as its `.xlsx` conversion; [`SavedAgain`] with its date system
//! kept is that conversion alone.

use std::collections::BTreeMap;
use std::ops::Range;

use chrono::{Datelike, NaiveDate};
use zhijian_pipeline::{Field, Format, HeaderRow, SheetRef, SheetSelection, Source};

use crate::book::{Book, Cell, DateFormat, Merge, SYSTEMS_APART, Value, Worksheet, chinese, date_serial, serial_date};
use crate::reference::key;
use crate::transform::{BookFile, Edit, Env, Rewritten, Rng, Transformation, read_date};

/// Where a source's records are in one of its workbooks.
#[derive(Debug)]
pub(crate) struct Region {
    /// The worksheet read, by position.
    pub sheet: usize,
    /// The data rows: from below the header to the last row with a sample id (a totals row
    /// and formatted empty rows below stay out).
    pub rows: Range<u32>,
    /// The column of each mapped field.
    pub columns: BTreeMap<Field, u32>,
}

/// The text of a cell as a header: a merged cell's is its region's.
fn header_text(sheet: &Worksheet, position: (u32, u32)) -> String {
    let origin = sheet.merges.iter().find(|m| m.contains(position)).map_or(position, |m| m.first);
    match sheet.cells.get(&origin).map(|c| &c.value) {
        Some(Value::Text(t)) => t.trim().replace(['\n', '\r'], ""),
        Some(Value::Number(n)) => format!("{n}"),
        _ => String::new(),
    }
}

/// Finds the source's records in `book` as the pipeline says (its sheet, a fixed header row
/// and header height) and the columns as zhijian documents the matching: a header of several
/// rows is its parts joined with `/`, and its bottom part alone also matches.
pub(crate) fn region(source: &Source, book: &Book) -> Region {
    let Format::Excel { sheet, header_row: HeaderRow::Fixed(header_row), header_rows, .. } = &source.format else {
        panic!("source `{}`: only a workbook with a fixed header row is rewritten", source.name)
    };
    let sheet = match sheet {
        SheetSelection::One(None) => 0,
        SheetSelection::One(Some(SheetRef::Position(n))) => n - 1,
        SheetSelection::One(Some(SheetRef::Name(name))) => {
            book.sheets.iter().position(|s| s.name.trim() == name.trim()).expect("the sheet the source names")
        }
        other => panic!("source `{}`: sheets {other:?} are not rewritten", source.name),
    };
    let data = &book.sheets[sheet];
    let first = *header_row as u32 - 1;
    let header = first..first + (*header_rows).max(1) as u32;
    let width = data.cells.keys().map(|(_, col)| col + 1).max().unwrap_or(0);
    let (mut composed, mut leaves) = (Vec::new(), Vec::new());
    for col in 0..width {
        let mut parts: Vec<String> = Vec::new();
        for row in header.clone() {
            let text = header_text(data, (row, col));
            if !text.is_empty() && parts.last() != Some(&text) {
                parts.push(text);
            }
        }
        leaves.push(key(parts.last().map_or("", String::as_str)));
        composed.push(key(&parts.join("/")));
    }
    let mut columns = BTreeMap::new();
    for (field, aliases) in source.columns.iter() {
        let found = aliases.iter().find_map(|alias| {
            let alias = key(alias);
            composed.iter().position(|h| *h == alias).or_else(|| leaves.iter().position(|h| *h == alias))
        });
        if let Some(col) = found {
            columns.insert(field, col as u32);
        }
    }
    let id = *columns.get(&Field::SampleId).expect("a sample id column");
    let last = data
        .cells
        .iter()
        .filter(|((row, col), cell)| {
            *row >= header.end && *col == id && cell.as_text().is_some_and(|t| !t.trim().is_empty())
        })
        .map(|((row, _), _)| *row)
        .max()
        .expect("data rows");
    Region { sheet, rows: header.end..last + 1, columns }
}

/// Calls `f` on every workbook of `files` with its region, and a count of the data rows
/// before it.
fn each_book(source: &Source, files: &mut [BookFile], mut f: impl FnMut(&mut Book, &Region, usize)) {
    let mut count = 0;
    for file in files {
        let region = region(source, &file.book);
        f(&mut file.book, &region, count);
        count += region.rows.len();
    }
}

/// The day a cell of a date column names: a date cell's or a bare number's serial in the
/// workbook's system (zhijian reads both so; a number that would be a day outside 1950–2100 is
/// none), or a date written as text.
fn date_of(cell: &Cell, date1904: bool) -> Option<NaiveDate> {
    match &cell.value {
        Value::Number(n) => serial_date(*n, date1904).filter(|d| (1950..=2100).contains(&d.year())),
        Value::Text(t) => read_date(t),
        Value::Bool(_) => None,
    }
}

/// How a date is written in a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateForm {
    /// A serial number shown as a date.
    Cell(DateFormat),
    /// A bare serial number, shown as one.
    Serial,
    /// `=DATE(2013,7,5)` with its cached serial, shown as a date.
    Formula,
    /// `2013年7月5日`.
    Chinese,
    /// `2013.7.5`.
    Dots,
    /// `2013/07/05`.
    Slashes,
}

impl DateForm {
    /// Date cells in the formats offices use: ISO, Chinese, slashes, the locale's short date
    /// (built-in format 14), and the Chinese date a Chinese Excel stores as built-in format 31
    /// (`yyyy"年"m"月"d"日"`; calamine does not know it for a date and reports the number).
    pub(crate) const CELLS: [DateForm; 5] = [
        DateForm::Cell(DateFormat::Code("yyyy-mm-dd")),
        DateForm::Cell(DateFormat::Code("yyyy\"年\"m\"月\"d\"日\"")),
        DateForm::Cell(DateFormat::Code("yyyy/m/d;@")),
        DateForm::Cell(DateFormat::Builtin(14)),
        DateForm::Cell(DateFormat::Builtin(31)),
    ];
    pub(crate) const TEXTS: [DateForm; 3] = [DateForm::Chinese, DateForm::Dots, DateForm::Slashes];
    /// Every form.
    pub(crate) const ALL: [DateForm; 10] = [
        DateForm::Cell(DateFormat::Code("yyyy-mm-dd")),
        DateForm::Serial,
        DateForm::Chinese,
        DateForm::Formula,
        DateForm::Dots,
        DateForm::Cell(DateFormat::Code("yyyy\"年\"m\"月\"d\"日\"")),
        DateForm::Slashes,
        DateForm::Cell(DateFormat::Builtin(14)),
        DateForm::Cell(DateFormat::Code("yyyy/m/d;@")),
        DateForm::Cell(DateFormat::Builtin(31)),
    ];

    fn write(self, date: NaiveDate, date1904: bool) -> Cell {
        let serial = date_serial(date, date1904);
        let (y, m, d) = (date.year(), date.month(), date.day());
        match self {
            DateForm::Cell(format) => Cell { date_format: Some(format), ..Cell::number(serial) },
            DateForm::Serial => Cell::number(serial),
            DateForm::Formula => Cell {
                value: Value::Number(serial),
                date_format: Some(DateFormat::Code("yyyy-mm-dd")),
                formula: Some(format!("DATE({y},{m},{d})")),
            },
            DateForm::Chinese => Cell::text(chinese(date)),
            DateForm::Dots => Cell::text(format!("{y}.{m}.{d}")),
            DateForm::Slashes => Cell::text(format!("{y}/{m:02}/{d:02}")),
        }
    }
}

/// The date columns of a region.
fn date_columns(region: &Region) -> Vec<u32> {
    [Field::SamplingDate, Field::ReportDate].iter().filter_map(|f| region.columns.get(f).copied()).collect()
}

/// Every date of the date columns written in `forms`, in turn row after row; a cell that
/// names no day (`2013-13-05`) stays as it is.
#[derive(Debug)]
pub(crate) struct ExcelDates {
    pub forms: &'static [DateForm],
}

impl Transformation for ExcelDates {
    fn name(&self) -> String {
        format!("workbook dates as {:?}", self.forms)
    }

    fn rewrites_workbooks(&self) -> bool {
        true
    }

    fn apply_workbooks(&self, _env: &Env, source: &Source, mut files: Vec<BookFile>) -> Rewritten<BookFile> {
        each_book(source, &mut files, |book, region, count| {
            let date1904 = book.date1904;
            let sheet = &mut book.sheets[region.sheet];
            for (n, row) in region.rows.clone().enumerate() {
                for (i, &col) in date_columns(region).iter().enumerate() {
                    let Some(cell) = sheet.cells.get_mut(&(row, col)) else { continue };
                    if let Some(date) = date_of(cell, date1904) {
                        *cell = self.forms[(count + n + i) % self.forms.len()].write(date, date1904);
                    }
                }
            }
        });
        Rewritten::files(files)
    }
}

/// Which date system each workbook is saved in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateSystems {
    /// Its own.
    Kept,
    /// The other one.
    Swapped,
    /// 1900 for all.
    All1900,
    /// 1904 for all.
    All1904,
}

/// Each workbook saved again as an `.xlsx`, in the date system asked: where that is another,
/// every serial moves by the 1,462 days between the systems — date cells' and formulas' cached
/// values anywhere, and bare numbers in the date columns — so each names the day it did.
#[derive(Debug)]
pub(crate) struct SavedAgain {
    pub systems: DateSystems,
}

/// `book` in the other date system, its serials moved by `by` days.
fn swap_system(book: &mut Book, region: &Region, by: f64) {
    let date1904 = book.date1904;
    book.date1904 = !date1904;
    let date_columns = date_columns(region);
    for (index, sheet) in book.sheets.iter_mut().enumerate() {
        for (&(row, col), cell) in &mut sheet.cells {
            let in_date_column = index == region.sheet && region.rows.contains(&row) && date_columns.contains(&col);
            let bare_date = in_date_column && date_of(cell, date1904).is_some();
            if let Value::Number(serial) = &mut cell.value
                && (cell.date_format.is_some() || bare_date)
            {
                *serial += by;
            }
        }
    }
}

impl Transformation for SavedAgain {
    fn name(&self) -> String {
        match self.systems {
            DateSystems::Kept => "workbooks saved again as .xlsx".into(),
            systems => format!("workbooks saved again as .xlsx, date systems {systems:?} (serials moved)"),
        }
    }

    fn rewrites_workbooks(&self) -> bool {
        true
    }

    fn apply_workbooks(&self, _env: &Env, source: &Source, mut files: Vec<BookFile>) -> Rewritten<BookFile> {
        each_book(source, &mut files, |book, region, _| {
            let swap = match self.systems {
                DateSystems::Kept => false,
                DateSystems::Swapped => true,
                DateSystems::All1900 => book.date1904,
                DateSystems::All1904 => !book.date1904,
            };
            if swap {
                let by = if book.date1904 { SYSTEMS_APART } else { -SYSTEMS_APART };
                swap_system(book, region, by);
            }
        });
        Rewritten::files(files)
    }
}

/// Each workbook in the other date system with its serials as they were: every date moves
/// by four years. It changes what the rows say: the comparison must see it.
#[derive(Debug)]
pub(crate) struct SystemSwappedUnshifted;

impl Transformation for SystemSwappedUnshifted {
    fn name(&self) -> String {
        "workbooks in the other date system, serials unchanged (dates move)".into()
    }

    fn rewrites_workbooks(&self) -> bool {
        true
    }

    fn apply_workbooks(&self, _env: &Env, source: &Source, mut files: Vec<BookFile>) -> Rewritten<BookFile> {
        each_book(source, &mut files, |book, region, _| swap_system(book, region, 0.0));
        Rewritten::files(files)
    }
}

/// The data rows in a seeded random order, the header, titles and a totals row below where
/// they were. Regions merged down data rows (a city over its rows) are written out first, and
/// runs of equal cells in their columns merged again after, as an office would.
#[derive(Debug)]
pub(crate) struct ShuffledRows {
    pub seed: u64,
}

impl Transformation for ShuffledRows {
    fn name(&self) -> String {
        format!("workbook rows shuffled (seed {}), merged runs merged anew", self.seed)
    }

    fn rewrites_workbooks(&self) -> bool {
        true
    }

    fn apply_workbooks(&self, _env: &Env, source: &Source, mut files: Vec<BookFile>) -> Rewritten<BookFile> {
        for file in &mut files {
            let region = region(source, &file.book);
            let sheet = &mut file.book.sheets[region.sheet];
            let merged_columns = unmerge_rows(sheet, &region.rows);
            let mut rows: Vec<BTreeMap<u32, Cell>> = region
                .rows
                .clone()
                .map(|row| {
                    let columns: Vec<u32> =
                        sheet.cells.range((row, 0)..=(row, u32::MAX)).map(|((_, c), _)| *c).collect();
                    columns.into_iter().map(|c| (c, sheet.cells.remove(&(row, c)).unwrap())).collect()
                })
                .collect();
            Rng::new(self.seed, &file.path.to_string_lossy()).shuffle(&mut rows);
            for (row, cells) in region.rows.clone().zip(rows) {
                sheet.cells.extend(cells.into_iter().map(|(col, cell)| ((row, col), cell)));
            }
            merge_runs(sheet, &region.rows, &merged_columns);
        }
        Rewritten::files(files)
    }
}

/// Writes the value of each region merged within `rows` into every cell of it, drops the
/// region, and gives the columns such regions covered.
fn unmerge_rows(sheet: &mut Worksheet, rows: &Range<u32>) -> Vec<u32> {
    let mut columns = Vec::new();
    let (inside, outside): (Vec<Merge>, Vec<Merge>) =
        sheet.merges.iter().partition(|m| rows.contains(&m.first.0) && rows.contains(&m.last.0));
    assert!(outside.iter().all(|m| m.last.0 < rows.start || m.first.0 >= rows.end), "a region across the data's edge");
    sheet.merges = outside;
    for merge in inside {
        let value = sheet.cells.get(&merge.first).cloned();
        for row in merge.first.0..=merge.last.0 {
            for col in merge.first.1..=merge.last.1 {
                if let Some(value) = &value {
                    sheet.cells.insert((row, col), value.clone());
                }
                if !columns.contains(&col) {
                    columns.push(col);
                }
            }
        }
    }
    columns
}

/// Merges each run of equal text cells in `columns` within `rows` into one region.
fn merge_runs(sheet: &mut Worksheet, rows: &Range<u32>, columns: &[u32]) {
    for &col in columns {
        let mut row = rows.start;
        while row < rows.end {
            let Some(text) = sheet.cells.get(&(row, col)).and_then(Cell::as_text).map(str::to_string) else {
                row += 1;
                continue;
            };
            let mut last = row;
            while last + 1 < rows.end && sheet.cells.get(&(last + 1, col)).and_then(Cell::as_text) == Some(&text) {
                last += 1;
            }
            if last > row {
                for below in row + 1..=last {
                    sheet.cells.remove(&(below, col));
                }
                sheet.merges.push(Merge { first: (row, col), last: (last, col) });
            }
            row = last + 1;
        }
    }
}

/// The data sheet moved behind the others, after a sheet inserted first that looks like it —
/// the same header and rows, of another year by its sample ids — and the source selecting its
/// sheet by name. Reading the wrong sheet, or both, moves every sample.
#[derive(Debug)]
pub(crate) struct SheetMoved;

impl Transformation for SheetMoved {
    fn name(&self) -> String {
        "data sheet last, behind a look-alike of last year's, selected by name".into()
    }

    fn rewrites_workbooks(&self) -> bool {
        true
    }

    fn apply_workbooks(&self, _env: &Env, source: &Source, mut files: Vec<BookFile>) -> Rewritten<BookFile> {
        let mut names = Vec::new();
        for file in &mut files {
            let region = region(source, &file.book);
            let data = file.book.sheets.remove(region.sheet);
            let mut decoy = Worksheet { name: format!("{}（上年）", data.name), ..data.clone() };
            let id = region.columns[&Field::SampleId];
            for row in region.rows.clone() {
                if let Some(Value::Text(text)) = decoy.cells.get_mut(&(row, id)).map(|c| &mut c.value) {
                    *text = format!("2012-{text}");
                }
            }
            if !names.contains(&data.name) {
                names.push(data.name.clone());
            }
            file.book.sheets.insert(0, decoy);
            file.book.sheets.push(data);
        }
        assert_eq!(names.len(), 1, "source `{}`: its files' data sheets differ in name", source.name);
        let edits = vec![Edit::Sheet { source: source.name.clone(), sheet: names.remove(0) }];
        Rewritten { files, edits }
    }
}

/// The fields holding numbers that a cell may store as a number or as text.
const NUMBER_FIELDS: [Field; 7] =
    [Field::Result, Field::LimitMin, Field::LimitMax, Field::Lod, Field::Loq, Field::DeclaredValue, Field::Tolerance];

/// A number as a person types it: `0.32`, `45`, `-1.5`.
fn typed(number: f64) -> String {
    format!("{number}")
}

/// A number as text with one decimal more than it needs, the text of a cell that showed more
/// decimals: `0.320`, `45.0`.
fn padded(number: f64) -> String {
    let decimals = typed(number).split_once('.').map_or(0, |(_, d)| d.len());
    format!("{number:.*}", decimals + 1)
}

/// Numbers of results, limits, detection limits, declared values and tolerances stored as
/// text cells (`"0.32"`) instead of number cells: every one (`mixed: false`), or row after row
/// a number cell, typed text, and text padded with a zero (`"0.320"`) in one column.
#[derive(Debug)]
pub(crate) struct NumbersAsText {
    pub mixed: bool,
}

impl Transformation for NumbersAsText {
    fn name(&self) -> String {
        if self.mixed {
            "workbook numbers as number cells and text in turn".into()
        } else {
            "workbook numbers as text".into()
        }
    }

    fn rewrites_workbooks(&self) -> bool {
        true
    }

    fn apply_workbooks(&self, _env: &Env, source: &Source, mut files: Vec<BookFile>) -> Rewritten<BookFile> {
        let mixed = self.mixed;
        each_book(source, &mut files, |book, region, count| {
            let sheet = &mut book.sheets[region.sheet];
            for (n, row) in region.rows.clone().enumerate() {
                for (i, field) in NUMBER_FIELDS.iter().enumerate() {
                    let Some(col) = region.columns.get(field) else { continue };
                    let Some(cell) = sheet.cells.get_mut(&(row, *col)) else { continue };
                    let Some(number) =
                        cell.as_number().filter(|_| cell.formula.is_none() && cell.date_format.is_none())
                    else {
                        continue;
                    };
                    *cell = match (mixed, (count + n + i) % 3) {
                        (false, _) | (true, 1) => Cell::text(typed(number)),
                        (true, 2) => Cell::text(padded(number)),
                        _ => continue,
                    };
                }
            }
        });
        Rewritten::files(files)
    }
}

/// Results stored as numbers multiplied by 1000, units unchanged: it changes what the rows
/// say; the comparison must see it.
#[derive(Debug)]
pub(crate) struct ResultsTimesThousand;

impl Transformation for ResultsTimesThousand {
    fn name(&self) -> String {
        "workbook results multiplied by 1000 (units unchanged)".into()
    }

    fn rewrites_workbooks(&self) -> bool {
        true
    }

    fn apply_workbooks(&self, _env: &Env, source: &Source, mut files: Vec<BookFile>) -> Rewritten<BookFile> {
        each_book(source, &mut files, |book, region, _| {
            let Some(&col) = region.columns.get(&Field::Result) else { return };
            let sheet = &mut book.sheets[region.sheet];
            for row in region.rows.clone() {
                if let Some(Value::Number(n)) = sheet.cells.get_mut(&(row, col)).map(|c| &mut c.value) {
                    *n *= 1000.0;
                }
            }
        });
        Rewritten::files(files)
    }
}

#[test]
fn a_date_is_written_in_each_form_in_either_system() {
    let july5 = NaiveDate::from_ymd_opt(2013, 7, 5).unwrap();
    let cell = |form: DateForm, date1904| form.write(july5, date1904);
    assert_eq!(cell(DateForm::Serial, false), Cell::number(41460.0));
    assert_eq!(cell(DateForm::Serial, true), Cell::number(39998.0));
    let formula = cell(DateForm::Formula, true);
    assert_eq!((formula.as_number(), formula.formula.as_deref()), (Some(39998.0), Some("DATE(2013,7,5)")));
    assert!(formula.date_format.is_some());
    let texts: Vec<Cell> = DateForm::TEXTS.iter().map(|&f| cell(f, false)).collect();
    assert_eq!(texts, [Cell::text("2013年7月5日"), Cell::text("2013.7.5"), Cell::text("2013/07/05")]);
    for form in DateForm::ALL {
        for date1904 in [false, true] {
            assert_eq!(date_of(&cell(form, date1904), date1904), Some(july5), "{form:?}, 1904: {date1904}");
        }
    }
    assert_eq!(date_of(&Cell::number(12.0), false), None, "no day of these years");
    assert_eq!(date_of(&Cell::text("2013-13-05"), false), None);
}

#[test]
fn numbers_as_text_read_as_the_same_numbers() {
    for (number, typed_text, padded_text) in
        [(0.32, "0.32", "0.320"), (45.0, "45", "45.0"), (-1.5, "-1.5", "-1.50"), (1.4, "1.4", "1.40")]
    {
        assert_eq!((typed(number).as_str(), padded(number).as_str()), (typed_text, padded_text));
        assert_eq!(padded(number).parse::<f64>().unwrap(), number);
    }
}

#[test]
fn merged_runs_come_apart_and_together_again() {
    let mut sheet = Worksheet { name: "s".into(), cells: BTreeMap::new(), merges: Vec::new() };
    for (row, city) in [(4, "郑州市"), (6, "开封市"), (7, "开封市"), (8, "洛阳市")] {
        sheet.cells.insert((row, 5), Cell::text(city));
    }
    sheet.merges.push(Merge { first: (4, 5), last: (5, 5) });
    sheet.merges.push(Merge { first: (2, 2), last: (2, 4) });
    assert_eq!(unmerge_rows(&mut sheet, &(4..9)), [5]);
    assert_eq!(sheet.merges, [Merge { first: (2, 2), last: (2, 4) }], "the header's region stays");
    assert_eq!(sheet.cells[&(5, 5)].as_text(), Some("郑州市"));
    merge_runs(&mut sheet, &(4..9), &[5]);
    assert_eq!(&sheet.merges[1..], [Merge { first: (4, 5), last: (5, 5) }, Merge { first: (6, 5), last: (7, 5) }]);
    assert_eq!(sheet.cells.keys().copied().collect::<Vec<_>>(), [(4, 5), (6, 5), (8, 5)]);
}
