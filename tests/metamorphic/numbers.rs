//! Numbers in cells, rewritten as text: the decimal point moved (a unit change, exact, no
//! floating-point noise) or the same number in scientific notation.
//!
//! A cell is rewritten only when it has the shape of a value or limit zhijian documents — a
//! prefix without digits (`<`, `≤`, `未检出(<`, `±`), one number or a range `a~b`, and a closing
//! bracket when the prefix opened one — so a cell that is wrong on purpose (`见附页`, `1.2.3`,
//! `5038.O`) stays exactly as it was and is rejected for the same reason.

/// An exact decimal: `digits` × 10^`exponent`, `digits` without leading zeros ("0" for zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decimal {
    pub digits: String,
    pub exponent: i32,
}

impl Decimal {
    /// Parses `12.50`, `.5`, `3`, `1.2e-3` (the whole text; no sign).
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let all = format!("{int}{frac}");
        let digits = all.trim_start_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        Some(Decimal { digits: digits.to_string(), exponent: exponent - frac.len() as i32 }.trimmed())
    }

    /// Trailing zeros moved into the exponent.
    fn trimmed(self) -> Decimal {
        if self.digits == "0" {
            return Decimal { digits: "0".into(), exponent: 0 };
        }
        let kept = self.digits.trim_end_matches('0');
        let exponent = self.exponent + (self.digits.len() - kept.len()) as i32;
        Decimal { digits: kept.to_string(), exponent }
    }

    /// This number × 10^`by`.
    pub(crate) fn shifted(&self, by: i32) -> Decimal {
        if self.digits == "0" {
            return self.clone();
        }
        Decimal { digits: self.digits.clone(), exponent: self.exponent + by }
    }

    /// Plain notation: `0.0489`, `460`, `12.5`.
    pub(crate) fn plain(&self) -> String {
        let len = self.digits.len() as i32;
        if self.exponent >= 0 {
            return format!("{}{}", self.digits, "0".repeat(self.exponent as usize));
        }
        let point = len + self.exponent;
        if point > 0 {
            format!("{}.{}", &self.digits[..point as usize], &self.digits[point as usize..])
        } else {
            format!("0.{}{}", "0".repeat((-point) as usize), self.digits)
        }
    }

    /// Scientific notation with a signed two-digit exponent: `1.033e+04`, `5e-03`.
    pub(crate) fn scientific(&self) -> String {
        let (head, tail) = self.digits.split_at(1);
        let exponent = self.exponent + tail.len() as i32;
        let mantissa = if tail.is_empty() { head.to_string() } else { format!("{head}.{tail}") };
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

/// Where the numbers of a cell are: the text between them is kept as it is.
#[derive(Debug, Clone, PartialEq)]
struct Shape<'t> {
    prefix: &'t str,
    numbers: Vec<&'t str>,
    /// Between the numbers of a range: `~`.
    separators: Vec<&'t str>,
    suffix: &'t str,
}

/// The end of the number starting at `text[start..]`: digits with at most one point, then an
/// optional exponent.
fn number_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    let mut point = false;
    while i < bytes.len() && (bytes[i].is_ascii_digit() || (bytes[i] == b'.' && !point)) {
        point |= bytes[i] == b'.';
        i += 1;
    }
    if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
        let mut j = i + 1;
        if j < bytes.len() && matches!(bytes[j], b'+' | b'-') {
            j += 1;
        }
        let digits = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j > digits {
            i = j;
        }
    }
    i
}

fn shape(text: &str) -> Option<Shape<'_>> {
    // A number starts at its first digit, or at a point right before it that no letter
    // precedes (`<.5`; in `N.D.(<0.01)` the points belong to the word).
    let digit = text.find(|c: char| c.is_ascii_digit())?;
    let before = text[..digit].strip_suffix('.');
    let first = match before {
        Some(head) if !head.ends_with(|c: char| c.is_ascii_alphabetic()) => digit - 1,
        _ => digit,
    };
    let prefix = &text[..first];
    let mut numbers = Vec::new();
    let mut separators = Vec::new();
    let mut at = first;
    loop {
        let end = number_end(text, at);
        let number = &text[at..end];
        Decimal::parse(number)?;
        numbers.push(number);
        let rest = &text[end..];
        let range = ["~", "～"].into_iter().find(|s| rest.starts_with(s) && numbers.len() == 1);
        match range {
            Some(sep) if rest[sep.len()..].starts_with(|c: char| c.is_ascii_digit()) => {
                separators.push(sep);
                at = end + sep.len();
            }
            _ => {
                let suffix = rest;
                let opened = prefix.contains('(') || prefix.contains('（');
                let closes = matches!(suffix.trim(), ")" | "）");
                let fits = suffix.trim().is_empty() && !opened || closes && opened;
                return fits.then_some(Shape { prefix, numbers, separators, suffix });
            }
        }
    }
}

/// `text` with each of its numbers replaced by `rewrite(number)`, when the cell has the shape
/// of a value or limit (see the module docs); `None` otherwise.
pub(crate) fn rewrite(text: &str, rewrite: impl Fn(&Decimal) -> String) -> Option<String> {
    let shape = shape(text)?;
    let mut out = String::from(shape.prefix);
    for (i, number) in shape.numbers.iter().enumerate() {
        out.push_str(&rewrite(&Decimal::parse(number)?));
        if let Some(sep) = shape.separators.get(i) {
            out.push_str(sep);
        }
    }
    out.push_str(shape.suffix);
    Some(out)
}

#[test]
fn decimals_move_their_point_exactly() {
    let d = |t: &str| Decimal::parse(t).unwrap();
    assert_eq!(d("0.0489").shifted(3).plain(), "48.9");
    assert_eq!(d("460").shifted(-3).plain(), "0.46");
    assert_eq!(d("0.25").shifted(3).plain(), "250");
    assert_eq!(d("5").shifted(-4).plain(), "0.0005");
    assert_eq!(d("0").shifted(3).plain(), "0");
    assert_eq!(d("1.2e-3").plain(), "0.0012");
    assert_eq!(d("10330").scientific(), "1.033e+04");
    assert_eq!(d("0.005").scientific(), "5e-03");
    assert_eq!(d("7.53").scientific(), "7.53e+00");
    assert_eq!(d(".5").plain(), "0.5");
    assert_eq!(Decimal::parse("1.2.3"), None);
    assert_eq!(Decimal::parse("."), None);
}

#[test]
fn only_cells_shaped_like_values_are_rewritten() {
    let times_1000 = |d: &Decimal| d.shifted(3).plain();
    for (cell, expected) in [
        ("0.0489", Some("48.9")),
        ("<0.01", Some("<10")),
        ("＜ 0.01", Some("＜ 10")),
        ("未检出(<0.01)", Some("未检出(<10)")),
        ("未检出（检出限0.5）", Some("未检出（检出限500）")),
        ("N.D.(<0.01)", Some("N.D.(<10)")),
        ("<.5", Some("<500")),
        ("≤2.5", Some("≤2500")),
        ("5~10", Some("5000~10000")),
        ("-1.5", Some("-1500")),
        ("±2", Some("±2000")),
        ("1.2e-3", Some("1.2")),
        ("未检出", None),
        ("见附页", None),
        ("1.2.3", None),
        ("5038.O", None),
        ("0.5(", None),
        ("约0.5左右", None),
        ("", None),
    ] {
        assert_eq!(rewrite(cell, times_1000).as_deref(), expected, "{cell}");
    }
}
