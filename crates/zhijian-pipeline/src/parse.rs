//! Walks the parsed pipeline file, checking every key and value and collecting every problem:
//! the `[pipeline]` table and the checks here, each `[[sources]]` table in `source`.

use std::path::{Path, PathBuf};

use toml_edit::Item;

use crate::walk::{Section, Walker};
use crate::{ConfigError, ConfigErrors, Pipeline};

const TOP_KEYS: &[&str] = &["pipeline", "sources", "checks"];
const PIPELINE_KEYS: &[&str] = &["name", "province", "as_of", "seeds", "output", "checks"];
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
    use crate::{Encoding, Format, HeaderRow, Limits, Vocabulary};
    use chrono::NaiveDate;
    use zhijian_model::Stage;

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
