//! `verdict_conflicts` checks: samples whose reported verdict contradicts their values
//! (`measure` = count or rate).

use zhijian_model::Programme;
use zhijian_model::checks::{CheckSpec, ConflictMeasure};

use super::{Loaded, outcome};
use crate::{CheckContext, CheckError, Outcome};

/// One outcome, for the programme or for all programmes.
pub(super) fn evaluate(
    spec: &CheckSpec,
    context: &CheckContext<'_>,
    loaded: &mut Loaded,
    programme: &Option<Programme>,
    measure: &ConflictMeasure,
) -> Result<Vec<Outcome>, CheckError> {
    let samples: Vec<_> =
        loaded.samples(context)?.iter().filter(|s| programme.is_none_or(|p| s.programme == p.as_str())).collect();
    let conflicts = samples.iter().filter(|s| s.verdict_conflict).count();
    let scope = programme.map_or_else(|| "all programmes".to_string(), |p| p.as_str().to_string());
    let message =
        format!("{conflicts} of {} samples have a reported verdict that disagrees with their values", samples.len());
    let observed = match measure {
        ConflictMeasure::Count => Some(conflicts as f64),
        ConflictMeasure::Rate => (!samples.is_empty()).then(|| conflicts as f64 / samples.len() as f64),
    };
    Ok(vec![outcome(spec, scope, observed, message)])
}
