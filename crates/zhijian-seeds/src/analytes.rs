//! Analytes (test items) and their limits.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::SeedError;
use crate::categories::CategoryTree;
use crate::normalise::{normalise_key, normalise_text};
use crate::read::{read_rows, row_error, split_aliases};
use crate::units::{Canonical, Quantity, UnitTable};

/// One analyte.
#[derive(Debug, Clone, PartialEq)]
pub struct Analyte {
    /// Stable code, `clenbuterol`.
    pub code: String,
    /// Canonical Chinese name.
    pub name: String,
    /// Group: contaminant, pesticide, vet_drug, lean_meat_agent, additive, quality …
    pub group: String,
    /// Canonical unit symbol; values and limits are converted to it. Empty for qualitative items.
    pub unit: String,
    /// Banned everywhere: any detection at or above the decision limit fails.
    pub banned: bool,
    /// Decision limit for banned substances, in `unit`; `None` means any detection.
    pub decision_limit: Option<Canonical>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalyteRow {
    code: String,
    name: String,
    aliases: String,
    group: String,
    unit: String,
    banned: bool,
    decision_limit: Option<f64>,
    #[allow(dead_code)]
    note: String,
}

/// The analyte table with its alias index.
#[derive(Debug, Clone, Default)]
pub struct AnalyteTable {
    analytes: Vec<Analyte>,
    by_code: HashMap<String, usize>,
    by_key: HashMap<String, usize>,
}

const ANALYTES: &str = "analytes.csv";

impl AnalyteTable {
    pub(crate) fn load(dir: &Path, units: &UnitTable, errors: &mut Vec<SeedError>) -> AnalyteTable {
        let mut table = AnalyteTable::default();
        for row in read_rows::<AnalyteRow>(dir, ANALYTES, errors) {
            let r = row.value;
            if table.by_code.contains_key(&r.code) {
                errors.push(row_error(dir, ANALYTES, row.line, "code", &r.code, "duplicate code"));
                continue;
            }
            // An empty unit marks a qualitative item (pass/fail, positive/negative only).
            if !r.unit.is_empty() && units.resolve(&r.unit).is_none() {
                errors.push(row_error(dir, ANALYTES, row.line, "unit", &r.unit, "unknown unit (see units.csv)"));
                continue;
            }
            let unit = units.resolve(&r.unit);
            // Written in the analyte's own unit, so canonical as it stands.
            let decision_limit = match (r.decision_limit, unit) {
                (None, _) => None,
                (Some(d), Some(unit)) if d.is_finite() && d >= 0.0 => Quantity::new(d, unit).to_canonical(unit),
                (Some(d), _) => {
                    let why = if unit.is_none() {
                        "a decision limit needs the analyte's unit"
                    } else {
                        "expected a number ≥ 0"
                    };
                    errors.push(row_error(dir, ANALYTES, row.line, "decision_limit", &d.to_string(), why));
                    continue;
                }
            };
            let index = table.analytes.len();
            for name in std::iter::once(r.name.as_str()).chain(split_aliases(&r.aliases)) {
                if let Some(previous) = table.by_key.insert(normalise_key(name), index)
                    && previous != index
                {
                    errors.push(row_error(
                        dir,
                        ANALYTES,
                        row.line,
                        "aliases",
                        name,
                        "the name already belongs to another analyte",
                    ));
                }
            }
            table.by_code.insert(r.code.clone(), index);
            table.analytes.push(Analyte {
                code: r.code,
                name: normalise_text(&r.name),
                group: r.group,
                unit: unit.map(|u| u.symbol.clone()).unwrap_or_default(),
                banned: r.banned,
                decision_limit,
            });
        }
        table
    }

    /// The analyte a source names `text` (name or alias, width and case folded).
    pub fn resolve(&self, text: &str) -> Option<&Analyte> {
        self.by_key.get(&normalise_key(text)).map(|&i| &self.analytes[i])
    }

    /// The analyte with this code.
    pub fn get(&self, code: &str) -> Option<&Analyte> {
        self.by_code.get(code).map(|&i| &self.analytes[i])
    }
}

/// A limit of an analyte in a category (and its descendants), converted to the analyte's
/// canonical unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// Analyte code.
    pub analyte: String,
    /// Category id, or `None` for every category.
    pub category_id: Option<String>,
    /// Lowest allowed value, in the analyte's unit.
    pub min: Option<Canonical>,
    /// Highest allowed value, in the analyte's unit.
    pub max: Option<Canonical>,
    /// Must not be detected in this category (不得检出, 不得使用).
    pub banned: bool,
    /// The standard, `GB 2763-2012`.
    pub standard: String,
    /// First day the limit applies, if bounded.
    pub valid_from: Option<NaiveDate>,
    /// Last day the limit applies, if bounded.
    pub valid_to: Option<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitRow {
    analyte: String,
    category_id: String,
    category_name: String,
    min: Option<f64>,
    max: Option<f64>,
    unit: String,
    banned: bool,
    standard: String,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    /// Where the value comes from, and `unconfirmed` where it could not be checked.
    #[allow(dead_code)]
    #[serde(default)]
    note: String,
}

/// The limit table.
#[derive(Debug, Clone, Default)]
pub struct LimitTable {
    /// (analyte code, category id or "") → limits of that key, any edition.
    limits: HashMap<(String, String), Vec<Limit>>,
}

const LIMITS: &str = "limits.csv";

impl LimitTable {
    pub(crate) fn load(
        dir: &Path,
        analytes: &AnalyteTable,
        categories: &CategoryTree,
        units: &UnitTable,
        errors: &mut Vec<SeedError>,
    ) -> LimitTable {
        let mut table = LimitTable::default();
        for row in read_rows::<LimitRow>(dir, LIMITS, errors) {
            let r = row.value;
            let Some(analyte) = analytes.get(&r.analyte) else {
                errors.push(row_error(
                    dir,
                    LIMITS,
                    row.line,
                    "analyte",
                    &r.analyte,
                    "no analyte has this code (see analytes.csv)",
                ));
                continue;
            };
            let category_id = (!r.category_id.is_empty() && r.category_id != "*").then(|| r.category_id.clone());
            if let Some(id) = &category_id {
                match categories.get(id) {
                    Some(c) if c.name == normalise_text(&r.category_name) => {}
                    Some(c) => {
                        errors.push(row_error(
                            dir,
                            LIMITS,
                            row.line,
                            "category_name",
                            &r.category_name,
                            format!("category `{id}` is `{}`", c.name),
                        ));
                        continue;
                    }
                    None => {
                        errors.push(row_error(
                            dir,
                            LIMITS,
                            row.line,
                            "category_id",
                            id,
                            "no category has this id (see categories.csv)",
                        ));
                        continue;
                    }
                }
            }
            let Some(unit) = units.resolve(&r.unit) else {
                errors.push(row_error(dir, LIMITS, row.line, "unit", &r.unit, "unknown unit (see units.csv)"));
                continue;
            };
            let Some(canonical) = units.resolve(&analyte.unit) else { continue };
            let convert = |v: Option<f64>| match v {
                None => Some(None),
                Some(v) => Quantity::new(v, unit).to_canonical(canonical).map(Some),
            };
            let (Some(min), Some(max)) = (convert(r.min), convert(r.max)) else {
                errors.push(row_error(
                    dir,
                    LIMITS,
                    row.line,
                    "unit",
                    &r.unit,
                    format!("does not convert to the analyte's unit `{}`", analyte.unit),
                ));
                continue;
            };
            if min.is_none() && max.is_none() && !r.banned {
                errors.push(row_error(
                    dir,
                    LIMITS,
                    row.line,
                    "max",
                    "",
                    "a limit needs a min, a max, or banned = true",
                ));
                continue;
            }
            if let (Some(lo), Some(hi)) = (min, max)
                && lo > hi
            {
                errors.push(row_error(dir, LIMITS, row.line, "min", &lo.get().to_string(), "min is above max"));
                continue;
            }
            let key = (analyte.code.clone(), category_id.clone().unwrap_or_default());
            let limit = Limit {
                analyte: analyte.code.clone(),
                category_id,
                min,
                max,
                banned: r.banned,
                standard: r.standard,
                valid_from: r.valid_from,
                valid_to: r.valid_to,
            };
            let editions = table.limits.entry(key).or_default();
            if editions.iter().any(|e| overlaps(e, &limit)) {
                errors.push(row_error(
                    dir,
                    LIMITS,
                    row.line,
                    "analyte",
                    &r.analyte,
                    "another limit for this analyte and category applies on the same days",
                ));
                continue;
            }
            editions.push(limit);
        }
        table
    }

    /// The limit of `analyte` for a sample in `category_id` sampled on `date`: the most
    /// specific category that has one, walking up the tree, then a limit for every category.
    /// Of that category's editions, the one whose standard the record names as its basis
    /// (`basis`, 判定依据: `GB 2762-2012` names that edition whatever the date), else the one
    /// in force on `date`.
    pub fn lookup(
        &self,
        analyte: &str,
        category_id: Option<&str>,
        categories: &CategoryTree,
        date: NaiveDate,
        basis: Option<&str>,
    ) -> Option<&Limit> {
        // Standards are named with any dash and spacing: `GB 2762-2012`, `GB2762—2012`.
        let standard_key = |text: &str| normalise_key(text).replace(['—', '–', '‐', '_'], "-");
        let basis = basis.map(standard_key).filter(|b| !b.is_empty());
        let in_force = |key: &str| {
            self.limits.get(&(analyte.to_string(), key.to_string())).and_then(|editions| {
                let named = basis.as_deref().and_then(|basis| {
                    let mut named = editions.iter().filter(|l| basis.contains(&standard_key(&l.standard)));
                    // Only an unambiguous name chooses.
                    match (named.next(), named.next()) {
                        (Some(one), None) if editions.len() > 1 => Some(one),
                        _ => None,
                    }
                });
                named.or_else(|| {
                    editions
                        .iter()
                        .find(|l| l.valid_from.is_none_or(|d| d <= date) && l.valid_to.is_none_or(|d| date <= d))
                })
            })
        };
        category_id
            .into_iter()
            .flat_map(|id| categories.ancestors(id))
            .find_map(|c| in_force(&c.id))
            .or_else(|| in_force(""))
    }
}

fn overlaps(a: &Limit, b: &Limit) -> bool {
    let a_start = a.valid_from.unwrap_or(NaiveDate::MIN);
    let a_end = a.valid_to.unwrap_or(NaiveDate::MAX);
    let b_start = b.valid_from.unwrap_or(NaiveDate::MIN);
    let b_end = b.valid_to.unwrap_or(NaiveDate::MAX);
    a_start <= b_end && b_start <= a_end
}

#[cfg(test)]
mod tests {
    use crate::Seeds;
    use chrono::NaiveDate;
    use std::path::Path;

    #[test]
    fn limit_lookup_walks_up_the_category_tree() {
        let seeds = Seeds::load(Path::new("../../seeds")).unwrap();
        let date = NaiveDate::from_ymd_opt(2013, 7, 5).unwrap();
        let lookup = |analyte, category| {
            seeds
                .limits
                .lookup(analyte, Some(category), &seeds.categories, date, None)
                .map(|l| (l.min.map(|v| v.get()), l.max.map(|v| v.get()), l.banned))
        };
        // Peanut oil has its own aflatoxin B1 limit; soybean oil takes the vegetable-oil one.
        assert_eq!(lookup("afb1", "02.01.01.01"), Some((None, Some(20.0), false)));
        assert_eq!(lookup("afb1", "02.01.01.02"), Some((None, Some(10.0), false)));
        // Chives take chlorpyrifos from leafy vegetables and omethoate from vegetables.
        assert_eq!(lookup("chlorpyrifos", "32.01.01.01"), Some((None, Some(0.1), false)));
        assert_eq!(lookup("omethoate", "32.01.01.01"), Some((None, Some(0.02), false)));
        assert_eq!(lookup("benzoic_acid", "24.01.01.01"), Some((None, None, true)));
        assert_eq!(lookup("methanol", "01"), None);
        // Editions: GB 2762-2012 replaced GB 2762-2005 on 2013-06-01.
        let lead_in_meat = |y, m, d| {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let limit = seeds.limits.lookup("lead", Some("04.01.01.01"), &seeds.categories, date, None).unwrap();
            (limit.max.map(|v| v.get()), limit.standard.as_str())
        };
        assert_eq!(lead_in_meat(2013, 5, 31), (Some(0.2), "GB 2762-2005"));
        assert_eq!(lead_in_meat(2013, 6, 1), (Some(0.5), "GB 2762-2012"));
        // The edition the record names as its basis wins over the date.
        let named = |basis| {
            let date = NaiveDate::from_ymd_opt(2013, 3, 28).unwrap();
            seeds.limits.lookup("lead", Some("04"), &seeds.categories, date, Some(basis)).map(|l| l.standard.as_str())
        };
        assert_eq!(named("GB 2762-2012"), Some("GB 2762-2012"));
        assert_eq!(named("GB2762—2012《食品中污染物限量》"), Some("GB 2762-2012"), "dashes and spaces folded");
        assert_eq!(named("GB 2762"), Some("GB 2762-2005"), "an ambiguous name leaves it to the date");
        assert_eq!(named("/"), Some("GB 2762-2005"));
        assert!(seeds.analytes.resolve("盐酸克伦特罗").unwrap().banned);
        assert_eq!(seeds.analytes.resolve("铅（以Pb计）").unwrap().code, "lead");
    }
}
