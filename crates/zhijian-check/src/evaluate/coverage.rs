//! `coverage` checks: cities with samples (`of = "cities"`), or kinds of goods
//! (`of = "kinds"`), in the period containing the as-of date.

use zhijian_model::checks::{CheckSpec, CoverageOf};
use zhijian_model::tables::PassRateRow;
use zhijian_model::{AreaLevel, PeriodType, Programme};

use super::{Loaded, outcome, period_label, scope_label};
use crate::{CheckContext, CheckError, Outcome};

/// One outcome for the programme, with the cities that did not report as its failures.
pub(super) fn evaluate(
    spec: &CheckSpec,
    context: &CheckContext<'_>,
    loaded: &mut Loaded,
    programme: &Programme,
    of: &CoverageOf,
    period: &PeriodType,
    min_samples: &u64,
) -> Result<Vec<Outcome>, CheckError> {
    let as_of = context.as_of;
    let cells = loaded.cells(context)?;
    let label = period_label(*period, as_of);
    let in_period = |c: &&PassRateRow| c.period == label && c.programme == programme.as_str();
    let (observed, message, missing) = match of {
        CoverageOf::Cities => {
            let reporting: Vec<&str> = cells
                .iter()
                .filter(in_period)
                .filter(|c| c.area_level == AreaLevel::City && c.category == "all" && c.tested >= *min_samples)
                .map(|c| c.area_code.as_str())
                .collect();
            let missing: Vec<String> = context
                .cities
                .iter()
                .filter(|(code, _)| !reporting.contains(&code.as_str()))
                .map(|(code, name)| scope_label(code, name))
                .collect();
            let n = context.cities.len() - missing.len();
            (
                n as f64,
                format!(
                    "{n} of {} cities reported {programme} samples in {label} (at least {min_samples} each)",
                    context.cities.len()
                ),
                missing,
            )
        }
        CoverageOf::Kinds => {
            let mut kinds: Vec<String> = cells
                .iter()
                .filter(in_period)
                .filter(|c| {
                    c.area_level == AreaLevel::Province
                        && c.category != "all"
                        && c.category != "unclassified"
                        && c.tested >= *min_samples
                })
                .map(|c| c.category.clone())
                .collect();
            kinds.sort();
            kinds.dedup();
            (
                kinds.len() as f64,
                format!("{} kind(s) of goods covered in {label}: {}", kinds.len(), kinds.join("、")),
                Vec::new(),
            )
        }
    };
    let mut o = outcome(spec, programme.as_str().to_string(), Some(observed), message);
    if !missing.is_empty() {
        o.message.push_str(&format!("; missing: {}", missing.join(", ")));
    }
    o.failures = missing;
    Ok(vec![o])
}
