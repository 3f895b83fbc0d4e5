//! Sampling plans for net-content checks of pre-packaged goods (JJF 1070): for each sample
//! size, how many units may fall short by more than the allowed shortfall T, and the factor λ
//! of the mean's requirement `mean ≥ labelled − λ·s`.

use std::path::Path;

use serde::Deserialize;

use crate::SeedError;
use crate::read::{read_rows, row_error};

/// One sampling plan.
#[derive(Debug, Clone, PartialEq)]
pub struct NetContentPlan {
    /// Number of units measured.
    pub sample_size: u32,
    /// Units allowed to fall short by more than T (never by more than 2T).
    pub max_short_units: u32,
    /// Correction factor λ of the mean's requirement.
    pub lambda: f64,
    /// Where the figures come from.
    pub basis: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanRow {
    sample_size: u32,
    max_short_units: u32,
    lambda: f64,
    basis: String,
}

const FILE: &str = "net_content_plans.csv";

/// The plans by sample size.
#[derive(Debug, Clone, Default)]
pub struct NetContentPlans {
    plans: Vec<NetContentPlan>,
}

impl NetContentPlans {
    pub(crate) fn load(dir: &Path, errors: &mut Vec<SeedError>) -> NetContentPlans {
        let mut plans: Vec<NetContentPlan> = Vec::new();
        for row in read_rows::<PlanRow>(dir, FILE, errors) {
            let r = row.value;
            if plans.iter().any(|p| p.sample_size == r.sample_size) {
                errors.push(row_error(dir, FILE, row.line, "sample_size", &r.sample_size.to_string(), "duplicate"));
                continue;
            }
            if r.sample_size == 0 || r.max_short_units >= r.sample_size || !r.lambda.is_finite() || r.lambda < 0.0 {
                errors.push(row_error(
                    dir,
                    FILE,
                    row.line,
                    "sample_size",
                    &r.sample_size.to_string(),
                    "expected sample_size ≥ 1, max_short_units < sample_size and lambda ≥ 0",
                ));
                continue;
            }
            plans.push(NetContentPlan {
                sample_size: r.sample_size,
                max_short_units: r.max_short_units,
                lambda: r.lambda,
                basis: r.basis,
            });
        }
        plans.sort_by_key(|p| p.sample_size);
        NetContentPlans { plans }
    }

    /// The plan for `sample_size` measured units, if the table has one.
    pub fn for_sample_size(&self, sample_size: usize) -> Option<&NetContentPlan> {
        self.plans.iter().find(|p| p.sample_size as usize == sample_size)
    }

    /// The sample sizes the table knows, ascending.
    pub fn sample_sizes(&self) -> impl Iterator<Item = u32> + '_ {
        self.plans.iter().map(|p| p.sample_size)
    }
}
