//! Verdicts on results and samples. Pure functions of values.
//!
//! Judging takes numbers in the analyte's canonical unit only: a [`Reading`] of
//! [`Canonical`] numbers against an [`EffectiveLimit`] of `Canonical` bounds. A number as
//! written (`f64` in a [`ParsedResult`](crate::parse::ParsedResult)) does not type-check here,
//! so a result in `μg/kg` cannot be compared with a limit converted to `mg/kg`.

use zhijian_model::{Evaluation, Method, Verdict};
use zhijian_seeds::Canonical;

use crate::parse::{Qualitative, Reading};

/// The limit a result is judged against, in the result's canonical unit.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EffectiveLimit {
    /// Lowest allowed value.
    pub min: Option<Canonical>,
    /// The minimum itself is not allowed (`>x`).
    pub min_strict: bool,
    /// Highest allowed value.
    pub max: Option<Canonical>,
    /// The maximum itself is not allowed (`<x`).
    pub max_strict: bool,
    /// Must not be detected: by the record, the category's limit, or the analyte.
    pub banned: bool,
    /// For banned substances: a detection below it does not count. `None`: any detection.
    pub decision_limit: Option<Canonical>,
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
pub fn judge_result(result: Reading<Canonical>, limit: &EffectiveLimit, method: Option<Method>) -> Option<Verdict> {
    let detected = |verdict_if_confirmed: Verdict| {
        if verdict_if_confirmed == Verdict::Fail && method == Some(Method::Screening) {
            Verdict::Pending
        } else {
            verdict_if_confirmed
        }
    };
    match result {
        Reading::Qualitative(Qualitative::Pass) => Some(Verdict::Pass),
        Reading::Qualitative(Qualitative::Fail) => Some(detected(Verdict::Fail)),
        Reading::Qualitative(Qualitative::Negative) => Some(Verdict::Pass),
        Reading::Qualitative(Qualitative::Positive) => {
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
        Reading::NotDetected(_) => Some(if limit.min.is_some() { Verdict::Fail } else { Verdict::Pass }),
        Reading::BelowLoq(loq) => {
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
        Reading::Value(value) => {
            if limit.banned {
                let counts = limit.decision_limit.is_none_or(|d| value >= d);
                return Some(if value.get() > 0.0 && counts { detected(Verdict::Fail) } else { Verdict::Pass });
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

/// The evaluation with measurement uncertainty beside a result's `verdict`: a value outside a
/// bound fails its verdict, and is non-compliant after uncertainty only when it lies outside by
/// more than its expanded uncertainty `uncertainty` (none: by any amount). Failures without a
/// number to allow for (a banned substance detected, a qualitative fail, a non-detect below a
/// minimum) are non-compliant; a pending verdict is not evaluated.
pub fn evaluate(
    result: Reading<Canonical>,
    limit: &EffectiveLimit,
    verdict: Verdict,
    uncertainty: Option<Canonical>,
) -> Evaluation {
    match (verdict, result) {
        (Verdict::Pass, _) => Evaluation::Compliant,
        (Verdict::Pending | Verdict::NotJudged, _) => Evaluation::NotEvaluated,
        (Verdict::Fail, Reading::Value(value)) if !limit.banned => {
            let (low, high) = match uncertainty {
                Some(u) => (value.minus(u), value.plus(u)),
                None => (value, value),
            };
            let above = limit.max.is_some_and(|max| if limit.max_strict { low >= max } else { low > max });
            let below = limit.min.is_some_and(|min| if limit.min_strict { high <= min } else { high < min });
            if above || below { Evaluation::NonCompliantAfterUncertainty } else { Evaluation::AboveLimit }
        }
        (Verdict::Fail, _) => Evaluation::NonCompliantAfterUncertainty,
    }
}

/// `value / limit_max`, from the same canonical numbers the verdict compares; `None` without a
/// value or a positive maximum.
pub fn exceedance(result: Reading<Canonical>, limit: &EffectiveLimit) -> Option<f64> {
    match (result, limit.max) {
        (Reading::Value(v), Some(max)) if max.get() > 0.0 => Some(v.get() / max.get()),
        _ => None,
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
            Verdict::Pending | Verdict::NotJudged => pending = true,
            Verdict::Pass => {}
        }
    }
    if pending { Verdict::Pending } else { Verdict::Pass }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhijian_seeds::{Quantity, Unit};

    /// A number in the test's one unit, made canonical the only way there is: by conversion.
    fn c(v: f64) -> Canonical {
        let unit = Unit { symbol: "mg/kg".into(), dimension: "mass_fraction".into(), factor: 1.0 };
        Quantity::new(v, &unit).to_canonical(&unit).unwrap()
    }
    fn max(m: f64) -> EffectiveLimit {
        EffectiveLimit { max: Some(c(m)), ..Default::default() }
    }
    fn min(m: f64) -> EffectiveLimit {
        EffectiveLimit { min: Some(c(m)), ..Default::default() }
    }
    fn banned() -> EffectiveLimit {
        EffectiveLimit { banned: true, ..Default::default() }
    }
    fn value(v: f64) -> Reading<Canonical> {
        Reading::Value(c(v))
    }
    use crate::parse::Qualitative as Q;
    use Reading::{BelowLoq, NotDetected};

    #[test]
    fn values_against_ranges() {
        assert_eq!(judge_result(value(0.2), &max(0.2), None), Some(Verdict::Pass), "at the limit passes");
        assert_eq!(judge_result(value(0.21), &max(0.2), None), Some(Verdict::Fail));
        let strict = EffectiveLimit { max_strict: true, ..max(0.2) };
        assert_eq!(judge_result(value(0.2), &strict, None), Some(Verdict::Fail));
        assert_eq!(judge_result(value(2.9), &min(2.9), None), Some(Verdict::Pass));
        assert_eq!(judge_result(value(2.8), &min(2.9), None), Some(Verdict::Fail));
        assert_eq!(judge_result(value(1.0), &EffectiveLimit::default(), None), None);
        assert_eq!(exceedance(value(0.3), &max(0.2)), Some(0.3 / 0.2));
        assert_eq!(exceedance(BelowLoq(c(0.3)), &max(0.2)), None);
    }

    #[test]
    fn non_detects_and_loq() {
        assert_eq!(judge_result(NotDetected(None), &max(0.2), None), Some(Verdict::Pass));
        assert_eq!(judge_result(NotDetected(None), &min(2.9), None), Some(Verdict::Fail));
        assert_eq!(judge_result(BelowLoq(c(0.01)), &max(0.2), None), Some(Verdict::Pass));
        assert_eq!(judge_result(BelowLoq(c(0.5)), &max(0.2), None), Some(Verdict::Pending));
        assert_eq!(judge_result(BelowLoq(c(0.1)), &min(0.4), None), Some(Verdict::Fail));
    }

    #[test]
    fn banned_substances_and_screening() {
        assert_eq!(judge_result(value(0.8), &banned(), None), Some(Verdict::Fail));
        assert_eq!(judge_result(value(0.8), &banned(), Some(Method::Screening)), Some(Verdict::Pending));
        assert_eq!(judge_result(value(0.8), &banned(), Some(Method::Confirmation)), Some(Verdict::Fail));
        let with_decision = EffectiveLimit { decision_limit: Some(c(1.0)), ..banned() };
        assert_eq!(judge_result(value(0.8), &with_decision, None), Some(Verdict::Pass));
        assert_eq!(judge_result(Reading::Qualitative(Q::Positive), &banned(), None), Some(Verdict::Fail));
        assert_eq!(
            judge_result(Reading::Qualitative(Q::Positive), &banned(), Some(Method::Screening)),
            Some(Verdict::Pending)
        );
        assert_eq!(judge_result(Reading::Qualitative(Q::Negative), &banned(), None), Some(Verdict::Pass));
        assert_eq!(judge_result(NotDetected(None), &banned(), None), Some(Verdict::Pass));
    }

    #[test]
    fn evaluations_allow_for_the_uncertainty() {
        use Evaluation::*;
        let judged = |v: f64, limit: &EffectiveLimit, u: Option<f64>| {
            let verdict = judge_result(value(v), limit, None).unwrap();
            evaluate(value(v), limit, verdict, u.map(c))
        };
        // Chlorpyrifos 0.15 against ≤0.1 with ±50% (0.075): 0.075 ≤ 0.1, compliant after it.
        assert_eq!(judged(0.15, &max(0.1), Some(0.075)), AboveLimit);
        assert_eq!(judged(0.25, &max(0.1), Some(0.125)), NonCompliantAfterUncertainty);
        assert_eq!(judged(0.15, &max(0.1), None), NonCompliantAfterUncertainty);
        assert_eq!(judged(0.08, &max(0.1), Some(0.04)), Compliant);
        assert_eq!(judged(2.5, &min(2.9), Some(0.5)), AboveLimit);
        assert_eq!(judged(2.3, &min(2.9), Some(0.5)), NonCompliantAfterUncertainty);
        let strict = EffectiveLimit { max_strict: true, ..max(0.1) };
        assert_eq!(judged(0.15, &strict, Some(0.05)), NonCompliantAfterUncertainty, "reaches a strict maximum");
        assert_eq!(evaluate(value(0.8), &banned(), Verdict::Fail, Some(c(0.5))), NonCompliantAfterUncertainty);
        assert_eq!(evaluate(value(0.8), &banned(), Verdict::Pending, None), NotEvaluated);
        assert_eq!(AboveLimit.verdict(), Verdict::Pass);
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

/// Properties of judging over generated values and limits.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use zhijian_seeds::{Quantity, Seeds, Unit};

    fn seeds() -> &'static Seeds {
        static SEEDS: std::sync::OnceLock<Seeds> = std::sync::OnceLock::new();
        #[allow(clippy::expect_used)]
        SEEDS.get_or_init(|| Seeds::load(std::path::Path::new("../../seeds")).expect("the bundled seeds load"))
    }

    fn unit(symbol: &str) -> &'static Unit {
        #[allow(clippy::expect_used)]
        seeds().units.resolve(symbol).expect("a unit of seeds/units.csv")
    }

    fn canonical(value: f64, written_in: &str, canonical: &str) -> Canonical {
        #[allow(clippy::expect_used)]
        Quantity::new(value, unit(written_in)).to_canonical(unit(canonical)).expect("one dimension")
    }

    /// Worse verdicts rank higher: a larger value must never rank lower against a maximum.
    fn rank(verdict: Option<Verdict>) -> u8 {
        match verdict {
            Some(Verdict::Pass) => 0,
            None | Some(Verdict::Pending | Verdict::NotJudged) => 1,
            Some(Verdict::Fail) => 2,
        }
    }

    /// Pairs of units of one dimension with the power of ten between them, as sources write
    /// results and limits.
    const SAME_DIMENSION: &[(&str, &str, i32)] = &[
        ("mg/kg", "μg/kg", 3),
        ("mg/kg", "ug/kg", 3),
        ("μg/kg", "ng/g", 0),
        ("g/kg", "mg/kg", 3),
        ("g/100g", "mg/kg", 4),
        ("%", "g/100g", 0),
        ("mg/L", "μg/L", 3),
        ("g/L", "mg/L", 3),
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn a_larger_value_never_improves_a_verdict(a in 0.0f64..1e6, b in 0.0f64..1e6, max in 0.0f64..1e6, strict: bool, screening: bool) {
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            let limit = EffectiveLimit { max: Some(canonical(max, "mg/kg", "mg/kg")), max_strict: strict, ..Default::default() };
            let method = screening.then_some(Method::Screening);
            let judge = |v: f64| judge_result(Reading::Value(canonical(v, "mg/kg", "mg/kg")), &limit, method);
            prop_assert!(rank(judge(low)) <= rank(judge(high)), "{low} → {:?}, {high} → {:?} against ≤{max}", judge(low), judge(high));
            // And against a minimum, a smaller value never improves it.
            let floor = EffectiveLimit { min: Some(canonical(max, "mg/kg", "mg/kg")), ..Default::default() };
            let judge_min = |v: f64| judge_result(Reading::Value(canonical(v, "mg/kg", "mg/kg")), &floor, None);
            prop_assert!(rank(judge_min(high)) <= rank(judge_min(low)));
            // Above a maximum exactly when the verdict fails, and exceedance says so.
            if !screening && max > 0.0 {
                let e = exceedance(Reading::Value(canonical(high, "mg/kg", "mg/kg")), &limit);
                let fails = judge(high) == Some(Verdict::Fail);
                prop_assert_eq!(fails, if strict { high >= max } else { high > max });
                prop_assert_eq!(e.is_some_and(|e| e > 1.0), high > max);
            }
        }

        /// The relation that once broke a quarter of an export's verdicts: the same result and
        /// limit written in other units of one dimension are judged alike.
        #[test]
        fn the_unit_a_number_is_written_in_never_moves_its_verdict(
            mantissa in 1u64..100_000,
            exponent in -6i32..=3,
            limit_mantissa in 1u64..100_000,
            limit_exponent in -6i32..=3,
            pair in prop::sample::select(SAME_DIMENSION),
            result_in_second: bool,
            limit_in_second: bool,
            kind in 0u8..3,
        ) {
            let (first, second, shift) = pair;
            // Decimal texts, shifted exactly by the power of ten between the units.
            let text = |m: u64, e: i32| format!("{m}e{e}");
            let written = |m: u64, e: i32, in_second: bool| {
                let (unit, e) = if in_second { (second, e + shift) } else { (first, e) };
                #[allow(clippy::expect_used)]
                (crate::parse::parse_number(&text(m, e)).expect("a number"), unit)
            };
            let to_canonical = |(v, u): (f64, &str)| canonical(v, u, first);
            let limit_of = |in_second: bool| EffectiveLimit {
                max: Some(to_canonical(written(limit_mantissa, limit_exponent, in_second))),
                ..Default::default()
            };
            let reading_of = |in_second: bool| {
                let q = to_canonical(written(mantissa, exponent, in_second));
                match kind {
                    0 => Reading::Value(q),
                    1 => Reading::BelowLoq(q),
                    _ => Reading::NotDetected(Some(q)),
                }
            };
            let base = judge_result(reading_of(false), &limit_of(false), None);
            let moved = judge_result(reading_of(result_in_second), &limit_of(limit_in_second), None);
            prop_assert_eq!(base, moved);
            let (e, moved_e) = (
                exceedance(reading_of(false), &limit_of(false)),
                exceedance(reading_of(result_in_second), &limit_of(limit_in_second)),
            );
            prop_assert!(match (e, moved_e) {
                (Some(a), Some(b)) => (a - b).abs() <= a.abs() * 1e-9,
                (a, b) => a == b,
            }, "{e:?} ≠ {moved_e:?}");
        }

        #[test]
        fn conversion_round_trips(value in 0.0f64..1e9, pair in prop::sample::select(SAME_DIMENSION)) {
            let (first, second, _) = pair;
            let there = canonical(value, first, second).get();
            let back = canonical(there, second, first).get();
            prop_assert!((back - value).abs() <= value.abs() * 1e-11, "{value} {first} → {there} {second} → {back}");
        }
    }
}
