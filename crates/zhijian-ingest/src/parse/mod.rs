//! Pure parsers for what source cells hold: dates, numbers, results, limits, vocabulary words.
//! No I/O, no clock; each is tested on literals.
//!
//! By kind: dates (`date`), numbers (`number`), result cells and what they write beside the
//! result (`result`), limit and tolerance cells (`limit`), the source's vocabulary words and
//! method cells (`vocabulary`), and packed cells split into their pieces (`split`).

mod date;
mod limit;
mod number;
mod result;
mod split;
mod vocabulary;

pub use self::date::{excel_serial_date, parse_date, parse_date_in};
pub use self::limit::{ParsedLimit, Tolerance, parse_tolerance};
pub use self::number::parse_number;
pub use self::result::{DetectionLimits, ParsedResult, Qualitative, Reading, Uncertainty, parse_uncertainty};
pub use self::split::{split_any, split_keeping};
pub use self::vocabulary::{UnknownWord, VocabularyIndex, parse_method};

/// Properties of the cell parsers over generated input: no panic on any text, and what they
/// accept reads back as written.
#[cfg(test)]
mod properties {
    use super::*;
    use chrono::{Datelike, NaiveDate};
    use proptest::prelude::*;
    use zhijian_pipeline::Vocabulary;

    fn vocabulary() -> VocabularyIndex {
        VocabularyIndex::new(&Vocabulary::default())
    }

    /// A date of the years sources carry (Excel serials reach 1950–2100).
    fn date() -> impl Strategy<Value = NaiveDate> {
        (1950i32..=2100, 1u32..=12, 1u32..=31)
            .prop_filter_map("a real day", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn no_text_makes_a_parser_panic(text in "\\PC{0,40}") {
            let v = vocabulary();
            let _ = parse_date(&text);
            let _ = parse_date_in(&text, true);
            let _ = parse_number(&text);
            let _ = parse_tolerance(&text);
            let _ = parse_method(&text);
            let _ = v.result(&text);
            let _ = v.limit(&text, false);
            let _ = v.limit(&text, true);
            let _ = v.verdict(&text);
        }

        #[test]
        fn no_digit_string_makes_a_date_panic(digits in "[0-9]{1,30}", sep in prop::sample::select(vec!["", ".", " ", "T", "-"])) {
            let text = format!("{digits}{sep}{digits}");
            let _ = parse_date(&text);
            let _ = parse_date_in(&digits, true);
            if let Some(date) = parse_date(&digits) {
                // What a bare digit string gives is a plausible date.
                prop_assert!((1900..=2100).contains(&date.year()), "{digits} → {date}");
            }
        }

        #[test]
        fn dates_read_back_in_every_style(date in date(), hour in 0u32..24, minute in 0u32..60) {
            let (y, m, d) = (date.year(), date.month(), date.day());
            for text in [
                format!("{date}"),
                format!("{y}/{m}/{d}"),
                format!("{y}.{m}.{d}"),
                format!("{y}年{m}月{d}日"),
                format!("{y}年{m:02}月{d:02}日"),
                format!("{y}{m:02}{d:02}"),
                format!("{date} {hour:02}:{minute:02}:00"),
                format!("{date}T{hour}:{minute:02}"),
                format!("{y}{m:02}{d:02} {hour:02}{minute:02}"),
                format!("{y}{m:02}{d:02}{hour:02}{minute:02}"),
                format!("{y}{m:02}{d:02}{hour:02}{minute:02}00"),
            ] {
                prop_assert_eq!(parse_date(&text), Some(date), "{}", text);
            }
            let serial = (date - NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days();
            prop_assert_eq!(parse_date(&serial.to_string()), Some(date));
            let serial1904 = (date - NaiveDate::from_ymd_opt(1904, 1, 1).unwrap()).num_days();
            prop_assert_eq!(parse_date_in(&serial1904.to_string(), true), Some(date));
        }

        #[test]
        fn numbers_read_back_as_written(value in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
            prop_assert_eq!(parse_number(&value.to_string()), Some(value));
            prop_assert_eq!(parse_number(&format!("{value:e}")), Some(value));
            prop_assert_eq!(parse_number(&format!("{value:E}")), Some(value));
        }

        #[test]
        fn results_and_limits_read_back(value in 0.0f64..1e9) {
            let v = vocabulary();
            prop_assert_eq!(v.result(&value.to_string()), Some(ParsedResult::Value(value)));
            prop_assert_eq!(v.result(&format!("<{value}")), Some(ParsedResult::BelowLoq(value)));
            prop_assert_eq!(v.result(&format!("未检出(<{value})")), Some(ParsedResult::NotDetected(Some(value))));
            prop_assert_eq!(v.limit(&format!("≤{value}"), false), Some(ParsedLimit::Max { value, strict: false }));
            prop_assert_eq!(v.limit(&format!("<{value}"), false), Some(ParsedLimit::Max { value, strict: true }));
            prop_assert_eq!(v.limit(&format!("≥{value}"), true), Some(ParsedLimit::Min { value, strict: false }));
            prop_assert_eq!(v.limit(&value.to_string(), true), Some(ParsedLimit::Min { value, strict: false }));
            prop_assert_eq!(parse_tolerance(&format!("±{value}")), Some(Tolerance::Both(value)));
            prop_assert_eq!(parse_tolerance(&format!("-{value}")), Some(Tolerance::Below(value)));
        }
    }
}
