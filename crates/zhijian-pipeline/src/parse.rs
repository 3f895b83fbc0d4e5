//! Walks the parsed TOML document, checking every key and value and collecting every problem.

use std::path::{Path, PathBuf};

use toml_edit::{Item, Value};
use zhijian_model::{Programme, Stage};

use crate::walk::{Section, Walker};
use crate::{
    ColumnMap, ConfigError, ConfigErrors, Encoding, ExcelKind, Field, Format, HeaderRow, Layout, Limits, Packed,
    Pipeline, ResultGroup, SheetRef, SheetSelection, Source, Vocabulary,
};

const TOP_KEYS: &[&str] = &["pipeline", "sources", "checks"];
const PIPELINE_KEYS: &[&str] = &["name", "province", "as_of", "seeds", "output", "checks"];
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

pub(crate) fn parse(file: &Path, text: &str) -> Result<Pipeline, ConfigErrors> {
    let document = match toml_edit::Document::parse(text) {
        Ok(document) => document,
        Err(err) => {
            let message = format!("invalid TOML: {}", err.message());
            return Err(ConfigErrors(vec![ConfigError::at(file, text, err.span(), message)]));
        }
    };
    let mut walker = Walker { file, text, errors: Vec::new() };
    let root = Section { table: document.as_table(), span: None, name: "the file".to_string() };
    walker.check_keys(&root, TOP_KEYS);
    let base = file.parent().unwrap_or(Path::new(""));

    let pipeline = walker.section(&root, "pipeline");
    let (mut name, mut province, mut as_of, mut seeds, mut output) = (None, None, None, None, None);
    if let Some(section) = &pipeline {
        walker.check_keys(section, PIPELINE_KEYS);
        name = walker.string(section, "name", true);
        province = walker.string(section, "province", true);
        if let Some((code, span)) = &province
            && (code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            walker.error(Some(span.clone()), format!("expected a 6-digit GB/T 2260 code, found `{code}`"));
        }
        as_of = walker.date(section, "as_of");
        seeds = walker.string(section, "seeds", true).map(|(s, _)| clean_path(&base.join(s)));
        output = walker.string(section, "output", true).map(|(s, _)| clean_path(&base.join(s)));
    }

    let mut sources = Vec::new();
    match root.table.get("sources") {
        None => walker.error(None, "missing `[[sources]]`: a pipeline reads at least one source".to_string()),
        Some(Item::ArrayOfTables(array)) => {
            for (index, table) in array.iter().enumerate() {
                let section = Section { table, span: table.span(), name: format!("sources[{index}]") };
                if let Some(source) = walker.source(&section, base) {
                    sources.push(source);
                }
            }
            let mut names: Vec<&str> = Vec::new();
            for (index, table) in array.iter().enumerate() {
                if let Some(name) = table.get("name").and_then(Item::as_str) {
                    if names.contains(&name) {
                        let span = table.get("name").and_then(Item::span);
                        walker.error(span, format!("duplicate source name `{name}` (sources[{index}])"));
                    }
                    names.push(name);
                }
            }
        }
        Some(other) => walker.error(other.span(), "expected `[[sources]]`, an array of tables".to_string()),
    }

    let mut checks = walker.checks_of(&root);
    if let Some(section) = &pipeline
        && let Some((includes, span)) = walker.strings(section, "checks")
    {
        for include in includes {
            let path = clean_path(&base.join(&include));
            match std::fs::read_to_string(&path) {
                Ok(text) => match crate::checks::parse_check_file(&path, &text) {
                    Ok(more) => checks.extend(more),
                    Err(errors) => walker.errors.extend(errors.0),
                },
                Err(err) => {
                    walker.error(Some(span.clone()), format!("cannot read the checks file `{}`: {err}", path.display()))
                }
            }
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut duplicates = Vec::new();
    for check in &checks {
        if seen.contains(&check.name.as_str()) {
            duplicates.push(ConfigError {
                file: PathBuf::from(&check.origin.file),
                line: check.origin.line,
                column: check.origin.column,
                snippet: String::new(),
                message: format!("duplicate check name `{}`", check.name),
            });
        }
        seen.push(&check.name);
    }
    walker.errors.extend(duplicates);

    let errors = walker.errors;
    match (name, province, seeds, output) {
        (Some((name, _)), Some((province, _)), Some(seeds), Some(output)) if errors.is_empty() => Ok(Pipeline {
            path: file.to_path_buf(),
            name,
            province,
            as_of: as_of.flatten(),
            seeds,
            output,
            sources,
            checks,
        }),
        _ => {
            let mut errors = errors;
            errors.sort_by(|a, b| {
                (a.file.as_path() != file, &a.file, a.line, a.column).cmp(&(
                    b.file.as_path() != file,
                    &b.file,
                    b.line,
                    b.column,
                ))
            });
            Err(ConfigErrors(errors))
        }
    }
}

impl Walker<'_> {
    fn source(&mut self, section: &Section<'_>, base: &Path) -> Option<Source> {
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

/// Removes `.` and resolves `dir/..` lexically, so `pipelines/../seeds` reads `seeds`. A
/// leading `..` stays; symbolic links are not consulted.
pub(crate) fn clean_path(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    const GOOD: &str = r#"
[pipeline]
name = "t"
province = "410000"
as_of = 2013-09-30
seeds = "../seeds"
output = "../out"

[[sources]]
name = "food"
programme = "food"
files = "../data/*.csv"
encoding = "gbk"

[sources.format.csv]
delimiter = ";"
header_row = 2

[sources.columns]
sample_id = "抽样编号"
product_name = "样品名称"
city = "所在市"
sampling_date = "抽样日期"
item = "检验项目"
result = "检验结果"

[sources.vocabulary]
pass = ["合格"]
online = ["网店"]
"#;

    #[test]
    fn a_good_file_gives_its_plan() {
        let p = Pipeline::parse(Path::new("pipelines/t.toml"), GOOD).unwrap();
        assert_eq!(p.seeds, PathBuf::from("seeds"));
        assert_eq!(p.as_of, NaiveDate::from_ymd_opt(2013, 9, 30));
        let s = &p.sources[0];
        assert_eq!(s.encoding, Encoding::Gb18030);
        assert_eq!(s.format, Format::Csv { delimiter: b';', header_row: HeaderRow::Fixed(2), header_rows: 1 });
        assert_eq!(s.files, ["data/*.csv"]);
        assert_eq!(clean_path(Path::new("../a/./b/../c")), PathBuf::from("../a/c"));
        assert_eq!(clean_path(Path::new("/x/../../y")), PathBuf::from("/y"));
        assert_eq!(clean_path(Path::new("a/..")), PathBuf::from("."));
        assert_eq!(s.vocabulary.pass, ["合格"]);
        assert_eq!(s.vocabulary.fail, Vocabulary::default().fail);
        assert!(s.vocabulary.stages.iter().any(|(st, w)| *st == Stage::Online && w == &["网店"]));
    }

    #[test]
    fn every_error_is_reported_with_line_and_column() {
        let broken = GOOD
            .replace("as_of = 2013-09-30", "as_of = \"2013-02-30\"")
            .replace("programme = \"food\"", "programme = \"foods\"\nencodng = \"x\"")
            .replace("city = \"所在市\"", "cty = \"所在市\"")
            .replace("header_row = 2", "header_row = 0");
        let errors = Pipeline::parse(Path::new("t.toml"), &broken).unwrap_err();
        let rendered: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            rendered,
            [
                "t.toml:5:9: expected `as_of` to be a date like 2013-09-30 (at `\"2013-02-30\"`)",
                "t.toml:11:13: unknown programme `foods`, expected one of: food, agri_products, livestock, agri_inputs, consumer_products, net_content (at `\"foods\"`)",
                "t.toml:12:1: unknown key `encodng` in sources[0], expected one of: name, programme, files, encoding, max_replacement_ratio, layout, format, columns, vocabulary, default_unit, packed, limits, result_groups (at `encodng`)",
                "t.toml:18:14: expected `header_row` to be a line number from 1 or \"auto\" (at `0`)",
                "t.toml:20:1: missing `city` in sources[0].columns: a column header (or a list of them) for a field the `item_rows` layout requires (at `[sources.columns]`)",
                "t.toml:23:1: unknown field `cty` in sources[0].columns, expected one of: sample_id, sub_programme, product_name, category_1, category_2, category_3, category_4, province, city, county, entity_name, entity_credit_code, stage, site_type, producer_name, sampling_date, lab_name, report_date, item, result, result_unit, lod, loq, uncertainty, item_verdict, limit_basis, limit_min, limit_min_unit, limit_max, limit_max_unit, method, sample_verdict, retest, original_sample_id, failing_items, declared_value, tolerance, labelled_quantity, measured_values, allowed_shortfall (at `cty`)",
            ]
        );
    }

    #[test]
    fn limits_have_defaults_and_are_checked() {
        let p = Pipeline::parse(Path::new("t.toml"), GOOD).unwrap();
        assert_eq!(p.sources[0].limits, Limits::default());
        assert_eq!(Limits::default().max_field_bytes, 131_072);
        let set = GOOD.replace(
            "[sources.columns]",
            "[sources.limits]\nmax_field_bytes = 100\nmax_record_bytes = 1000\nmax_cells = 5\nmax_unzipped_bytes = 2048\nmax_compression_ratio = 20\n\n[sources.columns]",
        );
        let limits = Pipeline::parse(Path::new("t.toml"), &set).unwrap().sources[0].limits;
        assert_eq!(
            limits,
            Limits {
                max_field_bytes: 100,
                max_record_bytes: 1000,
                max_cells: 5,
                max_unzipped_bytes: 2048,
                max_compression_ratio: 20.0
            }
        );
        let broken = GOOD.replace(
            "[sources.columns]",
            "[sources.limits]\nmax_field_bytes = 0\nmax_cels = 5\nmax_compression_ratio = 0.5\n\n[sources.columns]",
        );
        let rendered: Vec<String> =
            Pipeline::parse(Path::new("t.toml"), &broken).unwrap_err().0.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            rendered,
            [
                "t.toml:20:19: expected `max_field_bytes` to be a whole number from 1 (at `0`)",
                "t.toml:21:1: unknown key `max_cels` in sources[0].limits, expected one of: max_field_bytes, max_record_bytes, max_cells, max_unzipped_bytes, max_compression_ratio (at `max_cels`)",
                "t.toml:22:25: expected `max_compression_ratio` to be a number from 1 (at `0.5`)",
            ]
        );
        let inverted = GOOD.replace(
            "[sources.columns]",
            "[sources.limits]\nmax_field_bytes = 2000\nmax_record_bytes = 1000\n\n[sources.columns]",
        );
        let rendered = Pipeline::parse(Path::new("t.toml"), &inverted).unwrap_err().to_string();
        assert!(
            rendered.contains(
                "t.toml:21:20: expected `max_record_bytes` (1000) to be at least `max_field_bytes` (2000) (at `1000`)"
            ),
            "{rendered}"
        );
    }

    #[test]
    fn a_quote_or_line_break_is_no_delimiter() {
        for (written, shown) in [("\"\\\"\"", "\\\""), ("\"\\n\"", "\\n")] {
            let text = GOOD.replace("delimiter = \";\"", &format!("delimiter = {written}"));
            let rendered = Pipeline::parse(Path::new("t.toml"), &text).unwrap_err().to_string();
            assert!(
                rendered.contains(&format!(
                    "expected one ASCII character other than a quote or a line break as the delimiter, found `{shown}`"
                )),
                "{rendered}"
            );
        }
    }

    #[test]
    fn syntax_errors_are_located() {
        let errors = Pipeline::parse(Path::new("t.toml"), "[pipeline]\nname = \n").unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].line, 2);
        assert!(errors.0[0].message.starts_with("invalid TOML"), "{}", errors.0[0]);
    }
}
