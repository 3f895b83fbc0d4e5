//! Number cells: plain numbers and the styles of lab reports and spreadsheets.

use zhijian_seeds::normalise_text;

/// Parses a plain number, after folding full-width digits: `0.12`, `1.2e-3`, `+3`.
///
/// Also the styles of lab reports and spreadsheets: thousands separators in groups of three
/// (`1,234.5`), and powers of ten written out (`1.2×10⁻³`, `1.2×10^-3`, `1.2*10^-3`), read as
/// the decimal they spell (`1.2e-3`), so no rounding creeps in.
pub fn parse_number(text: &str) -> Option<f64> {
    let text = normalise_text(text);
    let plain = |t: &str| {
        !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    };
    let text = if plain(&text) { text } else { spelled_number(&text)? };
    if !plain(&text) {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `1,234.5` → `1234.5`; `1.2×10⁻³` → `1.2e-3`; anything else `None`.
fn spelled_number(text: &str) -> Option<String> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some((mantissa, power)) = text.split_once(['×', '*', 'x', 'X']) {
        let exponent = power.strip_prefix("10")?;
        let exponent = exponent.strip_prefix('^').unwrap_or(exponent);
        let exponent: String = exponent
            .chars()
            .map(|c| match c {
                '⁻' | '−' => Some('-'),
                '⁺' => Some('+'),
                '⁰' => Some('0'),
                '¹' => Some('1'),
                '²' => Some('2'),
                '³' => Some('3'),
                '⁴'..='⁹' => char::from_u32(c as u32 - '⁴' as u32 + '4' as u32),
                '0'..='9' | '-' | '+' => Some(c),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let digits = exponent.trim_start_matches(['-', '+']);
        if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mantissa = spelled_number(mantissa).unwrap_or_else(|| mantissa.to_string());
        if mantissa.is_empty() || mantissa.contains(['e', 'E']) {
            return None;
        }
        return Some(format!("{mantissa}e{exponent}"));
    }
    // Thousands separators: groups of exactly three digits after the first.
    let (integer, fraction) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let (sign, integer) = match integer.strip_prefix(['-', '+']) {
        Some(rest) => (&integer[..1], rest),
        None => ("", integer),
    };
    let groups: Vec<&str> = integer.split(',').collect();
    let grouped = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    if !grouped {
        return None;
    }
    Some(format!("{sign}{}{}", groups.concat(), fraction.map(|f| format!(".{f}")).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_the_styles_of_lab_reports() {
        for (text, value) in [
            ("1,234.5", 1234.5),
            ("-1,234", -1234.0),
            ("12,345,678", 12_345_678.0),
            ("1.2×10⁻³", 1.2e-3),
            ("1.2×10^-3", 1.2e-3),
            ("1.2 × 10^-3", 1.2e-3),
            ("3*10^5", 3e5),
            ("2.5x10³", 2.5e3),
            ("1.5×10¹²", 1.5e12),
            ("１.２×１０^－３", 1.2e-3),
        ] {
            assert_eq!(parse_number(text), Some(value), "{text}");
        }
        for text in
            ["1,23", "1,2345", ",123", "1,234,5", "0,5", "1.2×10", "1.2×9^3", "×10^3", "1e3×10^2", "1.2×10^-3.5"]
        {
            assert_eq!(parse_number(text), None, "{text}");
        }
    }
}
