//! Pure parsers for what source cells hold: dates, numbers, results, limits, vocabulary words.
//! No I/O, no clock; each is tested on literals.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use zhijian_model::{Method, Stage, Verdict};
use zhijian_pipeline::Vocabulary;
use zhijian_seeds::{normalise_key, normalise_text};

/// Parses a date in the styles source files use: `2013-07-05`, `2013/7/5`, `2013.7.5`,
/// `2013年7月5日`, `20130705`, each optionally followed by a time, and Excel serial numbers
/// (1900 date system) such as `41460`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    parse_date_in(text, false)
}

/// [`parse_date`], with Excel serial numbers counted in the 1904 date system when `date1904`
/// (a workbook saved with that setting).
pub fn parse_date_in(text: &str, date1904: bool) -> Option<NaiveDate> {
    let text = normalise_text(text);
    // Drop a trailing time of day: `2013-07-05 00:00:00`, `2013-07-05T08:30`.
    let date_part = text.split([' ', 'T']).next().unwrap_or("");
    if date_part.len() == 8 && date_part.bytes().all(|b| b.is_ascii_digit()) {
        let (y, rest) = date_part.split_at(4);
        let (m, d) = rest.split_at(2);
        return ymd(y, m, d);
    }
    if !date_part.is_empty()
        && date_part.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && let Ok(serial) = date_part.parse::<f64>()
    {
        return excel_serial_date(serial, date1904);
    }
    let parts: Vec<&str> = date_part.split(['-', '/', '.', '年', '月', '日']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => ymd(y, m, d),
        _ => None,
    }
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y) && digits(m) && digits(d)) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// The date of an Excel serial number, in the 1900 system (`date1904 = false`, where Excel
/// counts the non-existent 1900-02-29) or the 1904 system. Plausible range only: 1950–2100.
pub fn excel_serial_date(serial: f64, date1904: bool) -> Option<NaiveDate> {
    if !serial.is_finite() {
        return None;
    }
    let days = serial.floor() as i64;
    let base = if date1904 {
        NaiveDate::from_ymd_opt(1904, 1, 1)?
    } else {
        // Serial 60 is Excel's phantom 1900-02-29; from 61 on, day 0 is 1899-12-30.
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    let date = base.checked_add_signed(Duration::days(days))?;
    (1950..=2100).contains(&chrono::Datelike::year(&date)).then_some(date)
}

/// Parses a plain number, after folding full-width digits: `0.12`, `1.2e-3`, `+3`.
pub fn parse_number(text: &str) -> Option<f64> {
    let text = normalise_text(text);
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E')) {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A qualitative answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Qualitative {
    /// 阳性.
    Positive,
    /// 阴性.
    Negative,
    /// 合格 written as the result.
    Pass,
    /// 不合格 written as the result.
    Fail,
}

impl Qualitative {
    /// The code written to `results.qualitative`.
    pub fn as_str(self) -> &'static str {
        match self {
            Qualitative::Positive => "positive",
            Qualitative::Negative => "negative",
            Qualitative::Pass => "pass",
            Qualitative::Fail => "fail",
        }
    }
}

/// A result cell, parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParsedResult {
    /// A number.
    Value(f64),
    /// `<x`: below the limit of quantification x.
    BelowLoq(f64),
    /// 未检出 / ND, with the detection limit when written (`未检出(<0.01)`).
    NotDetected(Option<f64>),
    /// A word.
    Qualitative(Qualitative),
}

/// A limit cell, parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParsedLimit {
    /// No limit (`/`, empty).
    None,
    /// Must not be detected (不得检出).
    Banned,
    /// Upper bound; `strict` for `<`.
    Max { value: f64, strict: bool },
    /// Lower bound; `strict` for `>`.
    Min { value: f64, strict: bool },
    /// `a~b`.
    Range { min: f64, max: f64 },
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

/// Splits `text` at each occurrence of any of `separators` (the longest wins where two start
/// together); pieces are trimmed and kept in place, empty ones too.
pub fn split_any<'t>(text: &'t str, separators: &[String]) -> Vec<&'t str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    loop {
        let next = separators
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| rest.find(s.as_str()).map(|i| (i, s.len())))
            .min_by_key(|(i, len)| (*i, std::cmp::Reverse(*len)));
        match next {
            Some((i, len)) => {
                pieces.push(rest[..i].trim());
                rest = &rest[i + len..];
            }
            None => {
                pieces.push(rest.trim());
                break;
            }
        }
    }
    pieces
}

/// A word that is not in the source's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownWord;

/// The source's vocabulary, indexed by normalised word.
#[derive(Debug, Clone)]
pub struct VocabularyIndex {
    verdicts: HashMap<String, Verdict>,
    results: HashMap<String, ResultWord>,
    no_limit: Vec<String>,
    banned: Vec<String>,
    yes: Vec<String>,
    stages: HashMap<String, Stage>,
    not_detected: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResultWord {
    NotDetected,
    Qualitative(Qualitative),
}

impl VocabularyIndex {
    /// Indexes a source's vocabulary.
    pub fn new(vocabulary: &Vocabulary) -> VocabularyIndex {
        let keys = |words: &[String]| words.iter().map(|w| normalise_key(w)).collect::<Vec<_>>();
        let mut verdicts = HashMap::new();
        for word in keys(&vocabulary.pass) {
            verdicts.insert(word, Verdict::Pass);
        }
        for word in keys(&vocabulary.fail) {
            verdicts.insert(word, Verdict::Fail);
        }
        let mut results = HashMap::new();
        for (words, meaning) in [
            (&vocabulary.pass, ResultWord::Qualitative(Qualitative::Pass)),
            (&vocabulary.fail, ResultWord::Qualitative(Qualitative::Fail)),
            (&vocabulary.negative, ResultWord::Qualitative(Qualitative::Negative)),
            (&vocabulary.positive, ResultWord::Qualitative(Qualitative::Positive)),
            (&vocabulary.not_detected, ResultWord::NotDetected),
        ] {
            for word in keys(words) {
                results.insert(word, meaning);
            }
        }
        let mut stages = HashMap::new();
        for (stage, words) in &vocabulary.stages {
            for word in keys(words) {
                stages.insert(word, *stage);
            }
        }
        VocabularyIndex {
            verdicts,
            results,
            no_limit: keys(&vocabulary.no_limit),
            banned: keys(&vocabulary.banned),
            yes: keys(&vocabulary.yes),
            stages,
            not_detected: keys(&vocabulary.not_detected),
        }
    }

    /// A verdict word: `Ok(None)` for an empty cell, an error for a word the vocabulary lacks.
    pub fn verdict(&self, text: &str) -> Result<Option<Verdict>, UnknownWord> {
        let key = normalise_key(text);
        if key.is_empty() {
            return Ok(None);
        }
        self.verdicts.get(&key).copied().map(Some).ok_or(UnknownWord)
    }

    /// A stage word.
    pub fn stage(&self, text: &str) -> Option<Stage> {
        self.stages.get(&normalise_key(text)).copied()
    }

    /// Whether a flag cell says yes.
    pub fn is_yes(&self, text: &str) -> bool {
        self.yes.contains(&normalise_key(text))
    }

    /// Parses a result cell.
    pub fn result(&self, text: &str) -> Option<ParsedResult> {
        let key = normalise_key(text);
        if let Some(word) = self.results.get(&key) {
            return Some(match word {
                ResultWord::NotDetected => ParsedResult::NotDetected(None),
                ResultWord::Qualitative(q) => ParsedResult::Qualitative(*q),
            });
        }
        if let Some(rest) = strip_less_than(&key) {
            return parse_number(rest).map(ParsedResult::BelowLoq);
        }
        // `未检出(<0.01)`, `ND(0.01)`, `未检出（检出限0.01）`: a not-detected word, then the LOD.
        for word in &self.not_detected {
            if let Some(rest) = key.strip_prefix(word.as_str())
                && let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')'))
            {
                let inner = inner.trim_start_matches("检出限").trim_start_matches(['<', ':', '=']);
                if let Some(lod) = parse_number(inner) {
                    return Some(ParsedResult::NotDetected(Some(lod)));
                }
            }
        }
        parse_number(&key).map(ParsedResult::Value)
    }

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
        for (prefix, strict) in
            [("≤", false), ("<=", false), ("不大于", false), ("不超过", false), ("<", true), ("小于", true)]
        {
            if let Some(rest) = key.strip_prefix(prefix) {
                return parse_number(rest).map(|value| ParsedLimit::Max { value, strict });
            }
        }
        for (prefix, strict) in
            [("≥", false), (">=", false), ("不小于", false), ("不低于", false), (">", true), ("大于", true)]
        {
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

fn strip_less_than(key: &str) -> Option<&str> {
    key.strip_prefix("<").or_else(|| key.strip_prefix("小于")).or_else(|| key.strip_prefix("低于"))
}

/// Reads a method cell: screening (快检, 试纸, 胶体金, ELISA) or confirmation (确证, LC-MS/MS,
/// GB/T 22286); `None` when it says neither.
pub fn parse_method(text: &str) -> Option<Method> {
    let key = normalise_key(text);
    if key.is_empty() {
        return None;
    }
    const SCREENING: &[&str] = &["快检", "快速", "试纸", "胶体金", "elisa", "酶联", "筛查", "初筛"];
    const CONFIRMATION: &[&str] = &["确证", "lc-ms", "gc-ms", "液相色谱-串联质谱", "质谱", "gb/t22286", "仲裁"];
    if CONFIRMATION.iter().any(|w| key.contains(w)) {
        Some(Method::Confirmation)
    } else if SCREENING.iter().any(|w| key.contains(w)) {
        Some(Method::Screening)
    } else {
        None
    }
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
        ] {
            assert_eq!(parse_date(text), d(2013, 7, 5), "{text}");
        }
        for text in ["2013-02-30", "2013-13-01", "13/7/5", "7/5/2013", "", "昨天", "2013-07", "99999999"] {
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

    #[test]
    fn results_as_sources_write_them() {
        let v = VocabularyIndex::new(&Vocabulary::default());
        assert_eq!(v.result("0.12"), Some(ParsedResult::Value(0.12)));
        assert_eq!(v.result("１.５"), Some(ParsedResult::Value(1.5)));
        assert_eq!(v.result("未检出"), Some(ParsedResult::NotDetected(None)));
        assert_eq!(v.result("nd"), Some(ParsedResult::NotDetected(None)));
        assert_eq!(v.result("N.D."), Some(ParsedResult::NotDetected(None)));
        assert_eq!(v.result("未检出(<0.01)"), Some(ParsedResult::NotDetected(Some(0.01))));
        assert_eq!(v.result("未检出（检出限0.5）"), Some(ParsedResult::NotDetected(Some(0.5))));
        assert_eq!(v.result("<0.01"), Some(ParsedResult::BelowLoq(0.01)));
        assert_eq!(v.result("＜ 0.01"), Some(ParsedResult::BelowLoq(0.01)));
        assert_eq!(v.result("阴性"), Some(ParsedResult::Qualitative(Qualitative::Negative)));
        assert_eq!(v.result("阳性"), Some(ParsedResult::Qualitative(Qualitative::Positive)));
        assert_eq!(v.result("符合"), Some(ParsedResult::Qualitative(Qualitative::Pass)));
        assert_eq!(v.result("见附页"), None);
        assert_eq!(v.result("1.2.3"), None);
        assert_eq!(v.result(""), None);
    }

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

    #[test]
    fn verdict_and_stage_words() {
        let v = VocabularyIndex::new(&Vocabulary::default());
        assert_eq!(v.verdict("合格"), Ok(Some(Verdict::Pass)));
        assert_eq!(v.verdict(" 不合格 "), Ok(Some(Verdict::Fail)));
        assert_eq!(v.verdict(""), Ok(None));
        assert_eq!(v.verdict("待定"), Err(UnknownWord));
        assert_eq!(v.stage("流通环节"), Some(Stage::Distribution));
        assert_eq!(parse_method("胶体金试纸条"), Some(Method::Screening));
        assert_eq!(parse_method("GB/T 22286-2008 液相色谱-串联质谱法"), Some(Method::Confirmation));
    }
}
