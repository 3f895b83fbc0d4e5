//! Small closed vocabularies. Each enum is written to Parquet as its lowercase snake_case code
//! (`as_str`) and parsed back with `FromStr`.

use std::fmt;
use std::str::FromStr;

/// An unknown code given to one of the enums' `FromStr`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`, expected one of: {expected}")]
pub struct ParseEnumError {
    /// The enum's name, e.g. `verdict`.
    pub kind: &'static str,
    /// The text that did not match.
    pub value: String,
    /// The accepted codes, comma separated.
    pub expected: String,
}

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code written to tables and accepted in pipeline files.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                code.parse().map_err(serde::de::Error::custom)
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(ParseEnumError {
                        kind: $kind,
                        value: s.to_string(),
                        expected: [$($code),+].join(", "),
                    }),
                }
            }
        }
    };
}

code_enum! {
    /// The plan's measurable programmes (DOMAIN.md, first table).
    Programme, "programme" {
        /// Food sampling and risk monitoring (plan item 15), counted in batches.
        Food => "food",
        /// Agricultural products sampling and risk monitoring (item 16), in batches.
        AgriProducts => "agri_products",
        /// Livestock monitoring: lean-meat agents, raw meat and milk, feed, veterinary drugs
        /// (item 16), counted in tests.
        Livestock => "livestock",
        /// Agricultural inputs spot checks: fertiliser, pesticide, seed, farm machinery (item 16).
        AgriInputs => "agri_inputs",
        /// Consumer product risk monitoring: children's products, household appliances (item 15).
        ConsumerProducts => "consumer_products",
        /// Net-content checks of pre-packaged goods (item 19).
        NetContent => "net_content",
    }
}

code_enum! {
    /// The verdict on a result or a sample.
    Verdict, "verdict" {
        /// Within its limits.
        Pass => "pass",
        /// Outside its limits, or a banned substance detected.
        Fail => "fail",
        /// Not decidable yet: an unconfirmed screening positive, a missing limit, or a sample
        /// some of whose item rows were rejected. Pending samples are not in pass-rate
        /// denominators.
        Pending => "pending",
        /// The source does not judge (risk monitoring writes `/`, `——`, 不作判定) and no limit
        /// judges its values: tested, but not in pass-rate denominators. A sample verdict and a
        /// reported verdict; a result's own verdict is never this.
        NotJudged => "not_judged",
    }
}

code_enum! {
    /// A result's evaluation with its measurement uncertainty (EFSA's evaluation codes), beside
    /// the verdict, which judges the measured value as GB practice does.
    Evaluation, "evaluation" {
        /// Within its limits (the verdict passes).
        Compliant => "compliant",
        /// Outside a limit on its measured value, but within it once the expanded uncertainty
        /// is allowed for: above a maximum with value − U ≤ max, or below a minimum with
        /// value + U ≥ min. The verdict fails; after uncertainty the result is compliant.
        AboveLimit => "above_limit",
        /// Outside a limit beyond its uncertainty, a banned substance detected, or a failure
        /// without a number to allow for.
        NonCompliantAfterUncertainty => "non_compliant_after_uncertainty",
        /// Not evaluated: the verdict is pending.
        NotEvaluated => "not_evaluated",
    }
}

impl Evaluation {
    /// The verdict after uncertainty: a result only `above_limit` passes.
    pub fn verdict(self) -> Verdict {
        match self {
            Evaluation::Compliant | Evaluation::AboveLimit => Verdict::Pass,
            Evaluation::NonCompliantAfterUncertainty => Verdict::Fail,
            Evaluation::NotEvaluated => Verdict::Pending,
        }
    }
}

code_enum! {
    /// How a result was written (after EFSA SSD2's VAL / LOQ / LOD / BIN).
    ResultType, "result type" {
        /// A measured number.
        Value => "value",
        /// Below the limit of quantification (`<0.01`).
        BelowLoq => "below_loq",
        /// Not detected (`未检出`, `ND`); never written as 0.
        NotDetected => "not_detected",
        /// A qualitative answer: positive/negative or pass/fail without a number.
        Qualitative => "qualitative",
    }
}

code_enum! {
    /// The link of the food chain where the sample was taken (抽样环节).
    Stage, "stage" {
        /// 生产.
        Production => "production",
        /// 流通.
        Distribution => "distribution",
        /// 餐饮.
        Catering => "catering",
        /// 网购.
        Online => "online",
    }
}

code_enum! {
    /// The kind of test method, where the source says.
    Method, "method" {
        /// A screening method (test strip, ELISA); a positive needs confirmation.
        Screening => "screening",
        /// A confirmatory method (e.g. LC-MS/MS, GB/T 22286).
        Confirmation => "confirmation",
    }
}

code_enum! {
    /// How serious a validation finding is.
    Severity, "severity" {
        /// The row goes to `rejects`.
        Error => "error",
        /// The row is kept and flagged.
        Warning => "warning",
        /// The row goes to `rejects` although nothing is wrong with it: a later delivery of
        /// the same sample replaced it.
        Info => "info",
    }
}

code_enum! {
    /// The area levels of the pass-rate cube. Every level partitions the province: the areas of
    /// one level add up to the province.
    AreaLevel, "area level" {
        /// The whole province.
        Province => "province",
        /// The 18 city-level units, each with its directly administered counties counted
        /// inside it (the geographic view).
        City => "city",
        /// The units that report to the province: the 18 city-level units without their
        /// directly administered counties, plus those ten counties on their own.
        ReportingUnit => "reporting_unit",
        /// County-level units (districts, counties, county-level cities).
        County => "county",
    }
}

code_enum! {
    /// The length of a pass-rate period.
    PeriodType, "period type" {
        /// A calendar month, written `2013-07`.
        Month => "month",
        /// A calendar quarter, written `2013-Q3`.
        Quarter => "quarter",
        /// A calendar year, written `2013`.
        Year => "year",
    }
}

code_enum! {
    /// What a target counts.
    TargetUnit, "target unit" {
        /// Samples (batches, 批次).
        Samples => "samples",
        /// Tests: one per sample × test item (the livestock programme's 样品…万次).
        Tests => "tests",
        /// Kinds of goods covered (net-content checks).
        Kinds => "kinds",
    }
}

code_enum! {
    /// Where an area stands against its year's target (`attainment.status`).
    AttainmentStatus, "attainment status" {
        /// achieved ≥ target.
        Met => "met",
        /// achieved ≥ the pro-rata share due by the as-of date.
        OnTrack => "on_track",
        /// Below the pro-rata share.
        Behind => "behind",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for v in Verdict::ALL {
            assert_eq!(v.as_str().parse::<Verdict>(), Ok(*v));
        }
        for p in Programme::ALL {
            assert_eq!(p.as_str().parse::<Programme>(), Ok(*p));
        }
        for l in AreaLevel::ALL {
            assert_eq!(l.as_str().parse::<AreaLevel>(), Ok(*l));
        }
    }

    #[test]
    fn unknown_code_lists_the_expected_ones() {
        let err = "passed".parse::<Verdict>().unwrap_err();
        assert_eq!(err.to_string(), "unknown verdict `passed`, expected one of: pass, fail, pending, not_judged");
    }
}
