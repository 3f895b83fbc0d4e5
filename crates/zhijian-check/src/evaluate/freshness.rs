//! `freshness` checks: days from the newest sampling date to the as-of date.

use zhijian_model::Programme;
use zhijian_model::checks::CheckSpec;

use super::{Loaded, outcome};
use crate::{CheckContext, CheckError, Outcome, Status};

/// One outcome, for the programme or for all programmes; a failure when there are no samples.
pub(super) fn evaluate(
    spec: &CheckSpec,
    context: &CheckContext<'_>,
    loaded: &mut Loaded,
    programme: &Option<Programme>,
) -> Result<Vec<Outcome>, CheckError> {
    let as_of = context.as_of;
    let newest = loaded
        .samples(context)?
        .iter()
        .filter(|s| programme.is_none_or(|p| s.programme == p.as_str()))
        .filter_map(|s| s.sampling_date)
        .max();
    let scope = programme.map_or_else(|| "all programmes".to_string(), |p| p.as_str().to_string());
    Ok(vec![match newest {
        Some(newest) => {
            let days = (as_of - newest).num_days();
            outcome(
                spec,
                scope,
                Some(days as f64),
                format!("newest sampling date {newest}, {days} day(s) before the as-of date {as_of}"),
            )
        }
        None => {
            let mut o = outcome(spec, scope, None, "no samples at all".to_string());
            o.status = Status::Fail;
            o
        }
    }])
}
