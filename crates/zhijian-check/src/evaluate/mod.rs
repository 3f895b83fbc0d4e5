//! From check definitions and published tables to outcomes.

mod attainment;
mod coverage;
mod freshness;
mod pass_rate;
mod reject_rate;
mod sql;
mod verdict_conflicts;

use chrono::{Datelike, NaiveDate};
use zhijian_model::checks::{CheckKind, CheckSpec, Scope};
use zhijian_model::{AreaLevel, Period, PeriodType};

use zhijian_model::tables::{AttainmentRow, PassRateRow};

use crate::tables;
use crate::{CheckContext, CheckError, Outcome, Status, severity, zone_status};

/// The label of the period containing `as_of`, as `pass_rates.period` writes it.
pub(crate) fn period_label(kind: PeriodType, as_of: NaiveDate) -> String {
    Period::containing(kind, as_of).label()
}

fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

struct Loaded {
    cells: Option<Vec<PassRateRow>>,
    attained: Option<Vec<AttainmentRow>>,
    samples: Option<Vec<tables::SampleFacts>>,
}

impl Loaded {
    /// The `pass_rates` cells, read at the first check that needs them.
    fn cells(&mut self, context: &CheckContext<'_>) -> Result<&[PassRateRow], CheckError> {
        if self.cells.is_none() {
            self.cells = Some(tables::pass_rates(&context.output)?);
        }
        Ok(self.cells.as_deref().unwrap_or_default())
    }

    /// The as-of year's `attainment` rows, read at the first check that needs them.
    fn attained(&mut self, context: &CheckContext<'_>) -> Result<&[AttainmentRow], CheckError> {
        if self.attained.is_none() {
            self.attained = Some(tables::attainment(&context.output, context.as_of.year())?);
        }
        Ok(self.attained.as_deref().unwrap_or_default())
    }

    /// What the checks read of `samples`, read at the first check that needs it.
    fn samples(&mut self, context: &CheckContext<'_>) -> Result<&[tables::SampleFacts], CheckError> {
        if self.samples.is_none() {
            self.samples = Some(tables::samples(&context.output)?);
        }
        Ok(self.samples.as_deref().unwrap_or_default())
    }
}

/// Evaluates every check, in order. Fails (exit code 2) when the outputs are missing or a
/// check cannot be evaluated as defined (a SQL error), and before reading anything when a
/// check needs a SQL engine the binary lacks and is not `optional`.
pub fn evaluate(specs: &[CheckSpec], context: &CheckContext<'_>) -> Result<Vec<Outcome>, CheckError> {
    crate::ensure_evaluable(specs, context.sql.is_some())?;
    let mut loaded = Loaded { cells: None, attained: None, samples: None };
    let mut out = Vec::new();
    for spec in specs {
        out.extend(evaluate_one(spec, context, &mut loaded)?);
    }
    Ok(out)
}

fn outcome(spec: &CheckSpec, scope: String, observed: Option<f64>, message: String) -> Outcome {
    let (status, severity) = match observed {
        Some(v) => (zone_status(v, &spec.zones), severity(v, &spec.zones)),
        None => (Status::Skip, 0.0),
    };
    Outcome {
        check: spec.name.clone(),
        kind: spec.kind.name(),
        description: spec.description.clone(),
        scope,
        status,
        observed,
        zones: spec.zones,
        message,
        failures: Vec::new(),
        severity,
        origin: spec.origin.clone(),
    }
}

/// The (code, name) areas a scope covers; `None` means every area present in the data.
fn scope_areas(scope: &Scope, context: &CheckContext<'_>) -> (AreaLevel, Option<Vec<(String, String)>>) {
    match scope {
        Scope::Level(AreaLevel::City) => (AreaLevel::City, Some(context.cities.clone())),
        Scope::Level(AreaLevel::ReportingUnit) => {
            let mut units = context.cities.clone();
            units.extend(context.direct_counties.iter().cloned());
            units.sort();
            (AreaLevel::ReportingUnit, Some(units))
        }
        Scope::Level(level) => (*level, None),
        Scope::DirectlyAdministered => (AreaLevel::County, Some(context.direct_counties.clone())),
        Scope::Areas(level, codes) => (*level, Some(codes.iter().map(|c| (c.clone(), String::new())).collect())),
    }
}

fn scope_label(code: &str, name: &str) -> String {
    if name.is_empty() { code.to_string() } else { format!("{code} {name}") }
}

fn evaluate_one(spec: &CheckSpec, context: &CheckContext<'_>, loaded: &mut Loaded) -> Result<Vec<Outcome>, CheckError> {
    match &spec.kind {
        CheckKind::PassRate { programme, category, scope, period, min_samples, bound } => {
            pass_rate::evaluate(spec, context, loaded, programme, category, scope, period, min_samples, bound)
        }
        CheckKind::Attainment { programme, scope, measure } => {
            attainment::evaluate(spec, context, loaded, programme, scope, measure)
        }
        CheckKind::RejectRate { sources } => reject_rate::evaluate(spec, context, sources),
        CheckKind::VerdictConflicts { programme, measure } => {
            verdict_conflicts::evaluate(spec, context, loaded, programme, measure)
        }
        CheckKind::Freshness { programme } => freshness::evaluate(spec, context, loaded, programme),
        CheckKind::Coverage { programme, of, period, min_samples } => {
            coverage::evaluate(spec, context, loaded, programme, of, period, min_samples)
        }
        CheckKind::Sql { query } => sql::evaluate(spec, context, query),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_contain_the_as_of_date() {
        let d = NaiveDate::from_ymd_opt(2013, 9, 30).unwrap();
        assert_eq!(period_label(PeriodType::Year, d), "2013");
        assert_eq!(period_label(PeriodType::Quarter, d), "2013-Q3");
        assert_eq!(period_label(PeriodType::Month, d), "2013-09");
    }
}
