//! The cell parsers: dates (both Excel date systems), numbers, results with their detection
//! limits and uncertainty, limits, tolerances, uncertainties, methods, verdict words, and
//! failing items packed in one cell (`项目║结果║标准值；…`, split and each part parsed as the
//! normaliser does). Any text: no panic, and what parses reads back sensibly.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use zhijian_ingest::parse::{
    VocabularyIndex, parse_date, parse_date_in, parse_method, parse_number, parse_tolerance, parse_uncertainty,
    split_any,
};
use zhijian_pipeline::{Packed, Vocabulary};

fn words() -> &'static (VocabularyIndex, Packed) {
    static WORDS: OnceLock<(VocabularyIndex, Packed)> = OnceLock::new();
    WORDS.get_or_init(|| (VocabularyIndex::new(&Vocabulary::default()), Packed::default()))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (vocabulary, packed) = words();
    for date in [parse_date(text), parse_date_in(text, true)].into_iter().flatten() {
        let year = chrono_year(date);
        assert!((1900..=2100).contains(&year), "`{text}` is dated {date}");
    }
    if let Some(value) = parse_number(text) {
        assert!(value.is_finite());
    }
    let _ = parse_tolerance(text);
    let _ = parse_uncertainty(text);
    let _ = parse_method(text);
    let _ = vocabulary.verdict(text);
    let _ = vocabulary.stage(text);
    let _ = vocabulary.result(text);
    let _ = vocabulary.result_with_limits(text);
    let _ = vocabulary.limit(text, false);
    let _ = vocabulary.limit(text, true);
    for item in split_any(text, &packed.items) {
        let parts = split_any(item, &packed.parts);
        if let Some(result) = parts.get(1) {
            let _ = vocabulary.result_with_limits(result);
        }
        if let Some(limit) = parts.get(2) {
            let _ = vocabulary.limit(limit, false);
        }
    }
    for value in split_any(text, &packed.values) {
        let _ = parse_number(value);
    }
});

fn chrono_year(date: impl std::fmt::Display) -> i32 {
    date.to_string().get(..4).and_then(|y| y.parse().ok()).unwrap_or(0)
}
