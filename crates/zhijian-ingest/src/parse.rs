//! Pure parsers for what source cells hold: dates, numbers, results, limits, vocabulary words.
//! No I/O, no clock; each is tested on literals.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use zhijian_model::{Method, Stage, Verdict};
use zhijian_pipeline::Vocabulary;
use zhijian_seeds::{normalise_key, normalise_text};

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

/// What a result cell says, with its numbers of type `N`: `f64` as written
/// ([`ParsedResult`]), [`Canonical`](zhijian_seeds::Canonical) once converted to the analyte's
/// unit, which is what judging takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading<N> {
    /// A number.
    Value(N),
    /// `<x`: below the limit of quantification x.
    BelowLoq(N),
    /// 未检出 / ND, with the detection limit when written (`未检出(<0.01)`).
    NotDetected(Option<N>),
    /// A word.
    Qualitative(Qualitative),
}

/// A result cell as parsed: its numbers in the unit they were written in.
pub type ParsedResult = Reading<f64>;

impl<N> Reading<N> {
    /// The same reading with each number passed through `convert`; the first error stops it.
    pub fn try_map<M, E>(self, mut convert: impl FnMut(N) -> Result<M, E>) -> Result<Reading<M>, E> {
        Ok(match self {
            Reading::Value(v) => Reading::Value(convert(v)?),
            Reading::BelowLoq(q) => Reading::BelowLoq(convert(q)?),
            Reading::NotDetected(lod) => Reading::NotDetected(lod.map(convert).transpose()?),
            Reading::Qualitative(q) => Reading::Qualitative(q),
        })
    }

    /// Whether the reading holds a number.
    pub fn has_number(&self) -> bool {
        matches!(self, Reading::Value(_) | Reading::BelowLoq(_) | Reading::NotDetected(Some(_)))
    }
}

/// What a result cell writes beside the result: its limit of detection and of quantification
/// and its expanded measurement uncertainty, in the result's unit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DetectionLimits {
    /// Limit of detection (检出限, LOD).
    pub lod: Option<f64>,
    /// Limit of quantification (定量限, LOQ).
    pub loq: Option<f64>,
    /// Expanded uncertainty: `0.12±0.02`, `0.12±15%`.
    pub uncertainty: Option<Uncertainty>,
}

/// An expanded measurement uncertainty (U, k = 2) as written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Uncertainty {
    /// In the result's unit: `±0.02`.
    Absolute(f64),
    /// A fraction of the value: `±15%` is 0.15.
    Relative(f64),
}

/// Parses an uncertainty cell or the part after `±`: `0.02`, `±0.02`, `15%`, `±15%`; `None`
/// unless it is a number ≥ 0.
pub fn parse_uncertainty(text: &str) -> Option<Uncertainty> {
    let key = normalise_key(text);
    let key = ["±", "+/-", "+-"].iter().find_map(|p| key.strip_prefix(p)).unwrap_or(&key);
    match key.strip_suffix('%') {
        Some(percent) => parse_number(percent).filter(|p| *p >= 0.0).map(|p| Uncertainty::Relative(p / 100.0)),
        None => parse_number(key).filter(|u| *u >= 0.0).map(Uncertainty::Absolute),
    }
}

impl DetectionLimits {
    /// Reads the inside of the brackets after a result, as a normalised key: `检出限0.01`,
    /// `lod:0.01`, `loq=0.05`, `定量限0.05`, both separated by `,` or `;`; `None` when any part
    /// is not a named limit with a number.
    fn parse(inner: &str) -> Option<DetectionLimits> {
        let mut limits = DetectionLimits::default();
        for part in inner.split([',', ';']).filter(|p| !p.is_empty()) {
            if part.starts_with('±') {
                limits.uncertainty = Some(parse_uncertainty(part)?);
                continue;
            }
            let (slot, rest) = if let Some(rest) = part.strip_prefix("检出限").or_else(|| part.strip_prefix("lod")) {
                (&mut limits.lod, rest)
            } else if let Some(rest) = part.strip_prefix("定量限").or_else(|| part.strip_prefix("loq")) {
                (&mut limits.loq, rest)
            } else {
                return None;
            };
            *slot = Some(parse_number(rest.trim_start_matches([':', '=', '<', '为']))?);
        }
        (limits != DetectionLimits::default()).then_some(limits)
    }
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
    split_keeping(text, separators).0.into_iter().map(str::trim).collect()
}

/// The pieces of `text` between any of `separators` (the longest wins where two start
/// together), untrimmed, and the separators found between them: joining them in turn gives
/// `text` back.
pub fn split_keeping<'t>(text: &'t str, separators: &[String]) -> (Vec<&'t str>, Vec<&'t str>) {
    let (mut pieces, mut found) = (Vec::new(), Vec::new());
    let mut rest = text;
    loop {
        let next = separators
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| rest.find(s.as_str()).map(|i| (i, s.len())))
            .min_by_key(|(i, len)| (*i, std::cmp::Reverse(*len)));
        match next {
            Some((i, len)) => {
                pieces.push(&rest[..i]);
                found.push(&rest[i..i + len]);
                rest = &rest[i + len..];
            }
            None => {
                pieces.push(rest);
                return (pieces, found);
            }
        }
    }
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
    awaiting: Vec<String>,
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
        for word in keys(&vocabulary.not_judged) {
            verdicts.insert(word, Verdict::NotJudged);
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
            awaiting: keys(&vocabulary.awaiting),
            stages,
            not_detected: keys(&vocabulary.not_detected),
        }
    }

    /// A verdict word: `Ok(None)` for an empty cell, an error for a word the vocabulary lacks.
    ///
    /// 检验结论 is often a sentence (`经抽样检验，所检项目符合GB 2762-2012要求`, `经抽样检验，铅项目
    /// 不符合…要求，检验结论为不合格`): a cell that is not a word itself is read by the verdict
    /// words inside it. A fail word anywhere decides (`不符合`, `不合格`, so `符合` inside `不符合`
    /// is never read as a pass); a pass word decides only when no negation (`不`, `未`, `非`)
    /// stands right before it, so a source whose fail words lack `不符合` still reads `不符合…`
    /// as a fail. Only a sentence is read this way (six characters or more, or punctuation), so a
    /// hedged word such as `基本合格` stays unknown, as does a sentence with neither kind of
    /// word, or with a pass word hedged by `基本`.
    pub fn verdict(&self, text: &str) -> Result<Option<Verdict>, UnknownWord> {
        let key = normalise_key(text);
        if key.is_empty() {
            return Ok(None);
        }
        if let Some(verdict) = self.verdicts.get(&key) {
            return Ok(Some(*verdict));
        }
        let sentence = key.chars().count() >= 6 || key.contains([',', '.', ';', ':', '。', '；', '，']);
        if !sentence {
            return Err(UnknownWord);
        }
        let words = |verdict: Verdict| {
            self.verdicts.iter().filter(move |(w, v)| **v == verdict && w.chars().count() >= 2).map(|(w, _)| w)
        };
        if words(Verdict::Fail).any(|w| key.contains(w.as_str())) {
            return Ok(Some(Verdict::Fail));
        }
        let mut passes = false;
        for word in words(Verdict::Pass) {
            for (at, _) in key.match_indices(word.as_str()) {
                if key[..at].ends_with(['不', '未', '非']) {
                    return Ok(Some(Verdict::Fail));
                }
                if key[..at].ends_with("基本") {
                    return Err(UnknownWord);
                }
                passes = true;
            }
        }
        if passes { Ok(Some(Verdict::Pass)) } else { Err(UnknownWord) }
    }

    /// A stage word.
    pub fn stage(&self, text: &str) -> Option<Stage> {
        self.stages.get(&normalise_key(text)).copied()
    }

    /// Whether a result cell says the test is still to be done (`待确证`).
    pub fn is_awaiting(&self, text: &str) -> bool {
        self.awaiting.contains(&normalise_key(text))
    }

    /// Whether a flag cell says yes.
    pub fn is_yes(&self, text: &str) -> bool {
        self.yes.contains(&normalise_key(text))
    }

    /// Parses a result cell.
    pub fn result(&self, text: &str) -> Option<ParsedResult> {
        self.result_with_limits(text).map(|(result, _)| result)
    }

    /// Parses a result cell with the detection and quantification limits and the uncertainty
    /// written beside it: `0.12(检出限0.01)`, `未检出(LOD 0.01)`, `ND(<0.005)`, `0.3(LOQ 0.05)`,
    /// `0.12±0.02`, `0.12±15%`. After a not-detected word a bare number is its LOD (and is also
    /// in the reading, as `NotDetected(Some(lod))`); after a value only a named limit counts.
    pub fn result_with_limits(&self, text: &str) -> Option<(ParsedResult, DetectionLimits)> {
        let key = normalise_key(text);
        // `0.12±0.02`, `0.12±0.02(检出限0.01)`: the uncertainty follows the value.
        if let Some((head, tail)) = key.split_once('±') {
            let (uncertainty, rest) = match tail.find('(') {
                Some(open) => (&tail[..open], &tail[open..]),
                None => (tail, ""),
            };
            let uncertainty = parse_uncertainty(uncertainty)?;
            let (parsed, limits) = self.result_with_limits(&format!("{head}{rest}"))?;
            if !matches!(parsed, ParsedResult::Value(_)) || limits.uncertainty.is_some() {
                return None;
            }
            return Some((parsed, DetectionLimits { uncertainty: Some(uncertainty), ..limits }));
        }
        if let Some(parsed) = self.result_key(&key) {
            let limits = match parsed {
                ParsedResult::NotDetected(lod) => DetectionLimits { lod, ..DetectionLimits::default() },
                _ => DetectionLimits::default(),
            };
            return Some((parsed, limits));
        }
        // A value followed by a named limit in brackets.
        let open = key.rfind('(')?;
        let inner = key[open + 1..].strip_suffix(')')?;
        let limits = DetectionLimits::parse(inner)?;
        match self.result_key(&key[..open])? {
            ParsedResult::NotDetected(None) => Some((ParsedResult::NotDetected(limits.lod), limits)),
            parsed @ (ParsedResult::Value(_) | ParsedResult::BelowLoq(_)) => Some((parsed, limits)),
            _ => None,
        }
    }

    fn result_key(&self, key: &str) -> Option<ParsedResult> {
        if let Some(word) = self.results.get(key) {
            return Some(match word {
                ResultWord::NotDetected => ParsedResult::NotDetected(None),
                ResultWord::Qualitative(q) => ParsedResult::Qualitative(*q),
            });
        }
        if let Some(rest) = strip_less_than(key) {
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
        parse_number(key).map(ParsedResult::Value)
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

fn strip_less_than(key: &str) -> Option<&str> {
    // `﹤` is the small form CJK fonts offer beside `<` and the full-width `＜` (folded already).
    ["<", "﹤", "小于", "低于"].iter().find_map(|p| key.strip_prefix(p))
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
        assert_eq!(v.result("未检出(LOD 0.01)"), Some(ParsedResult::NotDetected(Some(0.01))));
        assert_eq!(v.result("ND(<0.005)"), Some(ParsedResult::NotDetected(Some(0.005))));
        let limits = |lod, loq| DetectionLimits { lod, loq, uncertainty: None };
        assert_eq!(
            v.result_with_limits("0.12(检出限0.01)"),
            Some((ParsedResult::Value(0.12), limits(Some(0.01), None)))
        );
        assert_eq!(
            v.result_with_limits("0.3（LOD 0.01，LOQ 0.03）"),
            Some((ParsedResult::Value(0.3), limits(Some(0.01), Some(0.03))))
        );
        assert_eq!(
            v.result_with_limits("未检出(LOD 0.01)"),
            Some((ParsedResult::NotDetected(Some(0.01)), limits(Some(0.01), None)))
        );
        assert_eq!(
            v.result_with_limits("ND(定量限0.02)"),
            Some((ParsedResult::NotDetected(None), limits(None, Some(0.02))))
        );
        assert_eq!(
            v.result_with_limits("<0.05(检出限0.02)"),
            Some((ParsedResult::BelowLoq(0.05), limits(Some(0.02), None)))
        );
        assert_eq!(v.result("0.12(0.01)"), None, "after a value, only a named limit counts");
        assert_eq!(v.result("0.12(检出限)"), None);
        let with_u =
            |u| Some((ParsedResult::Value(0.12), DetectionLimits { uncertainty: Some(u), ..Default::default() }));
        assert_eq!(v.result_with_limits("0.12±0.02"), with_u(Uncertainty::Absolute(0.02)));
        assert_eq!(v.result_with_limits("0.12 ± 15%"), with_u(Uncertainty::Relative(0.15)));
        assert_eq!(
            v.result_with_limits("0.12±0.02(检出限0.01)"),
            Some((
                ParsedResult::Value(0.12),
                DetectionLimits { lod: Some(0.01), loq: None, uncertainty: Some(Uncertainty::Absolute(0.02)) }
            ))
        );
        assert_eq!(v.result("未检出±0.02"), None, "a non-detect has no uncertainty");
        assert_eq!(v.result("0.12±"), None);
        assert_eq!(v.result("0.12±-1"), None);
        assert_eq!(parse_uncertainty("±20%"), Some(Uncertainty::Relative(0.2)));
        assert_eq!(parse_uncertainty("0.5"), Some(Uncertainty::Absolute(0.5)));
        assert_eq!(parse_uncertainty("约0.5"), None);
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

    #[test]
    fn verdict_and_stage_words() {
        let v = VocabularyIndex::new(&Vocabulary::default());
        assert_eq!(v.verdict("合格"), Ok(Some(Verdict::Pass)));
        assert_eq!(v.verdict(" 不合格 "), Ok(Some(Verdict::Fail)));
        assert_eq!(v.verdict(""), Ok(None));
        assert_eq!(v.verdict("待定"), Err(UnknownWord));
        assert_eq!(v.verdict("不作判定"), Ok(Some(Verdict::NotJudged)));
        assert_eq!(v.verdict("——"), Ok(Some(Verdict::NotJudged)));
        // Sentences, read by the words inside them.
        assert_eq!(v.verdict("经抽样检验，所检项目符合GB 2762-2012要求"), Ok(Some(Verdict::Pass)));
        assert_eq!(v.verdict("经抽样检验，铅项目不符合GB 2762-2012要求，检验结论为不合格"), Ok(Some(Verdict::Fail)));
        assert_eq!(v.verdict("该批次产品检验结论：合格。"), Ok(Some(Verdict::Pass)));
        assert_eq!(v.verdict("经检验，所检项目不符合要求"), Ok(Some(Verdict::Fail)));
        assert_eq!(v.verdict("见检验报告"), Err(UnknownWord));
        assert_eq!(v.verdict("基本合格"), Err(UnknownWord), "a hedged word is no verdict");
        assert_eq!(v.verdict("经检验，所检项目基本合格"), Err(UnknownWord));
        // A source whose fail words lack 不符合: the negation before 符合 still fails it.
        let narrow = Vocabulary { fail: vec!["不合格".to_string()], ..Vocabulary::default() };
        let narrow = VocabularyIndex::new(&narrow);
        assert_eq!(narrow.verdict("经抽样检验，铅项目不符合要求"), Ok(Some(Verdict::Fail)));
        assert_eq!(narrow.verdict("所检项目均符合要求"), Ok(Some(Verdict::Pass)));
        assert_eq!(v.stage("流通环节"), Some(Stage::Distribution));
        assert_eq!(parse_method("胶体金试纸条"), Some(Method::Screening));
        assert_eq!(parse_method("GB/T 22286-2008 液相色谱-串联质谱法"), Some(Method::Confirmation));
    }
}

/// Properties of the cell parsers over generated input: no panic on any text, and what they
/// accept reads back as written.
#[cfg(test)]
mod properties {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;

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
