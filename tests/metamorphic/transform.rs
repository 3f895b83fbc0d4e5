//! The transformations: each rewrites one source's files (and says which pipeline settings it
//! needs changed to keep their meaning), leaving what the rows mean as it was, except
//! [`TimesThousand`], which exists to show that the comparison sees a real change. Those of
//! delimited text are here; those of workbooks are in `excel.rs`.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use zhijian_pipeline::{ColumnMap, Encoding, Field, Layout, Pipeline, Source};

use crate::book::Book;
use crate::numbers::{Decimal, rewrite};
use crate::reference::{Areas, Unit, Units, key};
use crate::sheet::{Bytes, Charset, Sheet};

/// What the transformations look things up in.
#[derive(Debug)]
pub(crate) struct Env {
    pub units: Units,
    pub areas: Areas,
    /// The bundled pipeline, whose alias lists [`HeaderAliases`] lends to other pipelines.
    pub henan: Pipeline,
}

/// One input file of a source.
#[derive(Debug, Clone)]
pub(crate) struct File {
    /// Relative to the drop's root.
    pub path: std::path::PathBuf,
    pub sheet: Sheet,
}

/// One workbook of a source.
#[derive(Debug, Clone)]
pub(crate) struct BookFile {
    /// Relative to the drop's root.
    pub path: std::path::PathBuf,
    pub book: Book,
}

/// A change to the pipeline file that the rewritten files need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Edit {
    /// `encoding = "auto"` for this source.
    AutoEncoding { source: String },
    /// These headers for this field of this source.
    Aliases { source: String, field: Field, aliases: Vec<String> },
    /// `[sources.format.xlsx]` for this source's `[sources.format.xls]`, and `.xlsx` for each
    /// of its `files` patterns' `.xls`.
    AsXlsx { source: String },
    /// `sheet = "…"` in this source's format table.
    Sheet { source: String, sheet: String },
}

/// A source's files after a transformation.
#[derive(Debug)]
pub(crate) struct Rewritten<F = File> {
    pub files: Vec<F>,
    pub edits: Vec<Edit>,
}

impl<F> Rewritten<F> {
    pub(crate) fn files(files: Vec<F>) -> Rewritten<F> {
        Rewritten { files, edits: Vec::new() }
    }
}

/// A rewrite of a source's files: delimited text, workbooks, or both.
pub(crate) trait Transformation: Sync {
    /// What it does, for messages.
    fn name(&self) -> String;
    /// The source's delimited-text files after it (by default, as they were).
    fn apply(&self, _env: &Env, _source: &Source, files: Vec<File>) -> Rewritten {
        Rewritten::files(files)
    }
    /// Whether it rewrites workbooks: when it does not, they stay as they are, byte for byte;
    /// when it does, every workbook is written again as an `.xlsx`.
    fn rewrites_workbooks(&self) -> bool {
        false
    }
    /// The source's workbooks after it, when it [rewrites workbooks](Self::rewrites_workbooks).
    fn apply_workbooks(&self, _env: &Env, _source: &Source, files: Vec<BookFile>) -> Rewritten<BookFile> {
        Rewritten::files(files)
    }
}

/// Where each mapped field sits in `header`, as zhijian documents it: for each field the first
/// of its aliases that some header has, width, case and spaces folded.
pub(crate) fn mapping(header: &[String], columns: &ColumnMap) -> BTreeMap<Field, usize> {
    mapping_with(header, &columns.iter().map(|(f, a)| (f, a.to_vec())).collect())
}

fn mapping_with(header: &[String], columns: &BTreeMap<Field, Vec<String>>) -> BTreeMap<Field, usize> {
    let keys: Vec<String> = header.iter().map(|h| key(h)).collect();
    let mut out = BTreeMap::new();
    for (field, aliases) in columns {
        if let Some(i) = aliases.iter().find_map(|a| keys.iter().position(|k| *k == key(a))) {
            out.insert(*field, i);
        }
    }
    out
}

/// The cells of one row by field.
struct Cells<'r> {
    row: &'r mut Vec<String>,
    map: &'r BTreeMap<Field, usize>,
}

impl Cells<'_> {
    /// The trimmed cell; `None` when unmapped or empty.
    fn get(&self, field: Field) -> Option<String> {
        let cell = self.row.get(*self.map.get(&field)?)?.trim();
        (!cell.is_empty()).then(|| cell.to_string())
    }

    fn set(&mut self, field: Field, value: String) {
        let Some(&i) = self.map.get(&field) else { return };
        if self.row.len() <= i {
            self.row.resize(i + 1, String::new());
        }
        self.row[i] = value;
    }

    /// Replaces the cell by `f(cell)` when it has one and `f` gives something.
    fn update(&mut self, field: Field, f: impl FnOnce(&str) -> Option<String>) {
        if let Some(new) = self.get(field).and_then(|cell| f(&cell)) {
            self.set(field, new);
        }
    }
}

/// Calls `f` on every data row of every file with its field mapping and a running count.
fn each_row(source: &Source, files: &mut [File], mut f: impl FnMut(&mut Cells<'_>, usize)) {
    let mut count = 0;
    for file in files {
        let map = mapping(&file.sheet.header, &source.columns);
        for row in &mut file.sheet.rows {
            f(&mut Cells { row, map: &map }, count);
            count += 1;
        }
    }
}

// Pieces of a cell between any of the separators, with the separators, so that joining them
// gives the cell back: as the packed cells are split when they are read.
use zhijian_ingest::parse::split_keeping as split_keep;

fn join_keep(pieces: &[String], seps: &[&str]) -> String {
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        out.push_str(piece);
        if let Some(sep) = seps.get(i) {
            out.push_str(sep);
        }
    }
    out
}

/// Rewrites each packed item of a `failing_items` cell (`item║result║limit`, items separated
/// as the source says) with `f(parts)`.
fn packed(source: &Source, cell: &str, mut f: impl FnMut(&mut Vec<String>)) -> String {
    let (items, item_seps) = split_keep(cell, &source.packed.items);
    let items: Vec<String> = items
        .into_iter()
        .map(|item| {
            let (parts, part_seps) = split_keep(item, &source.packed.parts);
            let mut parts: Vec<String> = parts.into_iter().map(str::to_string).collect();
            f(&mut parts);
            join_keep(&parts, &part_seps)
        })
        .collect();
    join_keep(&items, &item_seps)
}

/// How a rescaling picks each row's target unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitChoice {
    /// From the row's text: rows written alike (a row delivered twice) stay alike.
    ByContent,
    /// Row after row in turn: the two copies of a row delivered twice get different units.
    ByPosition,
}

/// Picks target units in turn, so a file gets many of them.
struct Picker(usize);

impl Picker {
    /// Starts the picks of a row.
    fn row(&mut self, choice: UnitChoice, cells: &Cells<'_>) {
        if choice == UnitChoice::ByContent {
            // The mapped cells only: a copy of a row differs in its running number (序号).
            let mapped = cells.map.values().filter_map(|&i| cells.row.get(i));
            let hash = mapped
                .flat_map(|c| c.trim().bytes().chain([0]))
                .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
            self.0 = (hash >> 8) as usize;
        }
    }

    /// Another unit of `unit`'s dimension with another factor, and one of its spellings.
    fn pick<'u>(&mut self, units: &'u Units, unit: &Unit) -> Option<(&'u Unit, String)> {
        let candidates = units.rescalable(unit);
        if candidates.is_empty() {
            return None;
        }
        let n = self.0;
        self.0 += 1;
        let target = candidates[n % candidates.len()];
        let name = target.names[(n / candidates.len()) % target.names.len()].clone();
        Some((target, name))
    }
}

/// How many places the decimal point moves when a value in `from` is written in `to`.
fn shift(from: &Unit, to: &Unit) -> i32 {
    from.exponent.unwrap_or(0) - to.exponent.unwrap_or(0)
}

/// `text`, a number with a unit (`0.42mg/kg`, `≤0.1mg/kg`, `500mL`), written in another unit of
/// its dimension; `None` when it has no unit or the number is not one.
fn rescale_with_unit(units: &Units, picker: &mut Picker, text: &str) -> Option<String> {
    let (number, unit_text) = units.split_suffix(text)?;
    let unit = units.resolve(unit_text)?;
    let (target, name) = picker.pick(units, unit)?;
    let by = shift(unit, target);
    Some(format!("{}{name}", rewrite(number, |d| d.shifted(by).plain())?))
}

/// Every number of the value cells of a row in scientific notation.
fn scientific(units: &Units, text: &str) -> Option<String> {
    let sci = |d: &Decimal| d.scientific();
    if let Some(plain) = rewrite(text, sci) {
        return Some(plain);
    }
    let (number, unit) = units.split_suffix(text).or_else(|| text.strip_suffix('%').map(|n| (n, "%")))?;
    Some(format!("{}{unit}", rewrite(number, sci)?))
}

/// The base unit (factor 1) of the dimension of the unit a labelled quantity is written in.
fn net_content_base<'u>(units: &'u Units, labelled: &str) -> Option<&'u Unit> {
    let (_, unit) = units.split_suffix(labelled)?;
    let dimension = &units.resolve(unit)?.dimension;
    units.base(dimension)
}

/// Rewrites each measured value of a net-content cell with `f(number, its unit)`, when every
/// piece between the source's separators is a number with or without a unit.
fn measured_values(
    units: &Units,
    source: &Source,
    cell: &str,
    base: &Unit,
    mut f: impl FnMut(&Decimal, &Unit) -> String,
) -> Option<String> {
    let (pieces, seps) = split_keep(cell, &source.packed.values);
    let mut out = Vec::new();
    for piece in pieces {
        if piece.trim().is_empty() {
            out.push(piece.to_string());
            continue;
        }
        let (number, unit) = match units.split_suffix(piece) {
            Some((number, unit)) => (number, units.resolve(unit)?),
            None => (piece.trim(), base),
        };
        if unit.dimension != base.dimension {
            return None;
        }
        out.push(f(&Decimal::parse(number)?, unit));
    }
    Some(join_keep(&out, &seps))
}

/// Results (and what is written in the result's unit: limits and detection limits without a
/// unit column of their own, a declared value without a unit and its tolerance; a failing
/// item's limit without a unit; a net-content sample's measured units) rewritten in another
/// unit of the same dimension by moving the decimal point.
#[derive(Debug)]
pub(crate) struct RescaleResults {
    pub choice: UnitChoice,
}

impl Transformation for RescaleResults {
    fn name(&self) -> String {
        let choice = match self.choice {
            UnitChoice::ByContent => "",
            UnitChoice::ByPosition => ", row after row (the copies of a row differ)",
        };
        format!("results rescaled to another unit of their dimension{choice}")
    }

    fn apply(&self, env: &Env, source: &Source, mut files: Vec<File>) -> Rewritten {
        let units = &env.units;
        let mut picker = Picker(0);
        each_row(source, &mut files, |cells, _| {
            picker.row(self.choice, cells);
            if let Some(unit_text) = cells.get(Field::ResultUnit)
                && let Some(unit) = units.resolve(&unit_text)
                && let Some((target, name)) = picker.pick(units, unit)
            {
                // Every cell in the result's unit moves, or none does (a number the rewrite
                // cannot read would otherwise change its meaning with the unit).
                let mut fields = vec![Field::Result];
                for (limit, own_unit) in [
                    (Field::LimitMin, Some(Field::LimitMinUnit)),
                    (Field::LimitMax, Some(Field::LimitMaxUnit)),
                    (Field::Lod, None),
                    (Field::Loq, None),
                ] {
                    if own_unit.is_none_or(|u| cells.get(u).is_none()) {
                        fields.push(limit);
                    }
                }
                if cells.get(Field::DeclaredValue).is_some_and(|d| units.split_suffix(&d).is_none()) {
                    fields.extend([Field::DeclaredValue, Field::Tolerance]);
                }
                let by = shift(unit, target);
                let moved: Option<Vec<(Field, String)>> = fields
                    .into_iter()
                    .filter_map(|field| cells.get(field).map(|cell| (field, cell)))
                    .filter(|(_, cell)| cell.contains(|c: char| c.is_ascii_digit()))
                    .map(|(field, cell)| rewrite(&cell, |d| d.shifted(by).plain()).map(|new| (field, new)))
                    .collect();
                if let Some(moved) = moved {
                    for (field, new) in moved {
                        cells.set(field, new);
                    }
                    cells.set(Field::ResultUnit, name);
                }
            }
            cells.update(Field::FailingItems, |cell| {
                Some(packed(source, cell, |parts| {
                    let Some(result) = parts.get(1).map(|p| p.trim().to_string()) else { return };
                    let Some((number, unit_text)) = units.split_suffix(&result) else { return };
                    let Some(unit) = units.resolve(unit_text) else { return };
                    let Some((target, name)) = picker.pick(units, unit) else { return };
                    let by = shift(unit, target);
                    let Some(moved) = rewrite(number, |d| d.shifted(by).plain()) else { return };
                    // A limit without a unit is in the result's: it moves too, or nothing does.
                    let limit = parts
                        .get(2)
                        .map(|l| l.trim().to_string())
                        .filter(|l| units.split_suffix(l).is_none() && l.contains(|c: char| c.is_ascii_digit()));
                    let limit_moved = match &limit {
                        Some(limit) => match rewrite(limit, |d| d.shifted(by).plain()) {
                            Some(new) => Some(new),
                            None => return,
                        },
                        None => None,
                    };
                    parts[1] = format!("{moved}{name}");
                    if let Some(new) = limit_moved {
                        parts[2] = new;
                    }
                }))
            });
            if source.layout == Layout::NetContent
                && let Some(base) = cells.get(Field::LabelledQuantity).and_then(|l| net_content_base(units, &l))
                && let Some((target, name)) = picker.pick(units, base)
            {
                cells.update(Field::MeasuredValues, |cell| {
                    measured_values(units, source, cell, base, |d, unit| {
                        format!("{}{name}", d.shifted(shift(unit, target)).plain())
                    })
                });
            }
        });
        Rewritten::files(files)
    }
}

/// Limits written with a unit of their own (a limit unit column, a failing item's limit with a
/// unit, a net-content sample's labelled quantity and allowed shortfall) rewritten in another
/// unit of their dimension, independently of the results. Rows whose result has no unit are
/// left alone: their result is in the limit's unit.
#[derive(Debug)]
pub(crate) struct RescaleLimits;

impl Transformation for RescaleLimits {
    fn name(&self) -> String {
        "limits with a unit of their own rescaled".into()
    }

    fn apply(&self, env: &Env, source: &Source, mut files: Vec<File>) -> Rewritten {
        let units = &env.units;
        let mut picker = Picker(0);
        each_row(source, &mut files, |cells, _| {
            picker.row(UnitChoice::ByContent, cells);
            if cells.get(Field::ResultUnit).is_some_and(|u| units.resolve(&u).is_some()) {
                for (limit, own_unit) in
                    [(Field::LimitMin, Field::LimitMinUnit), (Field::LimitMax, Field::LimitMaxUnit)]
                {
                    let Some(unit_text) = cells.get(own_unit) else { continue };
                    let Some(unit) = units.resolve(&unit_text) else { continue };
                    let Some(cell) = cells.get(limit) else { continue };
                    let Some((target, name)) = picker.pick(units, unit) else { continue };
                    let by = shift(unit, target);
                    if let Some(moved) = rewrite(&cell, |d| d.shifted(by).plain()) {
                        cells.set(limit, moved);
                        cells.set(own_unit, name);
                    }
                }
            }
            cells.update(Field::FailingItems, |cell| {
                Some(packed(source, cell, |parts| {
                    let result_has_unit = parts.get(1).is_some_and(|r| units.split_suffix(r).is_some());
                    if let (true, Some(limit)) = (result_has_unit, parts.get_mut(2))
                        && let Some(moved) = rescale_with_unit(units, &mut picker, limit)
                    {
                        *limit = moved;
                    }
                }))
            });
            if source.layout == Layout::NetContent {
                cells.update(Field::LabelledQuantity, |cell| rescale_with_unit(units, &mut picker, cell));
                cells.update(Field::AllowedShortfall, |cell| {
                    if cell.ends_with(['%', '％']) { None } else { rescale_with_unit(units, &mut picker, cell) }
                });
            }
        });
        Rewritten::files(files)
    }
}

/// Every number of every value cell in scientific notation (`1.033e+04`), units untouched.
#[derive(Debug)]
pub(crate) struct Scientific;

impl Transformation for Scientific {
    fn name(&self) -> String {
        "numbers in scientific notation".into()
    }

    fn apply(&self, env: &Env, source: &Source, mut files: Vec<File>) -> Rewritten {
        let units = &env.units;
        each_row(source, &mut files, |cells, _| {
            for field in [
                Field::Result,
                Field::LimitMin,
                Field::LimitMax,
                Field::Lod,
                Field::Loq,
                Field::DeclaredValue,
                Field::Tolerance,
                Field::LabelledQuantity,
                Field::AllowedShortfall,
            ] {
                cells.update(field, |cell| scientific(units, cell));
            }
            cells.update(Field::FailingItems, |cell| {
                Some(packed(source, cell, |parts| {
                    for part in parts.iter_mut().skip(1) {
                        if let Some(sci) = scientific(units, part.trim()) {
                            *part = sci;
                        }
                    }
                }))
            });
            if let Some(base) = cells.get(Field::LabelledQuantity).and_then(|l| net_content_base(units, &l)) {
                cells.update(Field::MeasuredValues, |cell| {
                    measured_values(units, source, cell, base, |d, unit| {
                        let written = if std::ptr::eq(unit, base) { String::new() } else { unit.names[0].clone() };
                        format!("{}{written}", d.scientific())
                    })
                });
            }
        });
        Rewritten::files(files)
    }
}

/// Results multiplied by 1000, units unchanged: a transformation that changes meaning, to show
/// that the comparison reports what moved.
#[derive(Debug)]
pub(crate) struct TimesThousand;

impl Transformation for TimesThousand {
    fn name(&self) -> String {
        "results multiplied by 1000 (units unchanged)".into()
    }

    fn apply(&self, _env: &Env, source: &Source, mut files: Vec<File>) -> Rewritten {
        each_row(source, &mut files, |cells, _| {
            cells.update(Field::Result, |cell| rewrite(cell, |d| d.shifted(3).plain()));
        });
        Rewritten::files(files)
    }
}

/// Provinces, cities and counties written as other spellings the seeds accept — code, name,
/// short name, 4-digit prefix, pinyin and other aliases — in turn, row by row.
#[derive(Debug)]
pub(crate) struct AreaSpellings;

impl Transformation for AreaSpellings {
    fn name(&self) -> String {
        "areas in other accepted spellings".into()
    }

    fn apply(&self, env: &Env, source: &Source, mut files: Vec<File>) -> Rewritten {
        let areas = &env.areas;
        let pick =
            |spellings: Vec<String>, n: usize| (!spellings.is_empty()).then(|| spellings[n % spellings.len()].clone());
        each_row(source, &mut files, |cells, n| {
            cells
                .update(Field::Province, |text| pick(areas.spellings(areas.province(text)?, |s| areas.province(s)), n));
            let city = cells.get(Field::City).and_then(|text| areas.city(&text));
            if let Some(city) = city {
                cells.update(Field::City, |_| pick(areas.spellings(city, |s| areas.city(s)), n));
            }
            cells.update(Field::County, |text| {
                let county = areas.county(text, city)?;
                pick(areas.spellings(county, |s| areas.county(s, city)), n + 1)
            });
        });
        Rewritten::files(files)
    }
}

/// The byte shapes a file is written in, in turn.
pub(crate) const SHAPES: [Bytes; 8] = [
    Bytes { charset: Charset::Utf8, bom: false, crlf: false },
    Bytes { charset: Charset::Gb18030, bom: false, crlf: true },
    Bytes { charset: Charset::Utf8, bom: true, crlf: false },
    Bytes { charset: Charset::Gb18030, bom: true, crlf: false },
    Bytes { charset: Charset::Utf8, bom: false, crlf: true },
    Bytes { charset: Charset::Gb18030, bom: false, crlf: false },
    Bytes { charset: Charset::Utf8, bom: true, crlf: true },
    Bytes { charset: Charset::Gb18030, bom: true, crlf: true },
];

/// Every file re-encoded: file `i` of a source in [`SHAPES`]`[(offset + i + k) % 8]`, `k` fixed
/// per source. The source reads `encoding = "auto"` only where its declared encoding could not
/// read the new bytes (GB18030 declared `utf-8`, UTF-8 without a BOM declared `gb18030`).
#[derive(Debug)]
pub(crate) struct Reencode {
    pub offset: usize,
}

impl Reencode {
    fn shape(&self, source: &Source, i: usize) -> Bytes {
        SHAPES[(self.offset + i + source.name.len()) % SHAPES.len()]
    }
}

impl Transformation for Reencode {
    fn name(&self) -> String {
        format!("files re-encoded (shapes from {})", SHAPES[self.offset % SHAPES.len()])
    }

    fn apply(&self, _env: &Env, source: &Source, mut files: Vec<File>) -> Rewritten {
        let mut auto = false;
        for (i, file) in files.iter_mut().enumerate() {
            let shape = self.shape(source, i);
            auto |= match (source.encoding, shape.charset) {
                (Encoding::Utf8, Charset::Gb18030) => true,
                // A UTF-8 BOM decides whatever the declared encoding.
                (Encoding::Gb18030, Charset::Utf8) => !shape.bom,
                _ => false,
            };
            file.sheet.bytes = shape;
        }
        let edits = if auto { vec![Edit::AutoEncoding { source: source.name.clone() }] } else { Vec::new() };
        Rewritten { files, edits }
    }
}

/// SplitMix64: a deterministic shuffle without a dependency.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64, salt: &str) -> Rng {
        Rng(salt.bytes().fold(seed ^ 0x9E37_79B9_7F4A_7C15, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Data rows in a seeded random order; titles and header stay.
#[derive(Debug)]
pub(crate) struct ShuffleRows {
    pub seed: u64,
}

impl Transformation for ShuffleRows {
    fn name(&self) -> String {
        format!("rows shuffled (seed {})", self.seed)
    }

    fn apply(&self, _env: &Env, _source: &Source, mut files: Vec<File>) -> Rewritten {
        for file in &mut files {
            Rng::new(self.seed, &file.path.to_string_lossy()).shuffle(&mut file.sheet.rows);
        }
        Rewritten::files(files)
    }
}

/// Columns in a seeded random order, header and every row alike.
#[derive(Debug)]
pub(crate) struct ReorderColumns {
    pub seed: u64,
}

impl Transformation for ReorderColumns {
    fn name(&self) -> String {
        format!("columns reordered (seed {})", self.seed)
    }

    fn apply(&self, _env: &Env, _source: &Source, mut files: Vec<File>) -> Rewritten {
        for file in &mut files {
            let width = file.sheet.header.len();
            let mut order: Vec<usize> = (0..width).collect();
            Rng::new(self.seed, &file.path.to_string_lossy()).shuffle(&mut order);
            let permute = |cells: &mut Vec<String>| {
                if cells.len() < width {
                    cells.resize(width, String::new());
                }
                let extra = cells.split_off(width);
                *cells = order.iter().map(|&i| std::mem::take(&mut cells[i])).chain(extra).collect();
            };
            permute(&mut file.sheet.header);
            file.sheet.rows.iter_mut().for_each(permute);
        }
        Rewritten::files(files)
    }
}

/// Mapped headers renamed to another alias the pipeline lists for their field, wherever that
/// keeps every field in its column. A source whose pipeline lists a single header for a field
/// that the bundled pipeline lists with aliases (a generated drop) gets the bundled list.
#[derive(Debug)]
pub(crate) struct HeaderAliases;

impl Transformation for HeaderAliases {
    fn name(&self) -> String {
        "headers renamed to other aliases of their field".into()
    }

    fn apply(&self, env: &Env, source: &Source, mut files: Vec<File>) -> Rewritten {
        let mut columns: BTreeMap<Field, Vec<String>> = source.columns.iter().map(|(f, a)| (f, a.to_vec())).collect();
        let mut edits = Vec::new();
        let lender = env.henan.sources.iter().find(|s| s.programme == source.programme);
        for (field, aliases) in &mut columns {
            let Some(lent) = lender.map(|s| s.columns.aliases(*field)) else { continue };
            let known = |a: &String| lent.iter().any(|l| key(l) == key(a));
            if lent.len() > aliases.len() && aliases.iter().all(known) {
                *aliases = lent.to_vec();
                edits.push(Edit::Aliases { source: source.name.clone(), field: *field, aliases: aliases.clone() });
            }
        }
        for file in &mut files {
            let before = mapping_with(&file.sheet.header, &columns);
            assert_eq!(before, mapping(&file.sheet.header, &source.columns), "the lent aliases move a column");
            for (field, &column) in &before {
                let aliases = &columns[field];
                let current = aliases.iter().position(|a| key(a) == key(&file.sheet.header[column]));
                for step in 1..aliases.len() {
                    let candidate = &aliases[(current.unwrap_or(0) + step) % aliases.len()];
                    let mut header = file.sheet.header.clone();
                    header[column] = candidate.clone();
                    if mapping_with(&header, &columns) == before {
                        file.sheet.header = header;
                        break;
                    }
                }
            }
        }
        Rewritten { files, edits }
    }
}

/// A TOML string.
pub(crate) fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A TOML array of strings.
pub(crate) fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// Mapped headers spelled as the matching folds them: an ideographic space after the first
/// character, ASCII written full-width (`实际含量（逐件）`).
#[derive(Debug)]
pub(crate) struct HeaderSpellings;

impl Transformation for HeaderSpellings {
    fn name(&self) -> String {
        "headers with inner spaces and full-width forms".into()
    }

    fn apply(&self, _env: &Env, source: &Source, mut files: Vec<File>) -> Rewritten {
        for file in &mut files {
            let before = mapping(&file.sheet.header, &source.columns);
            let mut columns: Vec<usize> = before.values().copied().collect();
            columns.sort_unstable();
            columns.dedup();
            for column in columns {
                let text = &file.sheet.header[column];
                let mut spelled = String::new();
                for (i, c) in text.chars().enumerate() {
                    spelled.push(match c {
                        '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c),
                        _ => c,
                    });
                    if i == 0 {
                        spelled.push('\u{3000}');
                    }
                }
                file.sheet.header[column] = spelled;
            }
            assert_eq!(mapping(&file.sheet.header, &source.columns), before);
        }
        Rewritten::files(files)
    }
}

/// How a date is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateStyle {
    /// `2013-07-05`.
    Iso,
    /// `2013/7/5`.
    Slashes,
    /// `2013.7.5`.
    Dots,
    /// `2013年7月5日`.
    Chinese,
    /// `20130705`.
    Compact,
    /// `2013-07-05 09:30:00`.
    IsoWithTime,
    /// `201307051230`.
    CompactTimestamp,
}

impl DateStyle {
    /// The styles README and the parser's docs name.
    pub(crate) const ACCEPTED: [DateStyle; 6] = [
        DateStyle::Iso,
        DateStyle::Slashes,
        DateStyle::Dots,
        DateStyle::Chinese,
        DateStyle::Compact,
        DateStyle::IsoWithTime,
    ];

    pub(crate) fn write(self, date: NaiveDate) -> String {
        let (y, m, d) = (date.year(), date.month(), date.day());
        match self {
            DateStyle::Iso => format!("{y}-{m:02}-{d:02}"),
            DateStyle::Slashes => format!("{y}/{m}/{d}"),
            DateStyle::Dots => format!("{y}.{m}.{d}"),
            DateStyle::Chinese => format!("{y}年{m}月{d}日"),
            DateStyle::Compact => format!("{y}{m:02}{d:02}"),
            DateStyle::IsoWithTime => format!("{y}-{m:02}-{d:02} 09:30:00"),
            DateStyle::CompactTimestamp => format!("{y}{m:02}{d:02}1230"),
        }
    }
}

/// Reads a date the way the docs describe (`2013-07-05`, `2013/7/5`, `2013.7.5`,
/// `2013年7月5日`, `20130705`, each optionally with a time); `None` for anything else,
/// impossible dates included, which then stay as they were.
pub(crate) fn read_date(text: &str) -> Option<NaiveDate> {
    let folded: String = text
        .trim()
        .chars()
        .map(|c| if ('０'..='９').contains(&c) { char::from_u32(c as u32 - 0xFEE0).unwrap_or(c) } else { c })
        .collect();
    let date = folded.split([' ', 'T']).next()?;
    let number =
        |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u32>().ok()).flatten();
    let (y, m, d) = if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        (number(&date[..4])?, number(&date[4..6])?, number(&date[6..])?)
    } else {
        let parts: Vec<&str> = date.split(['-', '/', '.', '年', '月', '日']).filter(|p| !p.is_empty()).collect();
        match parts.as_slice() {
            [y, m, d] if y.len() == 4 => (number(y)?, number(m)?, number(d)?),
            _ => return None,
        }
    };
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// Sampling and report dates rewritten in one style, or (`style: None`) in every accepted
/// style in turn, row by row.
#[derive(Debug)]
pub(crate) struct Dates {
    pub style: Option<DateStyle>,
}

impl Transformation for Dates {
    fn name(&self) -> String {
        match self.style {
            Some(style) => format!("dates written {style:?}"),
            None => "dates in every accepted style in turn".into(),
        }
    }

    fn apply(&self, _env: &Env, source: &Source, mut files: Vec<File>) -> Rewritten {
        each_row(source, &mut files, |cells, n| {
            for (i, field) in [Field::SamplingDate, Field::ReportDate].into_iter().enumerate() {
                let style = self.style.unwrap_or(DateStyle::ACCEPTED[(n + i) % DateStyle::ACCEPTED.len()]);
                cells.update(field, |text| read_date(text).map(|d| style.write(d)));
            }
        });
        Rewritten::files(files)
    }
}

/// Each file split in two, `x.csv` → `x-1.csv` and `x-2.csv` (which sort where `x.csv` did
/// among the source's deliveries), samples alternating between the parts by first
/// appearance and all rows of a sample in one part.
#[derive(Debug)]
pub(crate) struct Split;

impl Transformation for Split {
    fn name(&self) -> String {
        "files split in two, each sample whole in one part".into()
    }

    fn apply(&self, _env: &Env, source: &Source, files: Vec<File>) -> Rewritten {
        let mut out = Vec::new();
        for file in files {
            let map = mapping(&file.sheet.header, &source.columns);
            let cell = |row: &Vec<String>, field: Field| -> Option<String> {
                let text = row.get(*map.get(&field)?)?.trim();
                (!text.is_empty()).then(|| key(text))
            };
            let mut first_seen: Vec<String> = Vec::new();
            let mut parts: [Vec<Vec<String>>; 2] = [Vec::new(), Vec::new()];
            for row in &file.sheet.rows {
                let sample =
                    cell(row, Field::OriginalSampleId).or_else(|| cell(row, Field::SampleId)).unwrap_or_default();
                let index = first_seen.iter().position(|s| *s == sample).unwrap_or_else(|| {
                    first_seen.push(sample);
                    first_seen.len() - 1
                });
                parts[index % 2].push(row.clone());
            }
            if first_seen.len() < 2 {
                out.push(file);
                continue;
            }
            let name = file.path.file_name().unwrap().to_string_lossy().into_owned();
            let (stem, extension) = name.rsplit_once('.').unwrap_or((&name, ""));
            for (i, rows) in parts.into_iter().enumerate() {
                let part = format!("{stem}-{}.{extension}", i + 1);
                out.push(File { path: file.path.with_file_name(part), sheet: Sheet { rows, ..file.sheet.clone() } });
            }
        }
        Rewritten::files(out)
    }
}

/// Not-detected results with a unit given a detection limit in it, written the three ways the
/// docs show (`未检出(<0.01)`, `ND(0.01)`, `未检出（检出限0.01）`), in turn. It changes what the
/// rows say; it prepares a baseline whose detection limits the rescalings then move.
#[derive(Debug)]
pub(crate) struct WithDetectionLimits;

impl Transformation for WithDetectionLimits {
    fn name(&self) -> String {
        "not-detected results given a detection limit".into()
    }

    fn apply(&self, _env: &Env, source: &Source, mut files: Vec<File>) -> Rewritten {
        let words: Vec<String> = source.vocabulary.not_detected.iter().map(|w| key(w)).collect();
        each_row(source, &mut files, |cells, n| {
            if cells.get(Field::ResultUnit).is_none() {
                return;
            }
            cells.update(Field::Result, |cell| {
                let word = cell.trim();
                words.contains(&key(word)).then(|| match n % 3 {
                    0 => format!("{word}(<0.01)"),
                    1 => format!("{word}(0.02)"),
                    _ => format!("{word}（检出限0.05）"),
                })
            });
        });
        Rewritten::files(files)
    }
}

/// Several transformations, one after the other, their pipeline edits together.
///
/// Those that find columns through the pipeline's aliases must come before [`HeaderAliases`],
/// which may rename headers to aliases only its own edit adds.
pub(crate) struct Composite(pub Vec<Box<dyn Transformation>>);

impl std::fmt::Debug for Composite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Composite({})", self.name())
    }
}

impl Transformation for Composite {
    fn name(&self) -> String {
        self.0.iter().map(|t| t.name()).collect::<Vec<_>>().join(" + ")
    }

    fn apply(&self, env: &Env, source: &Source, files: Vec<File>) -> Rewritten {
        chain(files, |t, files| t.apply(env, source, files), &self.0)
    }

    fn rewrites_workbooks(&self) -> bool {
        self.0.iter().any(|t| t.rewrites_workbooks())
    }

    fn apply_workbooks(&self, env: &Env, source: &Source, files: Vec<BookFile>) -> Rewritten<BookFile> {
        chain(files, |t, files| t.apply_workbooks(env, source, files), &self.0)
    }
}

/// `files` through each of `transformations` by `apply`, their edits together.
fn chain<F>(
    mut files: Vec<F>,
    apply: impl Fn(&dyn Transformation, Vec<F>) -> Rewritten<F>,
    transformations: &[Box<dyn Transformation>],
) -> Rewritten<F> {
    let mut edits: Vec<Edit> = Vec::new();
    for transformation in transformations {
        let rewritten = apply(transformation.as_ref(), files);
        files = rewritten.files;
        for edit in rewritten.edits {
            if !edits.contains(&edit) {
                edits.push(edit);
            }
        }
    }
    Rewritten { files, edits }
}

/// The files written again as they were read: what every other transformation starts from.
#[derive(Debug)]
pub(crate) struct Identity;

impl Transformation for Identity {
    fn name(&self) -> String {
        "files written again unchanged".into()
    }

    fn apply(&self, _env: &Env, _source: &Source, files: Vec<File>) -> Rewritten {
        Rewritten::files(files)
    }
}

#[test]
fn dates_read_in_every_documented_style() {
    let july5 = NaiveDate::from_ymd_opt(2013, 7, 5);
    for text in
        ["2013-07-05", "2013/7/5", "2013.7.5", "2013年7月5日", "20130705", "2013-07-05 09:30:00", "２０１３-07-05"]
    {
        assert_eq!(read_date(text), july5, "{text}");
    }
    for text in ["2013-02-30", "41460", "7/5/2013", "见附页", ""] {
        assert_eq!(read_date(text), None, "{text}");
    }
    for style in DateStyle::ACCEPTED {
        assert_eq!(read_date(&style.write(july5.unwrap())), july5, "{style:?}");
    }
}

#[test]
fn packed_cells_and_separators_round_trip() {
    let seps = vec!["；".to_string(), ";".to_string()];
    let (pieces, between) = split_keep("铅║0.5║≤0.2；镉║0.3;", &seps);
    assert_eq!(pieces, ["铅║0.5║≤0.2", "镉║0.3", ""]);
    let owned: Vec<String> = pieces.iter().map(|p| p.to_string()).collect();
    assert_eq!(join_keep(&owned, &between), "铅║0.5║≤0.2；镉║0.3;");
}
