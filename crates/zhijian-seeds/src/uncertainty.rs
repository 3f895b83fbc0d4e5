//! Default expanded measurement uncertainties, for results whose record does not carry one:
//! per analyte, else per analyte group (`group` in analytes.csv). Used for the second
//! evaluation of a result ("compliant after measurement uncertainty", EU practice); the
//! verdict judges the measured value, as Chinese national standards do.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::SeedError;
use crate::analytes::AnalyteTable;
use crate::read::{read_rows, row_error};

/// A default uncertainty: a fraction of the measured value.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultUncertainty {
    /// Expanded uncertainty (k = 2) as a fraction of the value: 0.5 is ±50%.
    pub relative: f64,
    /// Where the figure comes from.
    pub basis: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UncertaintyRow {
    group: String,
    analyte: String,
    relative: f64,
    basis: String,
    #[allow(dead_code)]
    note: String,
}

const FILE: &str = "uncertainty.csv";

/// The defaults, by analyte code and by group. An absent `uncertainty.csv` is an empty table:
/// every result without its own uncertainty is then evaluated on its value alone.
#[derive(Debug, Clone, Default)]
pub struct UncertaintyTable {
    by_analyte: HashMap<String, DefaultUncertainty>,
    by_group: HashMap<String, DefaultUncertainty>,
}

impl UncertaintyTable {
    pub(crate) fn load(dir: &Path, analytes: &AnalyteTable, errors: &mut Vec<SeedError>) -> UncertaintyTable {
        let mut table = UncertaintyTable::default();
        if !dir.join(FILE).exists() {
            return table;
        }
        for row in read_rows::<UncertaintyRow>(dir, FILE, errors) {
            let r = row.value;
            let error = |field: &str, value: &str, message: &str| row_error(dir, FILE, row.line, field, value, message);
            if !(r.relative.is_finite() && (0.0..=1.0).contains(&r.relative)) {
                errors.push(error(
                    "relative",
                    &r.relative.to_string(),
                    "expected a fraction from 0 to 1 (0.5 is ±50%)",
                ));
                continue;
            }
            let value = DefaultUncertainty { relative: r.relative, basis: r.basis };
            let (map, key, field) = match (r.analyte.is_empty(), r.group.is_empty()) {
                (false, true) => {
                    if analytes.get(&r.analyte).is_none() {
                        errors.push(error("analyte", &r.analyte, "no analyte has this code (see analytes.csv)"));
                        continue;
                    }
                    (&mut table.by_analyte, r.analyte, "analyte")
                }
                (true, false) => (&mut table.by_group, r.group, "group"),
                _ => {
                    errors.push(error("analyte", &r.analyte, "give either an analyte code or a group, not both"));
                    continue;
                }
            };
            if map.insert(key.clone(), value).is_some() {
                errors.push(error(field, &key, "listed twice"));
            }
        }
        table
    }

    /// The default for an analyte of `group`: its own row, else its group's.
    pub fn lookup(&self, analyte: &str, group: &str) -> Option<&DefaultUncertainty> {
        self.by_analyte.get(analyte).or_else(|| self.by_group.get(group))
    }
}
