//! Units and conversions between units of one dimension.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::SeedError;
use crate::normalise::normalise_key;
use crate::read::{read_rows, row_error, split_aliases};

/// A unit: its symbol, dimension, and factor to the dimension's base unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Canonical symbol, `μg/kg`.
    pub symbol: String,
    /// Dimension name; conversion happens only within one.
    pub dimension: String,
    /// Multiply a value in this unit by `factor` to get the dimension's base unit.
    pub factor: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitRow {
    unit: String,
    aliases: String,
    dimension: String,
    factor: f64,
    #[allow(dead_code)]
    note: String,
}

/// A number in the canonical unit of what it measures: the analyte's unit (seeds/analytes.csv),
/// or, for an item without one, the unit the source wrote it in.
///
/// Only a conversion makes one ([`Quantity::to_canonical`], and the seeds loader for limits and
/// decision limits, which it converts to the analyte's unit), so a number still in the unit it
/// was written in cannot be compared with a converted limit: judging takes `Canonical` only.
/// Serialised as the bare number.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Canonical(f64);

impl Canonical {
    /// The number, in the canonical unit.
    pub fn get(self) -> f64 {
        self.0
    }

    /// `fraction` of this quantity, in the same unit: a relative uncertainty made absolute.
    pub fn scaled(self, fraction: f64) -> Canonical {
        Canonical(self.0 * fraction)
    }

    /// This quantity plus `delta` (another quantity in the same unit, such as an uncertainty),
    /// rounded like a conversion so that `0.15 − 0.05` is `0.1`.
    pub fn plus(self, delta: Canonical) -> Canonical {
        Canonical(round_significant(self.0 + delta.0, 12))
    }

    /// This quantity minus `delta`, rounded as [`Canonical::plus`].
    pub fn minus(self, delta: Canonical) -> Canonical {
        Canonical(round_significant(self.0 - delta.0, 12))
    }

    /// A count (units of a net-content sample): a count has one unit, so it is canonical as it
    /// is.
    pub fn count(n: usize) -> Canonical {
        Canonical(n as f64)
    }
}

/// A number with the unit it was written in, not yet canonical.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity<'u> {
    /// As written.
    pub value: f64,
    /// The unit it was written in.
    pub unit: &'u Unit,
}

impl<'u> Quantity<'u> {
    /// A number written in `unit`.
    pub fn new(value: f64, unit: &'u Unit) -> Quantity<'u> {
        Quantity { value, unit }
    }

    /// The same quantity in `canonical`, the unit of what it measures; `None` across
    /// dimensions. Rounded as [`UnitTable::convert`] rounds.
    pub fn to_canonical(self, canonical: &Unit) -> Option<Canonical> {
        UnitTable::convert(self.value, self.unit, canonical).map(Canonical)
    }
}

/// The unit table.
#[derive(Debug, Clone, Default)]
pub struct UnitTable {
    units: Vec<Unit>,
    by_key: HashMap<String, usize>,
}

const FILE: &str = "units.csv";

impl UnitTable {
    pub(crate) fn load(dir: &Path, errors: &mut Vec<SeedError>) -> UnitTable {
        let mut table = UnitTable::default();
        for row in read_rows::<UnitRow>(dir, FILE, errors) {
            let r = row.value;
            if !(r.factor.is_finite() && r.factor > 0.0) {
                errors.push(row_error(
                    dir,
                    FILE,
                    row.line,
                    "factor",
                    &r.factor.to_string(),
                    "expected a positive number",
                ));
                continue;
            }
            let index = table.units.len();
            for name in std::iter::once(r.unit.as_str()).chain(split_aliases(&r.aliases)) {
                if table.by_key.insert(normalise_key(name), index).is_some_and(|previous| previous != index) {
                    errors.push(row_error(
                        dir,
                        FILE,
                        row.line,
                        "aliases",
                        name,
                        "the alias already belongs to another unit",
                    ));
                }
            }
            table.units.push(Unit { symbol: r.unit, dimension: r.dimension, factor: r.factor });
        }
        table
    }

    /// The unit written `text` (symbol or alias, case and width folded).
    pub fn resolve(&self, text: &str) -> Option<&Unit> {
        self.by_key.get(&normalise_key(text)).map(|&i| &self.units[i])
    }

    /// Converts `value` from `from` to `to`; `None` across dimensions. The result is rounded
    /// to 12 significant digits so that a value and a limit written in different units
    /// compare as the lab meant (5 μg/kg is 0.005 mg/kg, not 0.005000000000000001).
    pub fn convert(value: f64, from: &Unit, to: &Unit) -> Option<f64> {
        if from.dimension != to.dimension {
            return None;
        }
        if from.symbol == to.symbol {
            return Some(value);
        }
        Some(round_significant(value * from.factor / to.factor, 12))
    }
}

/// Rounds to `digits` significant digits.
pub(crate) fn round_significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let magnitude = value.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits - 1 - magnitude);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_within_a_dimension_only() {
        let mut errors = Vec::new();
        let t = UnitTable::load(Path::new("../../seeds"), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let ug = t.resolve("µg/kg").unwrap();
        let mg = t.resolve("毫克/千克").unwrap();
        assert_eq!(ug.symbol, "μg/kg");
        assert_eq!(UnitTable::convert(5.0, ug, mg), Some(0.005));
        assert_eq!(UnitTable::convert(0.006, mg, ug), Some(6.0));
        assert_eq!(UnitTable::convert(0.25, t.resolve("g/100g").unwrap(), mg), Some(2500.0));
        assert_eq!(UnitTable::convert(1.0, mg, t.resolve("mg/L").unwrap()), None);
        assert_eq!(t.resolve("ng/g").unwrap().factor, 0.001);
    }
}
