//! Date cells: the styles source files write dates in, and Excel serial numbers.

use chrono::{Duration, NaiveDate};
use zhijian_seeds::normalise_text;

/// Parses a date in the styles source files use: `2013-07-05`, `2013/7/5`, `2013.7.5`,
/// `2013年7月5日`, `20130705`, each optionally followed by a time (`2013-07-05 09:30:00`,
/// `20130705 0930`, `2013-07-05T08:30`), compact timestamps (`201307051230`,
/// `20130705093000`), and Excel serial numbers (1900 date system) such as `41460`. Anything else,
/// a long digit string included, is `None`: never a panic.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    parse_date_in(text, false)
}

/// [`parse_date`], with Excel serial numbers counted in the 1904 date system when `date1904`
/// (a workbook saved with that setting).
pub fn parse_date_in(text: &str, date1904: bool) -> Option<NaiveDate> {
    let text = normalise_text(text);
    // A trailing time of day: `2013-07-05 00:00:00`, `2013-07-05T08:30`, `20130705 0930`.
    let (date_part, time_part) = match text.find([' ', 'T']) {
        Some(i) => (&text[..i], Some(text[i + 1..].trim())),
        None => (text.as_str(), None),
    };
    if time_part.is_some_and(|t| !is_time_of_day(t)) {
        return None;
    }
    if date_part.bytes().all(|b| b.is_ascii_digit()) {
        return match date_part.len() {
            // `20130705`, and compact timestamps `201307051230`, `20130705093000`.
            8 | 12 | 14 => {
                let (y, rest) = date_part.split_at(4);
                let (m, rest) = rest.split_at(2);
                let (d, time) = rest.split_at(2);
                if !time.is_empty() && (time_part.is_some() || !is_time_of_day(time)) {
                    return None;
                }
                ymd(y, m, d)
            }
            // Excel serials of 1950–2100 have five digits.
            1..=6 if time_part.is_none() => excel_serial_date(date_part.parse().ok()?, date1904),
            _ => None,
        };
    }
    if date_part.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && date_part.bytes().filter(|b| *b == b'.').count() == 1
        && time_part.is_none()
    {
        // A serial with a time fraction, `41460.75`; `2013.7.5` has two dots.
        let whole = date_part.split('.').next().unwrap_or("");
        if (1..=6).contains(&whole.len()) {
            return excel_serial_date(date_part.parse().ok()?, date1904);
        }
        return None;
    }
    let parts: Vec<&str> = date_part.split(['-', '/', '.', '年', '月', '日']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => ymd(y, m, d),
        _ => None,
    }
}

/// Whether `text` is a time of day: `0930`, `093000`, `09:30`, `09:30:00`, `9:30:00.000`.
fn is_time_of_day(text: &str) -> bool {
    let fields: Vec<&str> = if text.contains(':') {
        let text = text
            .split_once('.')
            .map_or(text, |(hms, fraction)| if fraction.bytes().all(|b| b.is_ascii_digit()) { hms } else { "x" });
        text.split(':').collect()
    } else if text.len() == 4 || text.len() == 6 {
        (0..text.len()).step_by(2).filter_map(|i| text.get(i..i + 2)).collect()
    } else {
        return false;
    };
    let limits = [24, 60, 60];
    (2..=3).contains(&fields.len())
        && fields.iter().zip(limits).all(|(f, limit)| {
            (1..=2).contains(&f.len())
                && f.bytes().all(|b| b.is_ascii_digit())
                && f.parse::<u32>().is_ok_and(|v| v < limit)
        })
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y) && digits(m) && digits(d)) {
        return None;
    }
    // Years outside 1900–2100 are typos (`0013-07-05`), not sampling dates.
    let year = y.parse().ok().filter(|y| (1900..=2100).contains(y))?;
    NaiveDate::from_ymd_opt(year, m.parse().ok()?, d.parse().ok()?)
}

/// The date of an Excel serial number, in the 1900 system (`date1904 = false`, where Excel
/// counts the non-existent 1900-02-29) or the 1904 system. Plausible range only: 1950–2100.
pub fn excel_serial_date(serial: f64, date1904: bool) -> Option<NaiveDate> {
    if !serial.is_finite() {
        return None;
    }
    // Beyond a million days is no date of this century in either system; checked before the
    // cast and the day count, which would overflow.
    if !(0.0..1.0e6).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    let base = if date1904 {
        NaiveDate::from_ymd_opt(1904, 1, 1)?
    } else {
        // Serial 60 is Excel's phantom 1900-02-29; from 61 on, day 0 is 1899-12-30.
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    let date = base.checked_add_signed(Duration::try_days(days)?)?;
    (1950..=2100).contains(&chrono::Datelike::year(&date)).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn dates_in_every_style() {
        for text in [
            "2013-07-05",
            "2013/7/5",
            "2013.7.5",
            "2013年7月5日",
            "20130705",
            "2013-07-05 00:00:00",
            "２０１３-０７-０５",
            "41460",
            "2013年07月05日",
            "2013-07-05 09:30:00",
            "2013-07-05 9:30",
            "2013-07-05T08:30",
            "2013/7/5 09:30:00.000",
            "20130705 0930",
            "201307051230",
            "20130705093000",
            "41460.5",
        ] {
            assert_eq!(parse_date(text), d(2013, 7, 5), "{text}");
        }
        for text in [
            "2013-02-30",
            "2013-13-01",
            "13/7/5",
            "7/5/2013",
            "",
            "昨天",
            "2013-07",
            "99999999",
            // Long digit strings: once a chrono panic (exit 101), now not a date.
            "201307051290",
            "201307052530",
            "2013070512",
            "20130705093000123",
            "99999999999999999999",
            "1e300",
            "41460.5.5",
            "2013-07-05 25:00",
            "2013-07-05 下午",
            "201307051230 0930",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }

    #[test]
    fn excel_serials_in_both_systems() {
        assert_eq!(excel_serial_date(41460.0, false), d(2013, 7, 5));
        assert_eq!(excel_serial_date(39998.0, true), d(2013, 7, 5));
        assert_eq!(excel_serial_date(41460.75, false), d(2013, 7, 5));
        assert_eq!(excel_serial_date(12.0, false), None);
    }
}
