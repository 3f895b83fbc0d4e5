//! Target attainment: achieved against the pro-rata share of the year's target.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use zhijian_model::TargetUnit;

use crate::cube::{Achieved, AchievedKey};

/// The target, the row and its status: typed with the table, in the model.
pub use zhijian_model::AttainmentStatus as Status;
pub use zhijian_model::tables::{AttainmentRow, TargetSpec};

/// The share of `year` elapsed on `as_of`, counting `as_of` itself: 0 before the year, 1 after.
pub(crate) fn elapsed_share(year: i32, as_of: NaiveDate) -> f64 {
    if as_of.year() < year {
        return 0.0;
    }
    if as_of.year() > year {
        return 1.0;
    }
    let days_in_year = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() { 366.0 } else { 365.0 };
    f64::from(as_of.ordinal()) / days_in_year
}

/// Attainment of every target, in the order given.
pub fn attainment(
    targets: &[TargetSpec],
    achieved: &BTreeMap<AchievedKey, Achieved>,
    as_of: NaiveDate,
) -> Vec<AttainmentRow> {
    let empty = Achieved::default();
    targets
        .iter()
        .map(|target| {
            let key = (target.year, target.programme.clone(), target.area_level, target.area_code.clone());
            let got = achieved.get(&key).unwrap_or(&empty);
            let achieved = match target.unit {
                TargetUnit::Samples => got.samples,
                TargetUnit::Tests => got.tests,
                TargetUnit::Kinds => got.kinds.len() as u64,
            } as i64;
            let expected = target.target as f64 * elapsed_share(target.year, as_of);
            let status = if achieved >= target.target {
                Status::Met
            } else if achieved as f64 >= expected {
                Status::OnTrack
            } else {
                Status::Behind
            };
            AttainmentRow {
                achieved,
                as_of,
                expected,
                ratio: (expected > 0.0).then(|| achieved as f64 / expected),
                completion: (target.target > 0).then(|| achieved as f64 / target.target as f64),
                status,
                target: target.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use zhijian_model::AreaLevel;

    use super::*;

    fn spec(target: i64, unit: TargetUnit) -> TargetSpec {
        TargetSpec {
            year: 2013,
            programme: "food".into(),
            area_level: AreaLevel::Province,
            area_code: "410000".into(),
            area_name: "河南省".into(),
            target,
            unit,
            illustrative: false,
            basis: String::new(),
        }
    }

    #[test]
    fn pro_rata_by_elapsed_days() {
        let as_of = NaiveDate::from_ymd_opt(2013, 9, 30).unwrap();
        // 2013-09-30 is day 273 of 365.
        assert!((elapsed_share(2013, as_of) - 273.0 / 365.0).abs() < 1e-12);
        assert_eq!(elapsed_share(2014, as_of), 0.0);
        assert_eq!(elapsed_share(2012, as_of), 1.0);
        let mut achieved = BTreeMap::new();
        achieved.insert(
            (2013, "food".to_string(), AreaLevel::Province, "410000".to_string()),
            Achieved { samples: 300, tests: 1000, kinds: ["乳制品", "饮料"].map(String::from).into() },
        );
        let rows = attainment(
            &[
                spec(365, TargetUnit::Samples),
                spec(400, TargetUnit::Samples),
                spec(1000, TargetUnit::Tests),
                spec(10, TargetUnit::Kinds),
            ],
            &achieved,
            as_of,
        );
        // 365 × 273/365 = 273 expected; 300 ≥ 273: on track.
        assert_eq!((rows[0].expected, rows[0].status), (273.0, Status::OnTrack));
        assert!((rows[0].ratio.unwrap() - 300.0 / 273.0).abs() < 1e-12);
        // 400 × 273/365 = 299.18…; 300 ≥ it: on track, just.
        assert_eq!(rows[1].status, Status::OnTrack);
        assert_eq!((rows[2].achieved, rows[2].status), (1000, Status::Met));
        assert_eq!((rows[3].achieved, rows[3].status), (2, Status::Behind));
    }
}
