//! `pass_rate` checks: the pass rate (or its 95% Wilson lower bound) of the period containing
//! the as-of date, per area of the scope.

use zhijian_model::checks::{Bound, CheckSpec, Scope};
use zhijian_model::tables::PassRateRow;
use zhijian_model::{PeriodType, Programme};

use super::{Loaded, outcome, percent, period_label, scope_areas, scope_label};
use crate::{CheckContext, CheckError, Outcome};

/// One outcome per area of the scope (or one skip for a programme without samples).
// The variant's six fields, as `evaluate_one` binds them, after the spec, context and tables.
#[allow(clippy::too_many_arguments)]
pub(super) fn evaluate(
    spec: &CheckSpec,
    context: &CheckContext<'_>,
    loaded: &mut Loaded,
    programme: &Programme,
    category: &str,
    scope: &Scope,
    period: &PeriodType,
    min_samples: &u64,
    bound: &Bound,
) -> Result<Vec<Outcome>, CheckError> {
    let as_of = context.as_of;
    let cells = loaded.cells(context)?;
    let label = period_label(*period, as_of);
    let (level, areas) = scope_areas(scope, context);
    let matching: Vec<&PassRateRow> = cells
        .iter()
        .filter(|c| {
            c.period == label && c.area_level == level && c.programme == programme.as_str() && c.category == *category
        })
        .collect();
    let areas = areas.unwrap_or_else(|| matching.iter().map(|c| (c.area_code.clone(), c.area_name.clone())).collect());
    let mut out = Vec::new();
    for (code, name) in areas {
        let cell = matching.iter().find(|c| c.area_code == code);
        let name = cell.map_or(name, |c| c.area_name.clone());
        let scope = scope_label(&code, &name);
        let Some(cell) = cell else {
            out.push(outcome(spec, scope, None, format!("no {programme} samples in {label}")));
            continue;
        };
        let judged = cell.passed + cell.failed;
        if judged < *min_samples {
            out.push(outcome(
                spec,
                scope,
                None,
                format!("{judged} judged sample(s) in {label}, fewer than min_samples = {min_samples}"),
            ));
            continue;
        }
        let (observed, what) = match bound {
            Bound::Estimate => (cell.pass_rate(), "pass rate"),
            Bound::WilsonLow => (cell.wilson().map(|w| w.0), "95% lower bound of the pass rate"),
        };
        let message = match (observed, cell.pass_rate(), bound) {
            (Some(v), Some(_), Bound::Estimate) => {
                format!("{what} {} in {label}: {} of {judged} judged samples passed", percent(v), cell.passed)
            }
            (Some(v), Some(rate), Bound::WilsonLow) => format!(
                "{what} {} in {label}: {} of {judged} judged samples passed (pass rate {})",
                percent(v),
                cell.passed,
                percent(rate)
            ),
            _ => format!("no judged samples in {label}"),
        };
        out.push(outcome(spec, scope, observed, message));
    }
    if out.is_empty() {
        // A programme without a single sample skips, visibly, rather than vanish.
        out.push(outcome(spec, level.as_str().to_string(), None, format!("no {programme} samples in {label}")));
    }
    Ok(out)
}
