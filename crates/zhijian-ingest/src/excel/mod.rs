//! Reading Excel worksheets (`.xlsx` or legacy `.xls`) into the same [`Table`] as CSV.
//!
//! A [`Workbook`] is opened once and its worksheets read one at a time: the one the source
//! names (or the first), every one (`sheet = "*"`, [`Workbook::select`]), or a list.
//!
//! What offices' workbooks hold, and what becomes of it:
//! - title rows above the header: skipped up to `header_row`, or up to the first row whose
//!   header maps the source's required columns (`header_row = "auto"`, see
//!   [`crate::read::find_header`]);
//! - merged cells: every cell of a merged region takes the region's value, so a merged
//!   two-row header and a city merged down several rows both read as written;
//! - dates: date-formatted cells become `2013-07-05` in the workbook's date system (1900 or
//!   1904); plain numbers stay numbers, and [`Table::date1904`] tells the date parser which
//!   system a serial number counts from;
//! - formulas: their cached values, as Excel last computed them;
//! - empty trailing rows and columns: blank rows are counted and skipped, empty columns ignored;
//!   the runs of blank rows among the data are kept in [`Table::blank_runs`] for the manifest
//!   (a formatted cell without a value is no cell: a bordered area below the data adds nothing).
//!
//! `source_line` of a worksheet row is its row number in Excel, from 1; when a source reads
//! several worksheets, `source_file` names the sheet too (`FILE#SHEET`).
//!
//! A sheet is read sparsely: memory follows the cells present, not the address of the last
//! one, so a lone cell at `XFD1048576` costs one cell. The [`Limits`] bound what a file may
//! cost: the cells of the sheet (merged regions filled in included, `max_cells`), and for an
//! `.xlsx` the unzipped size of its parts (`max_unzipped_bytes`) and its ratio to the file's
//! size (`max_compression_ratio`), measured by unzipping every part before calamine opens it.
//! A workbook that makes calamine panic is reported as unreadable, not a crash. Legacy `.xls`
//! files are parsed by calamine whole when opened, each sheet as a dense grid of its used
//! range (at most 65,536 × 256 cells in that format).
//!
//! The cells are laid out as a table in `layout`; a legacy `.xls` is walked for its extent
//! (and its date system) before calamine opens it in `xls`.

mod layout;
mod xls;

use std::io::{Cursor, Read as _};

use calamine::{Data, Reader, Sheets, Xlsx, open_workbook_auto_from_rs, open_workbook_from_rs};
use zhijian_pipeline::{Limits, SheetRef, SheetSelection};

use self::layout::build_table;
use self::xls::check_xls_extent;
use crate::read::{HeaderSearch, ReadError, Table};

/// Below this many unzipped bytes, the compression ratio of an `.xlsx` is not checked.
const RATIO_CHECKED_FROM: u64 = 1024 * 1024;

/// Reads one worksheet of the workbook `bytes`, within `limits`: `sheet`, or the first; its
/// header's first row is `header_row` (from 1).
pub fn read_workbook(
    bytes: &[u8],
    sheet: Option<&SheetRef>,
    header_row: usize,
    header_rows: usize,
    limits: &Limits,
) -> Result<Table, ReadError> {
    let mut workbook = Workbook::open(bytes, limits)?;
    let name = workbook.sheet(sheet)?;
    workbook.read_sheet(&name, HeaderSearch::At(header_row), header_rows)
}

/// An open workbook, its worksheets read one at a time, so a workbook of many sheets costs
/// the cells of one at a time.
pub struct Workbook<'b> {
    sheets: Sheets<Cursor<&'b [u8]>>,
    names: Vec<String>,
    /// The workbook says its serial numbers count from 1904 (`<workbookPr date1904="1">`,
    /// the `.xls` DATE1904 record).
    date1904: bool,
    limits: Limits,
}

impl std::fmt::Debug for Workbook<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbook").field("names", &self.names).finish_non_exhaustive()
    }
}

impl<'b> Workbook<'b> {
    /// Opens the workbook `bytes` (`.xlsx`, `.xls`, or what calamine tells apart), within
    /// `limits`.
    pub fn open(bytes: &'b [u8], limits: &Limits) -> Result<Self, ReadError> {
        let (sheets, names, date1904) = guarded(|| {
            let (sheets, date1904) = open_sheets(bytes, limits)?;
            let names = sheets.sheet_names();
            Ok((sheets, names, date1904))
        })?;
        Ok(Workbook { sheets, names, date1904, limits: *limits })
    }

    /// The worksheets' names, in workbook order.
    pub fn sheet_names(&self) -> &[String] {
        &self.names
    }

    /// The name of worksheet `sheet`, or of the first one.
    pub fn sheet(&self, sheet: Option<&SheetRef>) -> Result<String, ReadError> {
        let name = match sheet {
            None => self.names.first().cloned(),
            Some(SheetRef::Name(wanted)) => self.names.iter().find(|n| n.trim() == wanted.trim()).cloned(),
            Some(SheetRef::Position(n)) => self.names.get(n.saturating_sub(1)).cloned(),
        };
        name.ok_or_else(|| {
            let wanted = match sheet {
                Some(SheetRef::Name(n)) => format!("`{n}`"),
                Some(SheetRef::Position(n)) => format!("number {n}"),
                None => "at all".to_string(),
            };
            ReadError::NoSheet { wanted, found: self.names.clone() }
        })
    }

    /// The names of the worksheets `selection` reads, in its order (workbook order for
    /// `"*"`); an error for a worksheet it names that the workbook lacks.
    pub fn select(&self, selection: &SheetSelection) -> Result<Vec<String>, ReadError> {
        match selection {
            SheetSelection::One(sheet) => Ok(vec![self.sheet(sheet.as_ref())?]),
            SheetSelection::All => Ok(self.names.clone()),
            SheetSelection::List(sheets) => sheets.iter().map(|sheet| self.sheet(Some(sheet))).collect(),
        }
    }

    /// Reads the worksheet `name` as a table whose header is where `header` says.
    pub fn read_sheet(&mut self, name: &str, header: HeaderSearch<'_>, header_rows: usize) -> Result<Table, ReadError> {
        let limits = self.limits;
        let mut cells = guarded(|| read_cells(&mut self.sheets, name, &limits))?;
        // The workbook's own setting decides; a sheet of plain serial numbers has no date cell
        // to tell it by.
        cells.date1904 |= self.date1904;
        build_table(cells, header, header_rows, &limits)
    }
}

/// Runs `read` (calamine and zip at work), reporting a panic as a malformed workbook: they
/// index into the file's structures as the file declares them, and a malformed file can make
/// them panic. That is the file's fault, not a bug of the run.
fn guarded<T>(read: impl FnOnce() -> Result<T, ReadError>) -> Result<T, ReadError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).map_err(|panic| ReadError::Workbook {
        message: format!("the workbook is malformed (the reader failed: {})", panic_text(&*panic)),
    })?
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}

/// A worksheet's cells as read: every cell calamine reports as not empty, by position from
/// A1 (row, column, from 0), with the merged regions and the date system.
#[derive(Debug, Default)]
struct SheetCells {
    name: String,
    cells: Vec<((u32, u32), String)>,
    merges: Vec<calamine::Dimensions>,
    date1904: bool,
}

impl SheetCells {
    fn push(&mut self, position: (u32, u32), value: &Data, limits: &Limits) -> Result<(), ReadError> {
        if matches!(value, Data::Empty) {
            return Ok(());
        }
        if self.cells.len() >= limits.max_cells {
            return Err(ReadError::TooManyCells { sheet: self.name.clone(), limit: limits.max_cells });
        }
        if let Data::DateTime(datetime) = value
            && datetime.is_datetime()
            && is_1904(datetime)
        {
            self.date1904 = true;
        }
        self.cells.push((position, cell_text(value)));
        Ok(())
    }
}

/// A workbook as calamine opens it from memory.
type OpenSheets<'b> = Sheets<Cursor<&'b [u8]>>;

/// Opens the workbook, with whether it counts serial numbers from 1904.
fn open_sheets<'b>(bytes: &'b [u8], limits: &Limits) -> Result<(OpenSheets<'b>, bool), ReadError> {
    let workbook_error = |err: &dyn std::fmt::Display| ReadError::Workbook { message: err.to_string() };
    Ok(if bytes.starts_with(b"PK\x03\x04") {
        let date1904 = check_unzipped_size(bytes, limits)?;
        let sheets = match open_workbook_from_rs::<Xlsx<_>, _>(Cursor::new(bytes)) {
            Ok(xlsx) => Sheets::Xlsx(xlsx),
            // An .xlsb or .ods: calamine tells them apart.
            Err(xlsx_error) => {
                open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| workbook_error(&xlsx_error))?
            }
        };
        (sheets, date1904)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // A compound document: a legacy .xls, whose own error says what is wrong with it.
        let date1904 = check_xls_extent(bytes, limits)?;
        let xls = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e: calamine::XlsError| workbook_error(&e))?;
        (Sheets::Xls(xls), date1904)
    } else {
        (open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| workbook_error(&e))?, false)
    })
}

/// Whether an `.xlsx` workbook part (`xl/workbook.xml`) sets `date1904` on its `workbookPr`.
fn workbook_part_date1904(xml: &[u8]) -> bool {
    let text = String::from_utf8_lossy(xml);
    let Some(start) = text.find("<workbookPr").or_else(|| text.find(":workbookPr")) else { return false };
    let element = &text[start..];
    let element = &element[..element.find('>').unwrap_or(element.len())];
    let Some(at) = element.find("date1904") else { return false };
    let value = element[at + "date1904".len()..].trim_start().trim_start_matches('=').trim_start();
    let value = value.trim_start_matches(['"', '\'']);
    value.starts_with('1') || value.starts_with("true")
}

fn read_cells(workbook: &mut Sheets<Cursor<&[u8]>>, name: &str, limits: &Limits) -> Result<SheetCells, ReadError> {
    let workbook_error = |err: &dyn std::fmt::Display| ReadError::Workbook { message: err.to_string() };
    let name = name.to_string();
    let mut sheet = SheetCells { name: name.clone(), ..SheetCells::default() };
    match workbook {
        Sheets::Xlsx(xlsx) => {
            sheet.merges = match xlsx.worksheet_merge_cells(&name) {
                Some(Ok(merges)) => merges,
                Some(Err(err)) => return Err(workbook_error(&err)),
                None => Vec::new(),
            };
            // Cell by cell from the sheet's XML: nothing is laid out by address.
            let mut reader = xlsx.worksheet_cells_reader(&name).map_err(|e| workbook_error(&e))?;
            while let Some(cell) = reader.next_cell().map_err(|e| workbook_error(&e))? {
                sheet.push(cell.get_position(), &Data::from(cell.get_value().clone()), limits)?;
            }
        }
        other => {
            if let Sheets::Xls(xls) = other {
                sheet.merges = xls.worksheet_merge_cells(&name).unwrap_or_default();
            }
            let range = other.worksheet_range(&name).map_err(|e| workbook_error(&e))?;
            let (start_row, start_col) = range.start().unwrap_or((0, 0));
            for (row, col, value) in range.used_cells() {
                let position = (
                    start_row.saturating_add(u32::try_from(row).unwrap_or(u32::MAX)),
                    start_col.saturating_add(u32::try_from(col).unwrap_or(u32::MAX)),
                );
                sheet.push(position, value, limits)?;
            }
        }
    }
    Ok(sheet)
}

/// Unzips every part of an `.xlsx` without keeping it, refusing the file once the parts add
/// up to more than `max_unzipped_bytes`, or to more than `max_compression_ratio` times the
/// file's size (past [`RATIO_CHECKED_FROM`]): what the parts really hold, not what their
/// headers declare. Returns whether the workbook part sets the 1904 date system.
fn check_unzipped_size(bytes: &[u8], limits: &Limits) -> Result<bool, ReadError> {
    let workbook_error = |err: &dyn std::fmt::Display| ReadError::Workbook { message: err.to_string() };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| workbook_error(&e))?;
    let by_ratio = (limits.max_compression_ratio * bytes.len() as f64).max(RATIO_CHECKED_FROM as f64);
    let by_ratio = if by_ratio >= u64::MAX as f64 { u64::MAX } else { by_ratio as u64 };
    let budget = limits.max_unzipped_bytes.min(by_ratio);
    let mut total: u64 = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut workbook_part: Vec<u8> = Vec::new();
    for index in 0..archive.len() {
        // A part that cannot be read is calamine's to report, if it needs the part at all.
        let Ok(mut part) = archive.by_index(index) else { continue };
        let is_workbook = part.name().eq_ignore_ascii_case("xl/workbook.xml");
        while let Ok(read) = part.read(&mut buffer) {
            if read == 0 {
                break;
            }
            // `workbookPr` comes near the top of the part: its first 64 KiB are enough.
            if is_workbook && workbook_part.len() < 64 * 1024 {
                workbook_part.extend_from_slice(&buffer[..read.min(64 * 1024 - workbook_part.len())]);
            }
            total = total.saturating_add(read as u64);
            if total > budget {
                return Err(if budget == limits.max_unzipped_bytes {
                    ReadError::Unzipped { limit: limits.max_unzipped_bytes }
                } else {
                    ReadError::CompressionRatio { limit: limits.max_compression_ratio, bytes: bytes.len() as u64 }
                });
            }
        }
    }
    Ok(workbook_part_date1904(&workbook_part))
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

    pub(super) fn workbook(name: &str) -> Vec<u8> {
        std::fs::read(format!("../../sample-data/{name}")).unwrap()
    }

    #[test]
    fn the_date_system_is_the_workbooks_own_setting() {
        let part = |pr: &str| {
            format!(
                r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{pr}<sheets/></workbook>"#
            )
        };
        assert!(workbook_part_date1904(part(r#"<workbookPr date1904="1" defaultThemeVersion="164011"/>"#).as_bytes()));
        assert!(workbook_part_date1904(part(r#"<workbookPr defaultThemeVersion="1" date1904 = 'true'/>"#).as_bytes()));
        assert!(workbook_part_date1904(part(r#"<x:workbookPr date1904="1"/>"#).as_bytes()));
        assert!(!workbook_part_date1904(part(r#"<workbookPr date1904="0"/>"#).as_bytes()));
        assert!(!workbook_part_date1904(part(r#"<workbookPr defaultThemeVersion="1904"/>"#).as_bytes()));
        assert!(!workbook_part_date1904(part("").as_bytes()));
        // The bundled .xls was saved in the 1904 system (its DATE1904 record says 1), the
        // .xlsx in the 1900 one.
        let limits = Limits::default();
        assert!(Workbook::open(&workbook("agri-inputs/nongzi-choucha-2013.xls"), &limits).unwrap().date1904);
        assert!(!Workbook::open(&workbook("agri-products/routine-monitoring-2013.xlsx"), &limits).unwrap().date1904);
    }

    /// A minimal `.xlsx` of one sheet: `rows` of `(cell reference, inline text)`, `merges` as
    /// `A1:B2` references, and any extra parts.
    pub(super) fn xlsx(cells: &[(&str, &str)], merges: &[&str], extra: &[(&str, Vec<u8>)]) -> Vec<u8> {
        use std::io::Write as _;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut part = |name: &str, body: &[u8]| {
            zip.start_file(name, options).unwrap();
            zip.write_all(body).unwrap();
        };
        part(
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        );
        part(
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        );
        part(
            "xl/workbook.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        );
        part(
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        );
        let mut sheet = String::from(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        );
        for (reference, text) in cells {
            sheet.push_str(&format!(r#"<row><c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c></row>"#));
        }
        sheet.push_str("</sheetData>");
        if !merges.is_empty() {
            sheet.push_str(&format!(r#"<mergeCells count="{}">"#, merges.len()));
            for merge in merges {
                sheet.push_str(&format!(r#"<mergeCell ref="{merge}"/>"#));
            }
            sheet.push_str("</mergeCells>");
        }
        sheet.push_str("</worksheet>");
        part("xl/worksheets/sheet1.xml", sheet.as_bytes());
        for (name, body) in extra {
            part(name, body);
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn unzipped_size_and_ratio_are_capped() {
        // 20 MB of zeros deflate to about 20 KB: a thousandfold, as a zip bomb.
        let bomb = xlsx(&[("A1", "h"), ("A2", "v")], &[], &[("xl/media/padding.bin", vec![0u8; 20 << 20])]);
        let err = read_workbook(&bomb, None, 1, 1, &Limits::default()).unwrap_err();
        assert!(matches!(err, ReadError::CompressionRatio { .. }), "{err}");
        assert!(err.to_string().starts_with("the workbook unzips to more than 100 times its "), "{err}");
        let generous = Limits { max_compression_ratio: 1e6, ..Limits::default() };
        assert!(read_workbook(&bomb, None, 1, 1, &generous).is_ok());
        let small = Limits { max_unzipped_bytes: 10_000, max_compression_ratio: 1e6, ..Limits::default() };
        let sample = workbook("agri-products/routine-monitoring-2013.xlsx");
        let err = read_workbook(&sample, Some(&SheetRef::Position(2)), 3, 2, &small).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the workbook unzips to more than 10000 bytes; raise `max_unzipped_bytes` in the source's `[sources.limits]` if it really is that large"
        );
    }

    /// A minimal `.xlsx` of several sheets, each `(name, cells as (reference, inline text))`.
    pub(super) fn sheets(sheets: &[(&str, &[(&str, &str)])]) -> Vec<u8> {
        use std::io::Write as _;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        let mut part = |name: &str, body: &str| {
            zip.start_file(name, options).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        };
        let overrides: String = (1..=sheets.len())
            .map(|i| format!(r#"<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#))
            .collect();
        part(
            "[Content_Types].xml",
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>"#
            ),
        );
        part(
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        );
        let entries: String = sheets
            .iter()
            .enumerate()
            .map(|(i, (name, _))| format!(r#"<sheet name="{name}" sheetId="{}" r:id="rId{}"/>"#, i + 1, i + 1))
            .collect();
        part(
            "xl/workbook.xml",
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{entries}</sheets></workbook>"#
            ),
        );
        let links: String = (1..=sheets.len())
            .map(|i| format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>"#))
            .collect();
        part(
            "xl/_rels/workbook.xml.rels",
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{links}</Relationships>"#
            ),
        );
        for (i, (_, cells)) in sheets.iter().enumerate() {
            let rows: String = cells
                .iter()
                .map(|(reference, text)| {
                    format!(r#"<row><c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c></row>"#)
                })
                .collect();
            part(
                &format!("xl/worksheets/sheet{}.xml", i + 1),
                &format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
                ),
            );
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn sheets_are_selected_by_name_position_all_or_list() {
        let bytes = sheets(&[("说明", &[("A1", "本表说明")]), ("一季度", &[("A1", "h")]), ("二季度", &[("A1", "h")])]);
        let workbook = Workbook::open(&bytes, &Limits::default()).unwrap();
        assert_eq!(workbook.sheet_names(), ["说明", "一季度", "二季度"]);
        assert_eq!(workbook.select(&SheetSelection::All).unwrap(), ["说明", "一季度", "二季度"]);
        assert_eq!(workbook.select(&SheetSelection::One(None)).unwrap(), ["说明"]);
        let list = SheetSelection::List(vec![SheetRef::Name("二季度".into()), SheetRef::Position(2)]);
        assert_eq!(workbook.select(&list).unwrap(), ["二季度", "一季度"]);
        let missing = SheetSelection::List(vec![SheetRef::Name("一季度".into()), SheetRef::Name("三季度".into())]);
        assert_eq!(
            workbook.select(&missing).unwrap_err().to_string(),
            "no worksheet `三季度` in the workbook; it has: `说明`, `一季度`, `二季度`"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = read_workbook(b"PK\x03\x04 not really a zip", None, 1, 1, &Limits::default()).unwrap_err();
        assert!(matches!(err, ReadError::Workbook { .. }), "{err:?}");
    }
}
