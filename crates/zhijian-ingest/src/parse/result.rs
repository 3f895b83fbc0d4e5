//! Result cells: a number, a below-LOQ or not-detected reading, or a qualitative word, with
//! the limits of detection and quantification and the uncertainty written beside it.

use zhijian_seeds::normalise_key;

use super::number::parse_number;
use super::vocabulary::{ResultWord, VocabularyIndex};

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

impl VocabularyIndex {
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
}

fn strip_less_than(key: &str) -> Option<&str> {
    // `﹤` is the small form CJK fonts offer beside `<` and the full-width `＜` (folded already).
    ["<", "﹤", "小于", "低于"].iter().find_map(|p| key.strip_prefix(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhijian_pipeline::Vocabulary;

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
}
