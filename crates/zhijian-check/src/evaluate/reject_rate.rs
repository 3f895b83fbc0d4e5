//! `reject_rate` checks: rejected / read rows, per source.

use zhijian_model::checks::CheckSpec;

use super::{outcome, percent};
use crate::tables;
use crate::{CheckContext, CheckError, Outcome, definition_error};

/// One outcome per source (the given ones, or every source); an error for an unknown source.
pub(super) fn evaluate(
    spec: &CheckSpec,
    context: &CheckContext<'_>,
    sources: &[String],
) -> Result<Vec<Outcome>, CheckError> {
    let facts = tables::sources(&context.output)?;
    for wanted in sources {
        if !facts.iter().any(|f| &f.source == wanted) {
            return Err(definition_error(spec, format!("no source `{wanted}` in the run's manifest")));
        }
    }
    Ok(facts
        .iter()
        .filter(|f| sources.is_empty() || sources.contains(&f.source))
        .map(|f| {
            if f.rows_read == 0 {
                return outcome(spec, f.source.clone(), None, "no rows read".to_string());
            }
            let rate = f.rows_rejected as f64 / f.rows_read as f64;
            outcome(
                spec,
                f.source.clone(),
                Some(rate),
                format!("{} of {} rows rejected ({})", f.rows_rejected, f.rows_read, percent(rate)),
            )
        })
        .collect())
}
