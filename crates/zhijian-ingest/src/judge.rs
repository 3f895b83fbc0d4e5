//! Verdicts on results and samples. Pure functions of values.

use zhijian_model::{Method, Verdict};

use crate::parse::{ParsedResult, Qualitative};

/// The limit a result is judged against, in the result's canonical unit.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EffectiveLimit {
    /// Lowest allowed value.
    pub min: Option<f64>,
    /// The minimum itself is not allowed (`>x`).
    pub min_strict: bool,
    /// Highest allowed value.
    pub max: Option<f64>,
    /// The maximum itself is not allowed (`<x`).
    pub max_strict: bool,
    /// Must not be detected: by the record, the category's limit, or the analyte.
    pub banned: bool,
    /// For banned substances: a detection below it does not count. `None`: any detection.
    pub decision_limit: Option<f64>,
}

impl EffectiveLimit {
    /// Whether there is anything to judge against.
    pub fn is_empty(&self) -> bool {
        self.min.is_none() && self.max.is_none() && !self.banned
    }
}

/// Judges one result. `None` means there was nothing to judge against (no limit, not banned,
/// not a pass/fail word): the caller flags `limit_missing` and the verdict is pending.
///
/// A screening positive is pending: only a confirmation makes it fail.
pub fn judge_result(result: ParsedResult, limit: &EffectiveLimit, method: Option<Method>) -> Option<Verdict> {
    let detected = |verdict_if_confirmed: Verdict| {
        if verdict_if_confirmed == Verdict::Fail && method == Some(Method::Screening) {
            Verdict::Pending
        } else {
            verdict_if_confirmed
        }
    };
    match result {
        ParsedResult::Qualitative(Qualitative::Pass) => Some(Verdict::Pass),
        ParsedResult::Qualitative(Qualitative::Fail) => Some(detected(Verdict::Fail)),
        ParsedResult::Qualitative(Qualitative::Negative) => Some(Verdict::Pass),
        ParsedResult::Qualitative(Qualitative::Positive) => {
            if limit.banned {
                Some(detected(Verdict::Fail))
            } else if limit.min.is_some() {
                // Something was required and found.
                Some(Verdict::Pass)
            } else {
                None
            }
        }
        // Not detected is below any positive minimum, and exceeds nothing.
        ParsedResult::NotDetected(_) => Some(if limit.min.is_some() { Verdict::Fail } else { Verdict::Pass }),
        ParsedResult::BelowLoq(loq) => {
            if let Some(min) = limit.min {
                // The value is below the LOQ; if the LOQ is at or below the minimum, below it too.
                return Some(if loq <= min { Verdict::Fail } else { Verdict::Pending });
            }
            if limit.banned {
                // Below quantification: not a confirmed detection above the decision limit.
                return Some(Verdict::Pass);
            }
            match limit.max {
                Some(max) if loq > max => Some(Verdict::Pending),
                Some(_) => Some(Verdict::Pass),
                None => Some(Verdict::Pass),
            }
        }
        ParsedResult::Value(value) => {
            if limit.banned {
                let counts = limit.decision_limit.is_none_or(|d| value >= d);
                return Some(if value > 0.0 && counts { detected(Verdict::Fail) } else { Verdict::Pass });
            }
            if limit.is_empty() {
                return None;
            }
            let above = limit.max.is_some_and(|max| if limit.max_strict { value >= max } else { value > max });
            let below = limit.min.is_some_and(|min| if limit.min_strict { value <= min } else { value < min });
            Some(if above || below { detected(Verdict::Fail) } else { Verdict::Pass })
        }
    }
}

/// Judges a sample from its results' verdicts: it fails when any result fails; otherwise it
/// is pending when any result is pending or when some of its item rows were rejected
/// (`incomplete`); otherwise it passes.
pub fn judge_sample(results: impl IntoIterator<Item = Verdict>, incomplete: bool) -> Verdict {
    let mut pending = incomplete;
    for verdict in results {
        match verdict {
            Verdict::Fail => return Verdict::Fail,
            Verdict::Pending => pending = true,
            Verdict::Pass => {}
        }
    }
    if pending { Verdict::Pending } else { Verdict::Pass }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max(m: f64) -> EffectiveLimit {
        EffectiveLimit { max: Some(m), ..Default::default() }
    }
    fn min(m: f64) -> EffectiveLimit {
        EffectiveLimit { min: Some(m), ..Default::default() }
    }
    fn banned() -> EffectiveLimit {
        EffectiveLimit { banned: true, ..Default::default() }
    }
    use crate::parse::Qualitative as Q;
    use ParsedResult::{BelowLoq, NotDetected, Value};

    #[test]
    fn values_against_ranges() {
        assert_eq!(judge_result(Value(0.2), &max(0.2), None), Some(Verdict::Pass), "at the limit passes");
        assert_eq!(judge_result(Value(0.21), &max(0.2), None), Some(Verdict::Fail));
        let strict = EffectiveLimit { max_strict: true, ..max(0.2) };
        assert_eq!(judge_result(Value(0.2), &strict, None), Some(Verdict::Fail));
        assert_eq!(judge_result(Value(2.9), &min(2.9), None), Some(Verdict::Pass));
        assert_eq!(judge_result(Value(2.8), &min(2.9), None), Some(Verdict::Fail));
        assert_eq!(judge_result(Value(1.0), &EffectiveLimit::default(), None), None);
    }

    #[test]
    fn non_detects_and_loq() {
        assert_eq!(judge_result(NotDetected(None), &max(0.2), None), Some(Verdict::Pass));
        assert_eq!(judge_result(NotDetected(None), &min(2.9), None), Some(Verdict::Fail));
        assert_eq!(judge_result(BelowLoq(0.01), &max(0.2), None), Some(Verdict::Pass));
        assert_eq!(judge_result(BelowLoq(0.5), &max(0.2), None), Some(Verdict::Pending));
        assert_eq!(judge_result(BelowLoq(0.1), &min(0.4), None), Some(Verdict::Fail));
    }

    #[test]
    fn banned_substances_and_screening() {
        assert_eq!(judge_result(Value(0.8), &banned(), None), Some(Verdict::Fail));
        assert_eq!(judge_result(Value(0.8), &banned(), Some(Method::Screening)), Some(Verdict::Pending));
        assert_eq!(judge_result(Value(0.8), &banned(), Some(Method::Confirmation)), Some(Verdict::Fail));
        let with_decision = EffectiveLimit { decision_limit: Some(1.0), ..banned() };
        assert_eq!(judge_result(Value(0.8), &with_decision, None), Some(Verdict::Pass));
        assert_eq!(judge_result(ParsedResult::Qualitative(Q::Positive), &banned(), None), Some(Verdict::Fail));
        assert_eq!(
            judge_result(ParsedResult::Qualitative(Q::Positive), &banned(), Some(Method::Screening)),
            Some(Verdict::Pending)
        );
        assert_eq!(judge_result(ParsedResult::Qualitative(Q::Negative), &banned(), None), Some(Verdict::Pass));
        assert_eq!(judge_result(NotDetected(None), &banned(), None), Some(Verdict::Pass));
    }

    #[test]
    fn samples_fail_on_any_failure_and_wait_on_any_doubt() {
        use Verdict::*;
        assert_eq!(judge_sample([Pass, Pass], false), Pass);
        assert_eq!(judge_sample([Pass, Fail, Pending], false), Fail);
        assert_eq!(judge_sample([Pass, Pending], false), Pending);
        assert_eq!(judge_sample([Pass], true), Pending);
        assert_eq!(judge_sample([Fail], true), Fail);
    }
}
