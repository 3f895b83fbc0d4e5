//! The order in which a source's deliveries count: file names compared with numbers as
//! numbers.

/// The order in which deliveries count, later wins: by file name without its extension,
/// then by the whole name, both in [`natural_cmp`] order (numbers as numbers): `2013Q3`
/// comes before `2013Q3-更正` and `2013Q3_v2`, `_v9` before `_v10`, `9月` before `10月`.
pub fn delivery_order(file: &str) -> DeliveryOrder {
    let name = file.rsplit('/').next().unwrap_or(file);
    // A worksheet of a workbook read on several sheets is `FILE#SHEET`: the workbook's name
    // orders it (a sheet named `5.1` must not shift the stem), then the whole name.
    let name = match name.rsplit_once('#') {
        Some((workbook, _)) if [".xlsx", ".xlsm", ".xls"].iter().any(|e| workbook.to_lowercase().ends_with(e)) => {
            workbook
        }
        _ => name,
    };
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    DeliveryOrder { stem: stem.to_string(), file: file.to_string() }
}

/// A file's place among the deliveries of a source; see [`delivery_order`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOrder {
    stem: String,
    pub(super) file: String,
}

impl DeliveryOrder {
    /// The file.
    pub fn file(&self) -> &str {
        &self.file
    }
}

impl Ord for DeliveryOrder {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        natural_cmp(&self.stem, &other.stem).then_with(|| natural_cmp(&self.file, &other.file))
    }
}

impl PartialOrd for DeliveryOrder {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two texts with every run of digits (ASCII or full-width) taken as one number:
/// `v9` < `v10`, `9月` < `10月`, `２月` < `１０月`. Elsewhere characters compare by code point,
/// a number sorting where the character `0` would. Texts equal so (`v01`, `v1`) are ordered by
/// their plain text, so the order is total and the same on every machine and locale.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        let (c, d) = match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) => (c, d),
        };
        let order = match (digit_value(c), digit_value(d)) {
            (Some(_), Some(_)) => compare_numbers(&take_number(&mut x), &take_number(&mut y)),
            (Some(_), None) => {
                y.next();
                '0'.cmp(&d)
            }
            (None, Some(_)) => {
                x.next();
                c.cmp(&'0')
            }
            (None, None) => {
                x.next();
                y.next();
                c.cmp(&d)
            }
        };
        if order != Ordering::Equal {
            return order;
        }
    }
}

fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        // Full-width digits (０-９), as Chinese file names often have them.
        '\u{FF10}'..='\u{FF19}' => Some((c as u32 - 0xFF10) as u8),
        _ => None,
    }
}

/// The run of digits at the front of `chars`, as digit values without leading zeros.
fn take_number(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Vec<u8> {
    let mut digits = Vec::new();
    while let Some(value) = chars.peek().copied().and_then(digit_value) {
        chars.next();
        if !(digits.is_empty() && value == 0) {
            digits.push(value);
        }
    }
    digits
}

/// Numbers of any length, as digits without leading zeros: the longer is larger.
fn compare_numbers(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_deliveries_sort_after_the_file_they_correct() {
        let mut files = ["d/2013Q3_v2.csv", "d/2013Q3-更正.csv", "d/2013Q3.csv", "d/2013Q2.csv"];
        files.sort_by_key(|f| delivery_order(f));
        assert_eq!(files, ["d/2013Q2.csv", "d/2013Q3.csv", "d/2013Q3-更正.csv", "d/2013Q3_v2.csv"]);
        // Numbers as numbers, not as text.
        let mut files = ["d/2013Q3_v10.csv", "d/2013Q3_v9.csv", "d/2013Q3_v2.csv", "d/2013Q3.csv"];
        files.sort_by_key(|f| delivery_order(f));
        assert_eq!(files, ["d/2013Q3.csv", "d/2013Q3_v2.csv", "d/2013Q3_v9.csv", "d/2013Q3_v10.csv"]);
        let mut files = ["d/抽检10月.csv", "d/抽检9月.csv", "d/抽检１２月.csv", "d/抽检1月.csv"];
        files.sort_by_key(|f| delivery_order(f));
        assert_eq!(files, ["d/抽检1月.csv", "d/抽检9月.csv", "d/抽检10月.csv", "d/抽检１２月.csv"]);
    }

    #[test]
    fn a_worksheet_is_ordered_by_its_workbook() {
        // The sheet `5.1` does not make `2013.xlsx#5` the stem: the correction workbook stays
        // after the workbook it corrects, whatever its sheets are called.
        let first = delivery_order("../drop/2013.xlsx#5.1");
        let correction = delivery_order("../drop/2013-更正.xlsx#1");
        assert!(first < correction);
        // A `#` in a CSV's own name is part of its stem.
        assert!(delivery_order("a#2.csv") < delivery_order("a#10.csv"));
    }

    #[test]
    fn natural_order_is_total_and_consistent() {
        use std::cmp::Ordering;
        let mut texts: Vec<&str> =
            "0 00 1 01 9 10 v9 v10 v09 v va v-1 a1b a01b a1c ab a １０ 9月 １０月 月 Z z9 z10a _ \
             x99999999999999999999999 x100000000000000000000000"
                .split_whitespace()
                .collect();
        texts.push("");
        for &a in &texts {
            assert_eq!(natural_cmp(a, a), Ordering::Equal, "{a}");
            for &b in &texts {
                assert_eq!(natural_cmp(a, b), natural_cmp(b, a).reverse(), "{a} {b}");
                assert_eq!(natural_cmp(a, b) == Ordering::Equal, a == b, "{a} {b}");
                for &c in &texts {
                    if natural_cmp(a, b) == Ordering::Less && natural_cmp(b, c) == Ordering::Less {
                        assert_eq!(natural_cmp(a, c), Ordering::Less, "{a} < {b} < {c}");
                    }
                }
            }
        }
        assert_eq!(natural_cmp("x99999999999999999999999", "x100000000000000000000000"), Ordering::Less);
    }
}
