//! A `[[sources]]` table of the pipeline file: its files, format, columns, vocabulary,
//! packed items, limits and result groups, every key and value checked.

use std::path::Path;

use toml_edit::{Item, Value};
use zhijian_model::{Programme, Stage};

use crate::parse::clean_path;
use crate::walk::{Section, Walker};
use crate::{
    ColumnMap, Encoding, ExcelKind, Field, Format, HeaderRow, Layout, Limits, Packed, ResultGroup, SheetRef,
    SheetSelection, Source, Vocabulary,
};

const SOURCE_KEYS: &[&str] = &[
    "name",
    "programme",
    "files",
    "encoding",
    "max_replacement_ratio",
    "layout",
    "format",
    "columns",
    "vocabulary",
    "default_unit",
    "packed",
    "limits",
    "result_groups",
];
const RESULT_GROUP_KEYS: &[&str] = &["name", "columns", "values"];
const CSV_KEYS: &[&str] = &["delimiter", "header_row", "header_rows"];
const EXCEL_KEYS: &[&str] = &["sheet", "header_row", "header_rows"];
const PACKED_KEYS: &[&str] = &["items", "parts", "values"];
const LIMITS_KEYS: &[&str] =
    &["max_field_bytes", "max_record_bytes", "max_cells", "max_unzipped_bytes", "max_compression_ratio"];
const VOCABULARY_KEYS: &[&str] = &[
    "pass",
    "fail",
    "not_judged",
    "not_detected",
    "negative",
    "positive",
    "no_limit",
    "banned",
    "awaiting",
    "yes",
    "totals",
    "production",
    "distribution",
    "catering",
    "online",
];

impl Walker<'_> {
    pub(crate) fn source(&mut self, section: &Section<'_>, base: &Path) -> Option<Source> {
        self.check_keys(section, SOURCE_KEYS);
        let name = self.string(section, "name", true);
        let programme =
            self.string(section, "programme", true).and_then(|(code, span)| match code.parse::<Programme>() {
                Ok(p) => Some(p),
                Err(err) => {
                    self.error(Some(span), err.to_string());
                    None
                }
            });
        let files = match self.strings(section, "files") {
            None => {
                if section.table.get("files").is_none() {
                    self.missing(section, "files", "glob patterns of the input files");
                }
                None
            }
            Some((patterns, span)) => {
                let mut ok = !patterns.is_empty();
                if patterns.is_empty() {
                    self.error(Some(span.clone()), "`files` names no pattern".to_string());
                }
                for pattern in &patterns {
                    if let Err(err) = glob::Pattern::new(pattern) {
                        self.error(Some(span.clone()), format!("invalid glob pattern `{pattern}`: {}", err.msg));
                        ok = false;
                    }
                }
                ok.then(|| patterns.iter().map(|p| path_string(&clean_path(&base.join(p)))).collect::<Vec<_>>())
            }
        };
        let encoding = match self.string(section, "encoding", false) {
            None => Some(Encoding::Auto),
            Some((text, span)) => match text.to_ascii_lowercase().as_str() {
                "auto" => Some(Encoding::Auto),
                "utf-8" | "utf8" => Some(Encoding::Utf8),
                "gb18030" | "gbk" | "gb2312" => Some(Encoding::Gb18030),
                _ => {
                    self.error(
                        Some(span),
                        format!("unknown encoding `{text}`, expected one of: auto, utf-8, gb18030, gbk"),
                    );
                    None
                }
            },
        };
        let max_replacement_ratio = match section.table.get("max_replacement_ratio") {
            None => Some(0.001),
            Some(item) => match item.as_float().or_else(|| item.as_integer().map(|i| i as f64)) {
                Some(r) if (0.0..=1.0).contains(&r) => Some(r),
                _ => {
                    self.error(item.span(), "expected `max_replacement_ratio` to be a number from 0 to 1".to_string());
                    None
                }
            },
        };
        let layout = match self.string(section, "layout", false) {
            None => Some(Layout::ItemRows),
            Some((text, span)) => match Layout::from_name(&text) {
                Some(layout) => Some(layout),
                None => {
                    let expected: Vec<&str> = Layout::ALL.iter().map(|l| l.as_str()).collect();
                    self.error(
                        Some(span),
                        format!("unknown layout `{text}`, expected one of: {}", expected.join(", ")),
                    );
                    None
                }
            },
        };
        let format = self.format(section);
        let columns = self.columns(section, layout.unwrap_or(Layout::ItemRows));
        let vocabulary = self.vocabulary(section);
        let default_unit = self.string(section, "default_unit", false).map(|(s, _)| s);
        let packed = self.packed(section);
        let limits = self.limits(section);
        let result_groups = match (layout, &columns) {
            (Some(layout), Some(columns)) => self.result_groups(section, layout, columns),
            _ => None,
        };
        Some(Source {
            name: name?.0,
            programme: programme?,
            files: files?,
            encoding: encoding?,
            max_replacement_ratio: max_replacement_ratio?,
            layout: layout?,
            format: format?,
            columns: columns?,
            vocabulary: vocabulary?,
            default_unit,
            packed: packed?,
            limits: limits?,
            result_groups: result_groups?,
        })
    }

    /// `[[sources.result_groups]]`: several results on one row. Only `item_rows` sources have
    /// them; each group maps `result`; with groups, the source's own `result` column is not
    /// mapped, and each group has an item (its own, or the source's).
    fn result_groups(
        &mut self,
        section: &Section<'_>,
        layout: Layout,
        columns: &ColumnMap,
    ) -> Option<Vec<ResultGroup>> {
        let Some(item) = section.table.get("result_groups") else { return Some(Vec::new()) };
        let span = item.span();
        let Some(array) = item.as_array_of_tables() else {
            self.error(
                span,
                "expected `result_groups` to be an array of tables: `[[sources.result_groups]]`".to_string(),
            );
            return None;
        };
        let mut ok = true;
        if layout != Layout::ItemRows {
            self.error(
                span.clone(),
                format!("`result_groups` needs the `item_rows` layout, not `{}`", layout.as_str()),
            );
            ok = false;
        }
        if !columns.aliases(Field::Result).is_empty() {
            let at = section.table.get("columns").and_then(|c| c.span()).or(span.clone());
            self.error(at, "with `result_groups`, map `result` inside each group, not in `columns`".to_string());
            ok = false;
        }
        let mut groups: Vec<ResultGroup> = Vec::new();
        for (index, table) in array.iter().enumerate() {
            let group =
                Section { table, span: table.span(), name: format!("{}.result_groups[{}]", section.name, index + 1) };
            self.check_keys(&group, RESULT_GROUP_KEYS);
            let Some((name, name_span)) = self.string(&group, "name", true) else {
                ok = false;
                continue;
            };
            if name.trim().is_empty() || groups.iter().any(|g| g.name == name) {
                self.error(Some(name_span), format!("result group name `{name}` is empty or used twice"));
                ok = false;
            }
            let mut map = ColumnMap::default();
            if let Some(item) = table.get("columns")
                && let Some(cols) = self.as_section(item, &format!("{}.columns", group.name), "columns")
            {
                for (key, _) in cols.table.iter() {
                    let Some(field) = self.result_field(&cols, key) else {
                        ok = false;
                        continue;
                    };
                    match self.strings(&cols, key) {
                        Some((headers, _)) if !headers.is_empty() && headers.iter().all(|h| !h.trim().is_empty()) => {
                            map.insert(field, headers)
                        }
                        Some((_, at)) => {
                            self.error(Some(at), format!("`{key}` names no column header"));
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
            }
            let mut values = Vec::new();
            if let Some(item) = table.get("values")
                && let Some(fixed) = self.as_section(item, &format!("{}.values", group.name), "values")
            {
                for (key, _) in fixed.table.iter() {
                    let Some(field) = self.result_field(&fixed, key) else {
                        ok = false;
                        continue;
                    };
                    match self.string(&fixed, key, true) {
                        Some((_, at)) if field == Field::Result => {
                            self.error(
                                Some(at),
                                format!("`result` of {} must be read from a column: map it in `columns`", group.name),
                            );
                            ok = false;
                        }
                        Some((value, _)) => values.push((field, value)),
                        None => ok = false,
                    }
                }
            }
            let result_group = ResultGroup { name, columns: map, values };
            if !result_group.owns(Field::Result) {
                self.missing(&group, "columns.result", "the header of the group's result");
                ok = false;
            }
            if !result_group.owns(Field::Item) && columns.aliases(Field::Item).is_empty() {
                self.missing(
                    &group,
                    "columns.item` or `values.item",
                    "the group's item, since the source's `columns` maps no `item`",
                );
                ok = false;
            }
            groups.push(result_group);
        }
        if groups.is_empty() {
            self.error(span, "`result_groups` holds no group".to_string());
            ok = false;
        }
        ok.then_some(groups)
    }

    /// The result-level field named `key` in a result group's table.
    fn result_field(&mut self, section: &Section<'_>, key: &str) -> Option<Field> {
        match Field::from_key(key) {
            Some(field) if field.result_level() => Some(field),
            _ => {
                let span = section.table.key(key).and_then(|k| k.span());
                let expected: Vec<&str> = Field::ALL.iter().filter(|f| f.result_level()).map(|f| f.as_str()).collect();
                self.error(
                    span,
                    format!(
                        "`{key}` in {} is no result-level field, expected one of: {}",
                        section.name,
                        expected.join(", ")
                    ),
                );
                None
            }
        }
    }

    /// `[sources.limits]`: resource limits, each defaulting to [`Limits::default`].
    fn limits(&mut self, section: &Section<'_>) -> Option<Limits> {
        let mut limits = Limits::default();
        let Some(item) = section.table.get("limits") else { return Some(limits) };
        let table = self.as_section(item, &format!("{}.limits", section.name), "limits")?;
        self.check_keys(&table, LIMITS_KEYS);
        let what = "a whole number from 1";
        let field = self.positive(&table, "max_field_bytes", limits.max_field_bytes, what);
        let record = self.positive(&table, "max_record_bytes", limits.max_record_bytes, what);
        let cells = self.positive(&table, "max_cells", limits.max_cells, what);
        let unzipped = self.positive(&table, "max_unzipped_bytes", limits.max_unzipped_bytes as usize, what);
        let mut ok = field.is_some() && record.is_some() && cells.is_some() && unzipped.is_some();
        limits.max_field_bytes = field.unwrap_or(limits.max_field_bytes);
        limits.max_record_bytes = record.unwrap_or(limits.max_record_bytes);
        limits.max_cells = cells.unwrap_or(limits.max_cells);
        limits.max_unzipped_bytes = unzipped.map_or(limits.max_unzipped_bytes, |n| n as u64);
        if let Some(item) = table.table.get("max_compression_ratio") {
            match item.as_float().or_else(|| item.as_integer().map(|i| i as f64)) {
                Some(ratio) if ratio >= 1.0 && ratio.is_finite() => limits.max_compression_ratio = ratio,
                _ => {
                    self.error(item.span(), "expected `max_compression_ratio` to be a number from 1".to_string());
                    ok = false;
                }
            }
        }
        if ok && limits.max_record_bytes < limits.max_field_bytes {
            let span = table.table.get("max_record_bytes").or_else(|| table.table.get("max_field_bytes"));
            self.error(
                span.and_then(Item::span),
                format!(
                    "expected `max_record_bytes` ({}) to be at least `max_field_bytes` ({})",
                    limits.max_record_bytes, limits.max_field_bytes
                ),
            );
            ok = false;
        }
        ok.then_some(limits)
    }

    /// `[sources.packed]`: separators of values sharing one cell.
    fn packed(&mut self, section: &Section<'_>) -> Option<Packed> {
        let mut packed = Packed::default();
        let Some(item) = section.table.get("packed") else { return Some(packed) };
        let table = self.as_section(item, &format!("{}.packed", section.name), "packed")?;
        self.check_keys(&table, PACKED_KEYS);
        let mut ok = true;
        for key in PACKED_KEYS {
            if table.table.get(key).is_none() {
                continue;
            }
            match self.strings(&table, key) {
                Some((list, span)) if list.is_empty() || list.iter().any(|s| s.is_empty()) => {
                    self.error(Some(span), format!("`{key}` needs at least one separator, none of them empty"));
                    ok = false;
                }
                Some((list, _)) => {
                    let slot = match *key {
                        "items" => &mut packed.items,
                        "parts" => &mut packed.parts,
                        _ => &mut packed.values,
                    };
                    *slot = list;
                }
                None => ok = false,
            }
        }
        ok.then_some(packed)
    }

    /// A positive integer key, `default` when absent.
    fn positive(&mut self, section: &Section<'_>, key: &str, default: usize, what: &str) -> Option<usize> {
        match section.table.get(key) {
            None => Some(default),
            Some(item) => match item.as_integer() {
                Some(n) if n >= 1 => Some(n as usize),
                _ => {
                    self.error(item.span(), format!("expected `{key}` to be {what}"));
                    None
                }
            },
        }
    }

    /// `header_row`: `what` (a line or row number from 1), or `"auto"`; 1 when absent.
    fn header_row(&mut self, section: &Section<'_>, what: &str) -> Option<HeaderRow> {
        match section.table.get("header_row") {
            Some(item) if item.as_str().is_some_and(|s| s == "auto") => Some(HeaderRow::Auto),
            Some(item) if item.as_integer().is_none() => {
                self.error(item.span(), format!("expected `header_row` to be {what} or \"auto\""));
                None
            }
            _ => self.positive(section, "header_row", 1, &format!("{what} or \"auto\"")).map(HeaderRow::Fixed),
        }
    }

    /// `sheet`: a worksheet's name or position from 1, `"*"` for every worksheet with the
    /// mapped header, or a list of names and positions; the first worksheet when absent.
    fn sheet(&mut self, section: &Section<'_>) -> Option<SheetSelection> {
        let Some(item) = section.table.get("sheet") else { return Some(SheetSelection::One(None)) };
        let expected = "expected `sheet` to be a worksheet name, its position from 1, \"*\" for every worksheet with the mapped header, or a list of names and positions";
        let one = |value: &Value| match (value.as_str(), value.as_integer()) {
            (Some(name), _) if !name.trim().is_empty() && name.trim() != "*" => Some(SheetRef::Name(name.to_string())),
            (_, Some(n)) if n >= 1 => usize::try_from(n).ok().map(SheetRef::Position),
            _ => None,
        };
        match item.as_value() {
            Some(Value::String(s)) if s.value().trim() == "*" => Some(SheetSelection::All),
            Some(Value::Array(array)) => {
                let mut sheets: Vec<SheetRef> = Vec::new();
                for value in array.iter() {
                    match one(value) {
                        Some(sheet) if sheets.contains(&sheet) => {
                            self.error(value.span(), "`sheet` names this worksheet twice".to_string());
                            return None;
                        }
                        Some(sheet) => sheets.push(sheet),
                        None => {
                            self.error(value.span(), format!("{expected} (a list may not hold `*`)"));
                            return None;
                        }
                    }
                }
                if sheets.is_empty() {
                    self.error(item.span(), "`sheet` lists no worksheet".to_string());
                    return None;
                }
                Some(SheetSelection::List(sheets))
            }
            Some(value) => match one(value) {
                Some(sheet) => Some(SheetSelection::One(Some(sheet))),
                None => {
                    self.error(item.span(), expected.to_string());
                    None
                }
            },
            None => {
                self.error(item.span(), expected.to_string());
                None
            }
        }
    }

    /// `[sources.format.csv]`: an externally tagged table, one key naming the format.
    fn format(&mut self, section: &Section<'_>) -> Option<Format> {
        let default = Format::Csv { delimiter: b',', header_row: HeaderRow::Fixed(1), header_rows: 1 };
        let Some(item) = section.table.get("format") else { return Some(default) };
        let outer = self.as_section(item, &format!("{}.format", section.name), "format")?;
        let mut result = None;
        let mut count = 0;
        for (key, inner) in outer.table.iter() {
            count += 1;
            match key {
                "csv" => {
                    let csv = self.as_section(inner, &format!("{}.format.csv", section.name), "csv")?;
                    self.check_keys(&csv, CSV_KEYS);
                    let delimiter = match self.string(&csv, "delimiter", false) {
                        None => Some(b','),
                        Some((d, span)) => match d.as_bytes() {
                            // A quote or a line break cannot also separate fields.
                            [b] if d.is_ascii() && !matches!(b, b'"' | b'\r' | b'\n') => Some(*b),
                            _ if d == "\\t" => Some(b'\t'),
                            _ => {
                                self.error(
                                    Some(span),
                                    format!(
                                        "expected one ASCII character other than a quote or a line break as the delimiter, found `{}`",
                                        d.escape_debug()
                                    ),
                                );
                                None
                            }
                        },
                    };
                    let header_row = self.header_row(&csv, "a line number from 1");
                    let header_rows = self.positive(&csv, "header_rows", 1, "a number of lines from 1");
                    result = match (delimiter, header_row, header_rows) {
                        (Some(delimiter), Some(header_row), Some(header_rows)) => {
                            Some(Format::Csv { delimiter, header_row, header_rows })
                        }
                        _ => None,
                    };
                }
                "xlsx" | "xls" => {
                    let kind = if key == "xlsx" { ExcelKind::Xlsx } else { ExcelKind::Xls };
                    let excel = self.as_section(inner, &format!("{}.format.{key}", section.name), key)?;
                    self.check_keys(&excel, EXCEL_KEYS);
                    let sheet = self.sheet(&excel);
                    let header_row = self.header_row(&excel, "a row number from 1");
                    let header_rows = self.positive(&excel, "header_rows", 1, "a number of rows from 1");
                    result = match (sheet, header_row, header_rows) {
                        (Some(sheet), Some(header_row), Some(header_rows)) => {
                            Some(Format::Excel { kind, sheet, header_row, header_rows })
                        }
                        _ => None,
                    };
                }
                other => {
                    let span = outer.table.key(other).and_then(|k| k.span());
                    self.error(span, format!("unknown format `{other}`, expected one of: csv, xlsx, xls"));
                    return None;
                }
            }
        }
        if count != 1 {
            self.error(item.span(), "expected exactly one format table, e.g. `[sources.format.csv]`".to_string());
            return None;
        }
        result
    }

    fn columns(&mut self, section: &Section<'_>, layout: Layout) -> Option<ColumnMap> {
        let columns = self.section(section, "columns")?;
        let columns = Section { name: format!("{}.columns", section.name), ..columns };
        let mut map = ColumnMap::default();
        let mut ok = true;
        for (key, _) in columns.table.iter() {
            let Some(field) = Field::from_key(key) else {
                let span = columns.table.key(key).and_then(|k| k.span());
                let expected: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
                self.error(
                    span,
                    format!("unknown field `{key}` in {}, expected one of: {}", columns.name, expected.join(", ")),
                );
                ok = false;
                continue;
            };
            match self.strings(&columns, key) {
                Some((aliases, span)) if aliases.iter().all(|a| !a.trim().is_empty()) && !aliases.is_empty() => {
                    let _ = span;
                    map.insert(field, aliases);
                }
                Some((_, span)) => {
                    self.error(Some(span), format!("`{key}` names no column header"));
                    ok = false;
                }
                None => ok = false,
            }
        }
        // With result groups, the groups name the results (and may name the items).
        let grouped = section.table.get("result_groups").is_some();
        for field in layout.required_fields() {
            if grouped && matches!(field, Field::Result | Field::Item) {
                continue;
            }
            if map.aliases(field).is_empty() && columns.table.get(field.as_str()).is_none() {
                let what = format!(
                    "a column header (or a list of them) for a field the `{}` layout requires",
                    layout.as_str()
                );
                self.missing(&columns, field.as_str(), &what);
                ok = false;
            }
        }
        ok.then_some(map)
    }

    fn vocabulary(&mut self, section: &Section<'_>) -> Option<Vocabulary> {
        let mut vocabulary = Vocabulary::default();
        let Some(item) = section.table.get("vocabulary") else { return Some(vocabulary) };
        let words = self.as_section(item, &format!("{}.vocabulary", section.name), "vocabulary")?;
        self.check_keys(&words, VOCABULARY_KEYS);
        let mut ok = true;
        for key in VOCABULARY_KEYS {
            if words.table.get(key).is_none() {
                continue;
            }
            let Some((list, _)) = self.strings(&words, key) else {
                ok = false;
                continue;
            };
            let slot = match *key {
                "pass" => &mut vocabulary.pass,
                "fail" => &mut vocabulary.fail,
                "not_judged" => &mut vocabulary.not_judged,
                "not_detected" => &mut vocabulary.not_detected,
                "negative" => &mut vocabulary.negative,
                "positive" => &mut vocabulary.positive,
                "no_limit" => &mut vocabulary.no_limit,
                "banned" => &mut vocabulary.banned,
                "awaiting" => &mut vocabulary.awaiting,
                "yes" => &mut vocabulary.yes,
                "totals" => &mut vocabulary.totals,
                stage => {
                    let Ok(stage) = stage.parse::<Stage>() else { continue };
                    match vocabulary.stages.iter_mut().find(|(s, _)| *s == stage) {
                        Some((_, slot)) => slot,
                        None => continue,
                    }
                }
            };
            *slot = list;
        }
        ok.then_some(vocabulary)
    }
}

fn path_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
