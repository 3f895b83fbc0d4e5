//! `attainment` checks: achieved against the pro-rata share of the target (`measure = "ratio"`),
//! or the shortfall in samples or tests (`"shortfall"`), per area.

use zhijian_model::checks::{AttainmentMeasure, CheckSpec, Scope};
use zhijian_model::tables::AttainmentRow;
use zhijian_model::{AreaLevel, Programme};

use super::{Loaded, outcome, percent, scope_label};
use crate::{CheckContext, CheckError, Outcome, definition_error};

/// One outcome per area with a target; an error when the programme has none at the level.
pub(super) fn evaluate(
    spec: &CheckSpec,
    context: &CheckContext<'_>,
    loaded: &mut Loaded,
    programme: &Programme,
    scope: &Scope,
    measure: &AttainmentMeasure,
) -> Result<Vec<Outcome>, CheckError> {
    let as_of = context.as_of;
    let rows = loaded.attained(context)?;
    let (level, areas) = match scope {
        Scope::DirectlyAdministered => {
            (AreaLevel::ReportingUnit, Some(context.direct_counties.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>()))
        }
        Scope::Level(level) => (*level, None),
        Scope::Areas(level, codes) => (*level, Some(codes.clone())),
    };
    let matching: Vec<&AttainmentRow> = rows
        .iter()
        .filter(|r| r.target.programme == programme.as_str() && r.target.area_level == level)
        .filter(|r| areas.as_ref().is_none_or(|a| a.contains(&r.target.area_code)))
        .collect();
    if matching.is_empty() {
        return Err(definition_error(spec, format!("no {programme} target at level {level} (see seeds/targets.csv)")));
    }
    Ok(matching
        .into_iter()
        .map(|r| {
            let scope = scope_label(&r.target.area_code, &r.target.area_name);
            let status = format!(
                "{} {} achieved, {:.0} expected by {as_of} (target {})",
                r.achieved, r.target.unit, r.expected, r.target.target
            );
            match measure {
                AttainmentMeasure::Ratio if r.expected > 0.0 => {
                    let ratio = r.achieved as f64 / r.expected;
                    outcome(spec, scope, Some(ratio), format!("{} of the pro-rata share: {status}", percent(ratio)))
                }
                AttainmentMeasure::Ratio => outcome(spec, scope, None, format!("nothing expected yet: {status}")),
                AttainmentMeasure::Shortfall => {
                    let shortfall = r.expected - r.achieved as f64;
                    outcome(
                        spec,
                        scope,
                        Some(shortfall),
                        format!("{shortfall:.0} short of the pro-rata share: {status}"),
                    )
                }
            }
        })
        .collect())
}
