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

use std::io::{Cursor, Read as _};

use calamine::{Data, Reader, Sheets, Xlsx, open_workbook_auto_from_rs, open_workbook_from_rs};
use zhijian_pipeline::{Limits, SheetRef, SheetSelection};

use crate::read::{HeaderSearch, RawRecord, ReadError, Table, compose_header, find_header};

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

/// Refuses a legacy `.xls` whose sheets calamine would lay out beyond `max_cells`, before it
/// opens the file: calamine reserves each sheet's DIMENSIONS (rows × columns as declared) and
/// fills a dense grid of the bounding box of its cells, so a lone cell at row 65,536, column
/// 65,536 (columns are 16-bit in the records) would take terabytes, and a DIMENSIONS record
/// whose first row is after its last overflows (found by fuzzing). A file this walk cannot
/// follow is left to calamine, which reports what is wrong with it. Returns whether the
/// workbook's DATE1904 record sets the 1904 date system.
fn check_xls_extent(bytes: &[u8], limits: &Limits) -> Result<bool, ReadError> {
    let stream = compound_stream(bytes, &["Workbook", "Book"])
        .map_err(|why| ReadError::Workbook { message: format!("the compound document is malformed: {why}") })?;
    let Some(stream) = stream else { return Ok(false) };
    let mut date1904 = false;
    let max_cells = limits.max_cells as u64;
    let mut sheets: Vec<(usize, String)> = Vec::new();
    for (kind, data) in biff_records(&stream, 0) {
        match kind {
            // BoundSheet8: where the sheet's records start, and its name.
            0x0085 => {
                let Some(position) = le_u32(data, 0) else { continue };
                let name = match (data.get(6), data.get(7)) {
                    (Some(&length), Some(&0)) => {
                        data.iter().skip(8).take(usize::from(length)).map(|&b| char::from(b)).collect()
                    }
                    (Some(&length), Some(_)) => {
                        let units: Vec<u16> =
                            (0..usize::from(length)).filter_map(|i| le_u16(data, 8 + 2 * i)).collect();
                        String::from_utf16_lossy(&units)
                    }
                    _ => String::new(),
                };
                sheets.push((position as usize, name));
            }
            // DATE1904: 1 when serial numbers count from 1904-01-01.
            0x0022 => date1904 = le_u16(data, 0) == Some(1),
            0x000A => break,
            _ => {}
        }
    }
    for (position, name) in sheets {
        let (mut low, mut high): ((u64, u64), (u64, u64)) = ((u64::MAX, u64::MAX), (0, 0));
        let mut cell = |row: u16, column: u16| {
            low = (low.0.min(row.into()), low.1.min(column.into()));
            high = (high.0.max(row.into()), high.1.max(column.into()));
        };
        for (kind, data) in biff_records(&stream, position) {
            match kind {
                // DIMENSIONS, read as calamine reads it.
                0x0200 => {
                    let (first_row, last_row, first_col, last_col) = match data.len() {
                        10 => (
                            le_u16(data, 0).map(u32::from),
                            le_u16(data, 2).map(u32::from),
                            le_u16(data, 4),
                            le_u16(data, 6),
                        ),
                        14 => (le_u32(data, 0), le_u32(data, 4), le_u16(data, 8), le_u16(data, 10)),
                        _ => continue,
                    };
                    let (Some(first_row), Some(last_row), Some(mut first_col), Some(last_col)) =
                        (first_row, last_row, first_col, last_col)
                    else {
                        continue;
                    };
                    if first_col > 0xFF || last_col < first_col {
                        first_col = 0;
                    }
                    if last_row >= 1 && last_col >= 1 {
                        if first_row > last_row - 1 {
                            return Err(ReadError::Workbook {
                                message: format!(
                                    "worksheet `{name}` declares its rows from {} to {last_row}: its first row is after its last",
                                    u64::from(first_row) + 1
                                ),
                            });
                        }
                        let area = u64::from(last_row - first_row) * u64::from(last_col - first_col);
                        if area > max_cells {
                            return Err(ReadError::TooManyCells { sheet: name, limit: limits.max_cells });
                        }
                    }
                }
                // Cells calamine keeps: NUMBER, LABEL, BOOLERR, RK, LABELSST, FORMULA.
                0x0203 | 0x0204 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                    if let (Some(row), Some(column)) = (le_u16(data, 0), le_u16(data, 2)) {
                        cell(row, column);
                    }
                }
                // MULRK: a run of cells on one row.
                0x00BD => {
                    let last = data.len().checked_sub(2).and_then(|at| le_u16(data, at));
                    if let (Some(row), Some(column), Some(last)) = (le_u16(data, 0), le_u16(data, 2), last) {
                        cell(row, column);
                        cell(row, last.max(column));
                    }
                }
                0x000A => break,
                _ => {}
            }
        }
        if low.0 <= high.0 {
            let area = (high.0 - low.0 + 1).saturating_mul(high.1.saturating_sub(low.1) + 1);
            if area > max_cells {
                return Err(ReadError::TooManyCells { sheet: name, limit: limits.max_cells });
            }
        }
    }
    Ok(date1904)
}

fn le_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn le_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// The BIFF records of `stream` from `start`: (type, data), until the stream ends or a record
/// is cut short.
fn biff_records(stream: &[u8], start: usize) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = start;
    std::iter::from_fn(move || {
        let kind = le_u16(stream, at)?;
        let length = usize::from(le_u16(stream, at + 2)?);
        let data = stream.get(at + 4..at + 4 + length)?;
        at += 4 + length;
        Some((kind, data))
    })
}

/// A stream of a compound document (the container of `.xls`), by name: its sectors followed
/// through the allocation table, or through the mini stream for a small one. `Ok(None)` when
/// the container is not one this walk can follow (calamine then says what is wrong). An error
/// for what would make calamine loop or allocate without bound (found by fuzzing): a chain of
/// sectors that runs in a circle, or a size declared beyond the file's.
fn compound_stream(bytes: &[u8], names: &[&str]) -> Result<Option<Vec<u8>>, String> {
    const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
    const RESERVED: u32 = 0xFFFF_FFFA;
    let (Some(shift), Some(difat_start), Some(dir_start)) =
        (le_u16(bytes, 0x1E), le_u32(bytes, 0x44), le_u32(bytes, 0x30))
    else {
        return Ok(None);
    };
    let size: usize = match shift {
        9 => 512,
        12 => 4096,
        _ => return Ok(None),
    };
    let file = bytes.len() as u64;
    let max_id = bytes.len() / size;
    for (offset, what, unit) in [
        (0x28, "directory", size as u64),
        (0x2C, "allocation table", size as u64),
        (0x40, "mini allocation table", size as u64),
    ] {
        let Some(count) = le_u32(bytes, offset) else { return Ok(None) };
        if u64::from(count) * unit > file {
            return Err(format!("its {what} is declared {count} sectors long, more than the file holds"));
        }
    }
    let sector = |id: u32| -> Option<&[u8]> {
        let start = (id as usize).checked_add(1)?.checked_mul(size)?;
        bytes.get(start..start.checked_add(size)?)
    };
    // The allocation table's sectors: 109 in the header, the rest in a chain of DIFAT sectors.
    let mut fat_sectors: Vec<u32> = (0..109).filter_map(|i| le_u32(bytes, 0x4C + 4 * i)).collect();
    let mut difat = difat_start;
    let mut hops = 0;
    while difat < RESERVED {
        hops += 1;
        if hops > max_id + 1 {
            return Err("its chain of allocation-table sectors runs in a circle".to_string());
        }
        let Some(data) = sector(difat) else { return Ok(None) };
        let entries = size / 4 - 1;
        fat_sectors.extend((0..entries).filter_map(|i| le_u32(data, 4 * i)));
        let Some(next) = le_u32(data, 4 * entries) else { return Ok(None) };
        difat = next;
    }
    let mut fat: Vec<u32> = Vec::new();
    for id in fat_sectors.iter().filter(|id| **id < RESERVED).take(max_id + 1) {
        let Some(data) = sector(*id) else { return Ok(None) };
        fat.extend((0..size / 4).filter_map(|i| le_u32(data, 4 * i)));
    }
    // A chain as calamine follows it: to END_OF_CHAIN; a sector beyond the table stops it.
    let chain = |table: &[u32], start: u32, what: &str| -> Result<Vec<u32>, String> {
        let mut ids = Vec::new();
        let mut id = start;
        while id != END_OF_CHAIN {
            if ids.len() > table.len() {
                return Err(format!("its chain of {what} sectors runs in a circle"));
            }
            ids.push(id);
            match table.get(id as usize) {
                Some(next) => id = *next,
                None => break,
            }
        }
        Ok(ids)
    };
    let read = |start: u32, what: &str| -> Result<Option<Vec<u8>>, String> {
        let mut out = Vec::new();
        for id in chain(&fat, start, what)? {
            let Some(data) = sector(id) else { return Ok(None) };
            out.extend_from_slice(data);
        }
        Ok(Some(out))
    };
    let Some(directory) = read(dir_start, "directory")? else { return Ok(None) };
    let entries: Vec<&[u8]> = directory.chunks_exact(128).collect();
    let declared = |entry: &[u8]| -> Option<u64> {
        if size == 512 {
            le_u32(entry, 120).map(u64::from)
        } else {
            Some(u64::from(le_u32(entry, 120)?) | u64::from(le_u32(entry, 124)?) << 32)
        }
    };
    let Some(root) = entries.first() else { return Ok(None) };
    let root_length = declared(root).unwrap_or(0);
    if root_length > file {
        return Err(format!("its mini stream is declared {root_length} bytes long, more than the file's {file}"));
    }
    let Some(entry) = entries.iter().find(|entry| {
        let units: Vec<u16> = (0..32).map_while(|i| le_u16(entry, 2 * i).filter(|u| *u != 0)).collect();
        names.iter().any(|n| *n == String::from_utf16_lossy(&units))
    }) else {
        return Ok(None);
    };
    let (Some(start), Some(length)) = (le_u32(entry, 116), declared(entry)) else { return Ok(None) };
    if length > file {
        return Err(format!("its workbook stream is declared {length} bytes long, more than the file's {file}"));
    }
    let mut stream = if length < 4096 {
        let Some(mini) = read(le_u32(root, 116).unwrap_or(END_OF_CHAIN), "mini stream")? else { return Ok(None) };
        let mut minifat: Vec<u32> = Vec::new();
        for id in chain(&fat, le_u32(bytes, 0x3C).unwrap_or(END_OF_CHAIN), "mini allocation table")? {
            let Some(data) = sector(id) else { return Ok(None) };
            minifat.extend((0..size / 4).filter_map(|i| le_u32(data, 4 * i)));
        }
        let mut out = Vec::new();
        for id in chain(&minifat, start, "workbook stream")? {
            let at = id as usize * 64;
            let Some(data) = mini.get(at..at + 64) else { return Ok(None) };
            out.extend_from_slice(data);
        }
        out
    } else {
        let Some(stream) = read(start, "workbook stream")? else { return Ok(None) };
        stream
    };
    stream.truncate(length as usize);
    Ok(Some(stream))
}

/// Lays the cells out as records: the header rows in full, every later row as the cells it
/// has (see [`RawRecord`]); merged regions filled in within the sheet's used range.
fn build_table(
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
    fn legacy_xls_in_the_1904_date_system() {
        let table =
            read_workbook(&workbook("agri-inputs/nongzi-choucha-2013.xls"), None, 2, 1, &Limits::default()).unwrap();
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

    /// A minimal `.xlsx` of one sheet: `rows` of `(cell reference, inline text)`, `merges` as
    /// `A1:B2` references, and any extra parts.
    fn xlsx(cells: &[(&str, &str)], merges: &[&str], extra: &[(&str, Vec<u8>)]) -> Vec<u8> {
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

    #[test]
    fn an_xls_that_makes_calamine_panic_is_unreadable_not_a_crash() {
        // The sheet's DIMENSIONS record (type 0x0200, 14 bytes) with its first row after its
        // last: calamine subtracts them and overflows.
        let mut bytes = workbook("agri-inputs/nongzi-choucha-2013.xls");
        let at = bytes.windows(4).position(|w| w == [0x00, 0x02, 0x0E, 0x00]).unwrap() + 4;
        bytes[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
        let err = read_workbook(&bytes, None, 2, 1, &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read the workbook: worksheet `监督抽查` declares its rows from 1001 to 246: its first row is after its last"
        );
        // The sheet's records said to start beyond the end of the stream: calamine slices the
        // stream there and panics; that is this file's fault, reported as such.
        let mut bytes = workbook("agri-inputs/nongzi-choucha-2013.xls");
        let bound = bytes.windows(2).position(|w| w == [0x85, 0x00]).unwrap() + 4;
        bytes[bound..bound + 4].copy_from_slice(&0x00FF_FFFFu32.to_le_bytes());
        let err = read_workbook(&bytes, None, 2, 1, &Limits::default()).unwrap_err();
        assert!(
            matches!(&err, ReadError::Workbook { message } if message.starts_with("the workbook is malformed (the reader failed: ")),
            "{err:?}"
        );
    }

    #[test]
    fn an_xls_laid_out_beyond_the_cells_cap_is_refused_before_calamine_opens_it() {
        // Found by fuzzing: a DIMENSIONS record declaring 4 billion rows made calamine reserve
        // terabytes (an abort in a release build, not a panic).
        let mut bytes = workbook("agri-inputs/nongzi-choucha-2013.xls");
        let at = bytes.windows(4).position(|w| w == [0x00, 0x02, 0x0E, 0x00]).unwrap() + 4;
        bytes[at + 4..at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = read_workbook(&bytes, None, 2, 1, &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "worksheet `监督抽查` has more than 10000000 cells (merged regions filled in); raise `max_cells` in the source's `[sources.limits]` if it really is that large"
        );
        // A cell at row 65,536 and column 65,536: a grid of 4 billion cells.
        let mut bytes = workbook("agri-inputs/nongzi-choucha-2013.xls");
        let label = bytes.windows(4).position(|w| w == [0xFD, 0x00, 0x0A, 0x00]).unwrap() + 4;
        bytes[label..label + 4].copy_from_slice(&[0xFF; 4]);
        let err = read_workbook(&bytes, None, 2, 1, &Limits::default()).unwrap_err();
        assert!(matches!(err, ReadError::TooManyCells { .. }), "{err}");
        // Found by fuzzing: a workbook stream declared 4 GB long, which calamine allocates.
        let mut bytes = workbook("agri-inputs/nongzi-choucha-2013.xls");
        let directory = 512 * (1 + u32::from_le_bytes(bytes[0x30..0x34].try_into().unwrap()) as usize);
        let name: Vec<u8> = "Workbook".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let entry = directory + bytes[directory..].windows(name.len()).position(|w| w == name).unwrap();
        bytes[entry + 120..entry + 124].copy_from_slice(&0xF000_0000u32.to_le_bytes());
        let err = read_workbook(&bytes, None, 2, 1, &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read the workbook: the compound document is malformed: its workbook stream is declared 4026531840 bytes long, more than the file's 62976"
        );
        // A chain of directory sectors that points back at itself: calamine loops for ever.
        let mut bytes = workbook("agri-inputs/nongzi-choucha-2013.xls");
        let first_fat = 512 * (1 + u32::from_le_bytes(bytes[0x4C..0x50].try_into().unwrap()) as usize);
        let start = u32::from_le_bytes(bytes[0x30..0x34].try_into().unwrap());
        let slot = first_fat + 4 * start as usize;
        bytes[slot..slot + 4].copy_from_slice(&start.to_le_bytes());
        let err = read_workbook(&bytes, None, 2, 1, &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read the workbook: the compound document is malformed: its chain of directory sectors runs in a circle"
        );
        // The bundled file is within the cap, and a tight cap counts its cells.
        let bytes = workbook("agri-inputs/nongzi-choucha-2013.xls");
        assert!(check_xls_extent(&bytes, &Limits::default()).is_ok());
        assert!(matches!(
            read_workbook(&bytes, None, 2, 1, &Limits { max_cells: 1000, ..Limits::default() }),
            Err(ReadError::TooManyCells { .. })
        ));
    }

    /// A minimal `.xlsx` of several sheets, each `(name, cells as (reference, inline text))`.
    fn sheets(sheets: &[(&str, &[(&str, &str)])]) -> Vec<u8> {
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

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = read_workbook(b"PK\x03\x04 not really a zip", None, 1, 1, &Limits::default()).unwrap_err();
        assert!(matches!(err, ReadError::Workbook { .. }), "{err:?}");
    }
}
