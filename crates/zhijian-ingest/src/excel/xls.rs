//! A legacy `.xls` walked before calamine opens it: the compound document's workbook stream
//! followed sector by sector and its BIFF records read for each sheet's extent and the
//! workbook's date system, so that a file calamine would choke on is refused first.

use zhijian_pipeline::Limits;

use crate::read::ReadError;

/// Refuses a legacy `.xls` whose sheets calamine would lay out beyond `max_cells`, before it
/// opens the file: calamine reserves each sheet's DIMENSIONS (rows × columns as declared) and
/// fills a dense grid of the bounding box of its cells, so a lone cell at row 65,536, column
/// 65,536 (columns are 16-bit in the records) would take terabytes, and a DIMENSIONS record
/// whose first row is after its last overflows (found by fuzzing). A file this walk cannot
/// follow is left to calamine, which reports what is wrong with it. Returns whether the
/// workbook's DATE1904 record sets the 1904 date system.
pub(super) fn check_xls_extent(bytes: &[u8], limits: &Limits) -> Result<bool, ReadError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excel::read_workbook;
    use crate::excel::tests::workbook;

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
}
