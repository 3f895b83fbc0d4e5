//! `[[checks]]`: each a table with a name, warn/fail zones, and one externally tagged kind
//! table (`[checks.pass_rate]`, `[checks.sql]` …).

use std::path::Path;

use toml_edit::Item;
use zhijian_model::checks::{
    AttainmentMeasure, Bound, CheckKind, CheckSpec, ConflictMeasure, CoverageOf, Origin, Scope, Zones,
};
use zhijian_model::{AreaLevel, PeriodType, Programme};

use crate::walk::{Section, Walker};
use crate::{ConfigError, ConfigErrors};

const CHECK_KEYS: &[&str] = &[
    "name",
    "description",
    "optional",
    "warn_below",
    "fail_below",
    "warn_above",
    "fail_above",
    "pass_rate",
    "attainment",
    "reject_rate",
    "verdict_conflicts",
    "freshness",
    "coverage",
    "sql",
];
const KINDS: &[&str] = &["pass_rate", "attainment", "reject_rate", "verdict_conflicts", "freshness", "coverage", "sql"];

/// Parses a file that holds only `[[checks]]`.
pub(crate) fn parse_check_file(file: &Path, text: &str) -> Result<Vec<CheckSpec>, ConfigErrors> {
    let document = toml_edit::Document::parse(text).map_err(|err| {
        ConfigErrors(vec![ConfigError::at(file, text, err.span(), format!("invalid TOML: {}", err.message()))])
    })?;
    let mut walker = Walker { file, text, errors: Vec::new() };
    let root = Section { table: document.as_table(), span: None, name: "the checks file".to_string() };
    walker.check_keys(&root, &["checks"]);
    let checks = walker.checks_of(&root);
    if walker.errors.is_empty() { Ok(checks) } else { Err(ConfigErrors(walker.errors)) }
}

impl Walker<'_> {
    /// The `[[checks]]` of a root table.
    pub(crate) fn checks_of(&mut self, root: &Section<'_>) -> Vec<CheckSpec> {
        let mut out = Vec::new();
        match root.table.get("checks") {
            None => {}
            Some(Item::ArrayOfTables(array)) => {
                for (index, table) in array.iter().enumerate() {
                    let section = Section { table, span: table.span(), name: format!("checks[{index}]") };
                    if let Some(check) = self.check(&section) {
                        out.push(check);
                    }
                }
            }
            Some(other) => self.error(other.span(), "expected `[[checks]]`, an array of tables".to_string()),
        }
        out
    }

    fn number(&mut self, section: &Section<'_>, key: &str) -> Result<Option<f64>, ()> {
        match section.table.get(key) {
            None => Ok(None),
            Some(item) => match item.as_float().or_else(|| item.as_integer().map(|i| i as f64)) {
                Some(v) if v.is_finite() => Ok(Some(v)),
                _ => {
                    self.error(item.span(), format!("expected `{key}` to be a number"));
                    Err(())
                }
            },
        }
    }

    fn count(&mut self, section: &Section<'_>, key: &str, default: u64) -> Option<u64> {
        match section.table.get(key) {
            None => Some(default),
            Some(item) => match item.as_integer() {
                Some(n) if n >= 0 => Some(n as u64),
                _ => {
                    self.error(item.span(), format!("expected `{key}` to be a whole number ≥ 0"));
                    None
                }
            },
        }
    }

    fn word<T>(&mut self, section: &Section<'_>, key: &str, default: Option<T>, words: &[(&str, T)]) -> Option<T>
    where
        T: Clone,
    {
        let Some((text, span)) = self.string(section, key, default.is_none()) else { return default };
        match words.iter().find(|(w, _)| *w == text) {
            Some((_, value)) => Some(value.clone()),
            None => {
                let expected: Vec<&str> = words.iter().map(|(w, _)| *w).collect();
                self.error(Some(span), format!("unknown {key} `{text}`, expected one of: {}", expected.join(", ")));
                None
            }
        }
    }

    fn programme(&mut self, section: &Section<'_>, required: bool) -> Result<Option<Programme>, ()> {
        match self.string(section, "programme", required) {
            None => {
                if required {
                    Err(())
                } else {
                    Ok(None)
                }
            }
            Some((code, span)) => {
                code.parse::<Programme>().map(Some).map_err(|err| self.error(Some(span), err.to_string()))
            }
        }
    }

    fn scope(&mut self, section: &Section<'_>) -> Option<Scope> {
        const LEVELS: &[(&str, Option<AreaLevel>)] = &[
            ("province", Some(AreaLevel::Province)),
            ("city", Some(AreaLevel::City)),
            ("reporting_unit", Some(AreaLevel::ReportingUnit)),
            ("county", Some(AreaLevel::County)),
            ("directly_administered", None),
        ];
        let level = self.word(section, "scope", Some(Some(AreaLevel::Province)), LEVELS)?;
        let areas = self.strings(section, "areas").map(|(a, _)| a);
        Some(match (level, areas) {
            (Some(level), Some(areas)) => Scope::Areas(level, areas),
            (Some(level), None) => Scope::Level(level),
            (None, Some(areas)) => Scope::Areas(AreaLevel::County, areas),
            (None, None) => Scope::DirectlyAdministered,
        })
    }

    /// `optional = true|false`, false when absent.
    fn optional(&mut self, section: &Section<'_>) -> Option<bool> {
        let Some(item) = section.table.get("optional") else { return Some(false) };
        match item.as_bool() {
            Some(value) => Some(value),
            None => {
                self.error(item.span(), "expected `optional` to be true or false".to_string());
                None
            }
        }
    }

    fn period(&mut self, section: &Section<'_>) -> Option<PeriodType> {
        self.word(
            section,
            "period",
            Some(PeriodType::Year),
            &[("year", PeriodType::Year), ("quarter", PeriodType::Quarter), ("month", PeriodType::Month)],
        )
    }

    fn check(&mut self, section: &Section<'_>) -> Option<CheckSpec> {
        self.check_keys(section, CHECK_KEYS);
        let name = self.string(section, "name", true);
        let description = self.string(section, "description", false).map(|(d, _)| d);
        let optional = self.optional(section);
        let zones = (|| -> Result<Zones, ()> {
            Ok(Zones {
                warn_below: self.number(section, "warn_below")?,
                fail_below: self.number(section, "fail_below")?,
                warn_above: self.number(section, "warn_above")?,
                fail_above: self.number(section, "fail_above")?,
            })
        })();
        let kinds: Vec<&str> = KINDS.iter().copied().filter(|k| section.table.get(k).is_some()).collect();
        let kind = match kinds.as_slice() {
            [kind] => {
                let item = section.table.get(kind)?;
                let inner = self.as_section(item, &format!("{}.{kind}", section.name), kind)?;
                self.kind(kind, &inner)
            }
            [] => {
                self.missing(
                    section,
                    "pass_rate",
                    &format!("a check needs one kind table, one of: {}", KINDS.join(", ")),
                );
                None
            }
            _ => {
                self.error(
                    section.span.clone(),
                    format!("a check has exactly one kind table, found {}", kinds.join(", ")),
                );
                None
            }
        };
        let zones = zones.ok()?;
        if zones.is_empty() {
            self.error(
                section.span.clone(),
                "a check needs a zone: warn_below, fail_below, warn_above or fail_above".to_string(),
            );
            return None;
        }
        for (warn, fail, below) in
            [(zones.warn_below, zones.fail_below, true), (zones.warn_above, zones.fail_above, false)]
        {
            if let (Some(w), Some(f)) = (warn, fail) {
                let inverted = if below { w < f } else { w > f };
                if inverted {
                    let (key, other) = if below { ("warn_below", "fail_below") } else { ("warn_above", "fail_above") };
                    let span = section.table.get(key).and_then(Item::span);
                    self.error(span, format!("`{key}` = {w} lies inside the fail zone (`{other}` = {f})"));
                    return None;
                }
            }
        }
        let (name, span) = name?;
        let kind = kind?;
        let optional = optional?;
        if optional && !matches!(kind, CheckKind::Sql { .. }) {
            let span = section.table.get("optional").and_then(Item::span);
            self.error(
                span,
                format!(
                    "`optional` applies to `sql` checks only (a build without the `sql` feature cannot run \
                     them); every zhijian evaluates a `{}` check, and a check that should not fail the run \
                     uses warn zones",
                    kind.name()
                ),
            );
            return None;
        }
        let position = ConfigError::at(self.file, self.text, Some(span), String::new());
        Some(CheckSpec {
            name,
            description,
            kind,
            zones,
            optional,
            origin: Origin { file: self.file.display().to_string(), line: position.line, column: position.column },
        })
    }

    fn kind(&mut self, kind: &str, section: &Section<'_>) -> Option<CheckKind> {
        match kind {
            "pass_rate" => {
                self.check_keys(
                    section,
                    &["programme", "category", "scope", "areas", "period", "min_samples", "bound"],
                );
                let programme = self.programme(section, true);
                let category = self.string(section, "category", false).map_or_else(|| "all".to_string(), |(c, _)| c);
                let scope = self.scope(section);
                let period = self.period(section);
                let min_samples = self.count(section, "min_samples", 1);
                let bound = self.word(
                    section,
                    "bound",
                    Some(Bound::Estimate),
                    &[("estimate", Bound::Estimate), ("wilson_low", Bound::WilsonLow)],
                );
                Some(CheckKind::PassRate {
                    programme: programme.ok()??,
                    category,
                    scope: scope?,
                    period: period?,
                    min_samples: min_samples?,
                    bound: bound?,
                })
            }
            "attainment" => {
                self.check_keys(section, &["programme", "scope", "areas", "measure"]);
                let programme = self.programme(section, true);
                let scope = self.scope(section);
                let measure = self.word(
                    section,
                    "measure",
                    Some(AttainmentMeasure::Ratio),
                    &[("ratio", AttainmentMeasure::Ratio), ("shortfall", AttainmentMeasure::Shortfall)],
                );
                Some(CheckKind::Attainment { programme: programme.ok()??, scope: scope?, measure: measure? })
            }
            "reject_rate" => {
                self.check_keys(section, &["sources"]);
                let sources = self.strings(section, "sources").map_or_else(Vec::new, |(s, _)| s);
                Some(CheckKind::RejectRate { sources })
            }
            "verdict_conflicts" => {
                self.check_keys(section, &["programme", "measure"]);
                let programme = self.programme(section, false);
                let measure = self.word(
                    section,
                    "measure",
                    Some(ConflictMeasure::Count),
                    &[("count", ConflictMeasure::Count), ("rate", ConflictMeasure::Rate)],
                );
                Some(CheckKind::VerdictConflicts { programme: programme.ok()?, measure: measure? })
            }
            "freshness" => {
                self.check_keys(section, &["programme"]);
                Some(CheckKind::Freshness { programme: self.programme(section, false).ok()? })
            }
            "coverage" => {
                self.check_keys(section, &["programme", "of", "period", "min_samples"]);
                let programme = self.programme(section, true);
                let of =
                    self.word(section, "of", None, &[("cities", CoverageOf::Cities), ("kinds", CoverageOf::Kinds)]);
                let period = self.period(section);
                let min_samples = self.count(section, "min_samples", 1);
                Some(CheckKind::Coverage {
                    programme: programme.ok()??,
                    of: of?,
                    period: period?,
                    min_samples: min_samples?,
                })
            }
            "sql" => {
                self.check_keys(section, &["query"]);
                let (query, span) = self.string(section, "query", true)?;
                if query.trim().is_empty() {
                    self.error(Some(span), "`query` is empty".to_string());
                    return None;
                }
                Some(CheckKind::Sql { query })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;

    use super::parse_check_file;

    const SQL: &str = "[[checks]]\nname = \"q\"\nwarn_above = 0\noptional = true\n[checks.sql]\nquery = \"select 1\"\n";

    #[test]
    fn optional_is_read_on_sql_checks_and_false_when_absent() {
        let checks = parse_check_file(Path::new("c.toml"), SQL).unwrap();
        assert!(checks[0].optional);
        let checks = parse_check_file(Path::new("c.toml"), &SQL.replace("optional = true\n", "")).unwrap();
        assert!(!checks[0].optional);
    }

    #[test]
    fn optional_elsewhere_or_not_a_boolean_is_located() {
        let freshness =
            "[[checks]]\nname = \"f\"\nwarn_above = 30\noptional = true\n[checks.freshness]\nprogramme = \"food\"\n";
        let errors = parse_check_file(Path::new("c.toml"), freshness).unwrap_err().0;
        let text = errors[0].to_string();
        assert!(text.starts_with("c.toml:4:12: `optional` applies to `sql` checks only"), "{text}");
        assert!(text.contains("every zhijian evaluates a `freshness` check"), "{text}");

        let errors = parse_check_file(Path::new("c.toml"), &SQL.replace("true", "\"yes\"")).unwrap_err().0;
        assert_eq!(errors[0].to_string(), "c.toml:4:12: expected `optional` to be true or false (at `\"yes\"`)");
    }
}
