//! Limit cells (maxima, minima, ranges, bans) and tolerance cells around a declared value.

use zhijian_seeds::normalise_key;

use super::number::parse_number;
use super::vocabulary::VocabularyIndex;

/// A limit cell, parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParsedLimit {
    /// No limit (`/`, empty).
    None,
    /// Must not be detected (不得检出).
    Banned,
    /// Upper bound; `strict` for `<`.
    Max {
        /// The bound.
        value: f64,
        /// The bound itself fails.
        strict: bool,
    },
    /// Lower bound; `strict` for `>`.
    Min {
        /// The bound.
        value: f64,
        /// The bound itself fails.
        strict: bool,
    },
    /// `a~b`.
    Range {
        /// The lower bound.
        min: f64,
        /// The upper bound.
        max: f64,
    },
}

/// A tolerance around a declared value (允许偏差).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// Empty or `/`: at least the declared value.
    None,
    /// `±t` or a bare `t`: from declared − t to declared + t.
    Both(f64),
    /// `-t`: at least declared − t.
    Below(f64),
    /// `+t`: at most declared + t.
    Above(f64),
}

/// Parses a tolerance cell: `±1.5`, `+/-1.5`, `-1.5`, `+0.5`, `1.5` (both sides), empty or
/// `/` (none: at least the declared value).
pub fn parse_tolerance(text: &str) -> Option<Tolerance> {
    let key = normalise_key(text).replace('−', "-");
    if key.is_empty() || key == "/" || key == "-" || key == "—" {
        return Some(Tolerance::None);
    }
    for prefix in ["±", "+/-", "+-"] {
        if let Some(rest) = key.strip_prefix(prefix) {
            return parse_number(rest).filter(|t| *t >= 0.0).map(Tolerance::Both);
        }
    }
    if let Some(rest) = key.strip_prefix('-') {
        return parse_number(rest).filter(|t| *t >= 0.0).map(Tolerance::Below);
    }
    if let Some(rest) = key.strip_prefix('+') {
        return parse_number(rest).filter(|t| *t >= 0.0).map(Tolerance::Above);
    }
    parse_number(&key).filter(|t| *t >= 0.0).map(Tolerance::Both)
}

impl VocabularyIndex {
    /// Parses a limit cell. A bare number is a maximum in a max column and a minimum in a min
    /// column (`is_min_column`).
    pub fn limit(&self, text: &str, is_min_column: bool) -> Option<ParsedLimit> {
        let key = normalise_key(text);
        if key.is_empty() || self.no_limit.contains(&key) {
            return Some(ParsedLimit::None);
        }
        if self.banned.contains(&key) {
            return Some(ParsedLimit::Banned);
        }
        for (prefix, strict) in [
            ("≤", false),
            ("≦", false),
            ("<=", false),
            ("不大于", false),
            ("不超过", false),
            ("<", true),
            ("﹤", true),
            ("小于", true),
        ] {
            if let Some(rest) = key.strip_prefix(prefix) {
                return parse_number(rest).map(|value| ParsedLimit::Max { value, strict });
            }
        }
        for (prefix, strict) in [
            ("≥", false),
            ("≧", false),
            (">=", false),
            ("不小于", false),
            ("不低于", false),
            (">", true),
            ("﹥", true),
            ("大于", true),
        ] {
            if let Some(rest) = key.strip_prefix(prefix) {
                return parse_number(rest).map(|value| ParsedLimit::Min { value, strict });
            }
        }
        if let Some((lo, hi)) = key.split_once(['~', '～']) {
            let (min, max) = (parse_number(lo)?, parse_number(hi)?);
            return (min <= max).then_some(ParsedLimit::Range { min, max });
        }
        let value = parse_number(&key)?;
        Some(if is_min_column {
            ParsedLimit::Min { value, strict: false }
        } else {
            ParsedLimit::Max { value, strict: false }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{ParsedResult, split_any};
    use zhijian_pipeline::Vocabulary;

    #[test]
    fn limits_as_sources_write_them() {
        let v = VocabularyIndex::new(&Vocabulary::default());
        assert_eq!(v.limit("≤0.5", false), Some(ParsedLimit::Max { value: 0.5, strict: false }));
        assert_eq!(v.limit("0.5", false), Some(ParsedLimit::Max { value: 0.5, strict: false }));
        assert_eq!(v.limit("<0.5", false), Some(ParsedLimit::Max { value: 0.5, strict: true }));
        assert_eq!(v.limit("≥2.9", true), Some(ParsedLimit::Min { value: 2.9, strict: false }));
        assert_eq!(v.limit("2.9", true), Some(ParsedLimit::Min { value: 2.9, strict: false }));
        assert_eq!(v.limit("不得检出", false), Some(ParsedLimit::Banned));
        assert_eq!(v.limit("/", false), Some(ParsedLimit::None));
        assert_eq!(v.limit("", true), Some(ParsedLimit::None));
        assert_eq!(v.limit("5~10", false), Some(ParsedLimit::Range { min: 5.0, max: 10.0 }));
        assert_eq!(v.limit("约0.5", false), None);
        assert_eq!(v.limit("≦0.5", false), Some(ParsedLimit::Max { value: 0.5, strict: false }));
        assert_eq!(v.limit("﹤0.5", false), Some(ParsedLimit::Max { value: 0.5, strict: true }));
        assert_eq!(v.limit("≧2.9", true), Some(ParsedLimit::Min { value: 2.9, strict: false }));
        assert_eq!(v.limit("≤1,000", false), Some(ParsedLimit::Max { value: 1000.0, strict: false }));
        assert_eq!(v.result("﹤0.01"), Some(ParsedResult::BelowLoq(0.01)));
        assert_eq!(v.result("＜0.01"), Some(ParsedResult::BelowLoq(0.01)));
        assert_eq!(v.result("1.2×10⁻³"), Some(ParsedResult::Value(1.2e-3)));
    }

    #[test]
    fn tolerances_and_packed_cells() {
        assert_eq!(parse_tolerance("±1.5"), Some(Tolerance::Both(1.5)));
        assert_eq!(parse_tolerance("+/-2"), Some(Tolerance::Both(2.0)));
        assert_eq!(parse_tolerance("-1.5"), Some(Tolerance::Below(1.5)));
        assert_eq!(parse_tolerance("－1.5"), Some(Tolerance::Below(1.5)));
        assert_eq!(parse_tolerance("+0.5"), Some(Tolerance::Above(0.5)));
        assert_eq!(parse_tolerance("2"), Some(Tolerance::Both(2.0)));
        assert_eq!(parse_tolerance(""), Some(Tolerance::None));
        assert_eq!(parse_tolerance("about 2"), None);
        let seps = vec!["；".to_string(), ";".to_string(), "\n".to_string()];
        assert_eq!(split_any("铅║0.5║≤0.2；镉║0.3║≤0.2;\n", &seps), ["铅║0.5║≤0.2", "镉║0.3║≤0.2", "", ""]);
        assert_eq!(split_any("", &seps), [""]);
        let parts = vec!["║".to_string()];
        assert_eq!(split_any("毒死蜱║║≤0.1 ", &parts), ["毒死蜱", "", "≤0.1"]);
    }
}
