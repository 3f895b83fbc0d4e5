//! From check definitions and published tables to outcomes.

use chrono::{Datelike, NaiveDate};
use zhijian_model::checks::{AttainmentMeasure, Bound, CheckKind, CheckSpec, ConflictMeasure, CoverageOf, Scope};
use zhijian_model::{AreaLevel, Period, PeriodType};

use crate::tables::{self, Attained, Cell};
use crate::{CheckContext, CheckError, Outcome, Status, definition_error, severity, zone_status};

/// The label of the period containing `as_of`, as `pass_rates.period` writes it.
pub(crate) fn period_label(kind: PeriodType, as_of: NaiveDate) -> String {
    Period::containing(kind, as_of).label()
}

fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

struct Loaded {
    cells: Option<Vec<Cell>>,
    attained: Option<Vec<Attained>>,
    samples: Option<Vec<tables::SampleFacts>>,
}

/// Evaluates every check, in order. Fails (exit code 2) when the outputs are missing or a
/// check cannot be evaluated as defined (a SQL error, SQL without the engine).
pub fn evaluate(specs: &[CheckSpec], context: &CheckContext<'_>) -> Result<Vec<Outcome>, CheckError> {
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
    let as_of = context.as_of;
    match &spec.kind {
        CheckKind::PassRate { programme, category, scope, period, min_samples, bound } => {
            if loaded.cells.is_none() {
                loaded.cells = Some(tables::pass_rates(&context.output)?);
            }
            let cells = loaded.cells.as_deref().unwrap_or_default();
            let label = period_label(*period, as_of);
            let (level, areas) = scope_areas(scope, context);
            let matching: Vec<&Cell> = cells
                .iter()
                .filter(|c| {
                    c.period == label
                        && c.area_level == level.as_str()
                        && c.programme == programme.as_str()
                        && c.category == *category
                })
                .collect();
            let areas =
                areas.unwrap_or_else(|| matching.iter().map(|c| (c.area_code.clone(), c.area_name.clone())).collect());
            let mut out = Vec::new();
            for (code, name) in areas {
                let cell = matching.iter().find(|c| c.area_code == code);
                let name = cell.map_or(name, |c| c.area_name.clone());
                let scope = scope_label(&code, &name);
                let Some(cell) = cell else {
                    out.push(outcome(spec, scope, None, format!("no {programme} samples in {label}")));
                    continue;
                };
                let judged = (cell.passed + cell.failed) as u64;
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
                    Bound::Estimate => (cell.pass_rate, "pass rate"),
                    Bound::WilsonLow => (cell.wilson_low, "95% lower bound of the pass rate"),
                };
                let message = match (observed, cell.pass_rate, bound) {
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
        CheckKind::Attainment { programme, scope, measure } => {
            if loaded.attained.is_none() {
                loaded.attained = Some(tables::attainment(&context.output, as_of.year())?);
            }
            let rows = loaded.attained.as_deref().unwrap_or_default();
            let (level, areas) = match scope {
                Scope::DirectlyAdministered => (
                    AreaLevel::ReportingUnit,
                    Some(context.direct_counties.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>()),
                ),
                Scope::Level(level) => (*level, None),
                Scope::Areas(level, codes) => (*level, Some(codes.clone())),
            };
            let matching: Vec<&Attained> = rows
                .iter()
                .filter(|r| r.programme == programme.as_str() && r.area_level == level.as_str())
                .filter(|r| areas.as_ref().is_none_or(|a| a.contains(&r.area_code)))
                .collect();
            if matching.is_empty() {
                return Err(definition_error(
                    spec,
                    format!("no {programme} target at level {level} (see seeds/targets.csv)"),
                ));
            }
            Ok(matching
                .into_iter()
                .map(|r| {
                    let scope = scope_label(&r.area_code, &r.area_name);
                    let status = format!(
                        "{} {} achieved, {:.0} expected by {as_of} (target {})",
                        r.achieved, r.unit, r.expected, r.target
                    );
                    match measure {
                        AttainmentMeasure::Ratio if r.expected > 0.0 => {
                            let ratio = r.achieved as f64 / r.expected;
                            outcome(
                                spec,
                                scope,
                                Some(ratio),
                                format!("{} of the pro-rata share: {status}", percent(ratio)),
                            )
                        }
                        AttainmentMeasure::Ratio => {
                            outcome(spec, scope, None, format!("nothing expected yet: {status}"))
                        }
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
        CheckKind::RejectRate { sources } => {
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
        CheckKind::VerdictConflicts { programme, measure } => {
            if loaded.samples.is_none() {
                loaded.samples = Some(tables::samples(&context.output)?);
            }
            let samples: Vec<_> = loaded
                .samples
                .as_deref()
                .unwrap_or_default()
                .iter()
                .filter(|s| programme.is_none_or(|p| s.programme == p.as_str()))
                .collect();
            let conflicts = samples.iter().filter(|s| s.verdict_conflict).count();
            let scope = programme.map_or_else(|| "all programmes".to_string(), |p| p.as_str().to_string());
            let message = format!(
                "{conflicts} of {} samples have a reported verdict that disagrees with their values",
                samples.len()
            );
            let observed = match measure {
                ConflictMeasure::Count => Some(conflicts as f64),
                ConflictMeasure::Rate => (!samples.is_empty()).then(|| conflicts as f64 / samples.len() as f64),
            };
            Ok(vec![outcome(spec, scope, observed, message)])
        }
        CheckKind::Freshness { programme } => {
            if loaded.samples.is_none() {
                loaded.samples = Some(tables::samples(&context.output)?);
            }
            let newest = loaded
                .samples
                .as_deref()
                .unwrap_or_default()
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
        CheckKind::Coverage { programme, of, period, min_samples } => {
            if loaded.cells.is_none() {
                loaded.cells = Some(tables::pass_rates(&context.output)?);
            }
            let cells = loaded.cells.as_deref().unwrap_or_default();
            let label = period_label(*period, as_of);
            let in_period = |c: &&Cell| c.period == label && c.programme == programme.as_str();
            let (observed, message, missing) = match of {
                CoverageOf::Cities => {
                    let reporting: Vec<&str> = cells
                        .iter()
                        .filter(in_period)
                        .filter(|c| c.area_level == "city" && c.category == "all" && c.tested as u64 >= *min_samples)
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
                            c.area_level == "province"
                                && c.category != "all"
                                && c.category != "unclassified"
                                && c.tested as u64 >= *min_samples
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
        CheckKind::Sql { query } => {
            let Some(engine) = context.sql else {
                // A lean build (without the `sql` feature) is a deployment choice: say so in
                // every report rather than stop the run.
                return Ok(vec![outcome(
                    spec,
                    "sql".to_string(),
                    None,
                    "skipped: SQL checks need zhijian built with the `sql` feature (the default)".to_string(),
                )]);
            };
            let rows = engine
                .failures(&context.output, query, 20)
                .map_err(|message| definition_error(spec, format!("the query failed: {message}")))?;
            let mut o =
                outcome(spec, "sql".to_string(), Some(rows.count as f64), format!("{} failing row(s)", rows.count));
            if !rows.rows.is_empty() {
                o.failures.push(rows.columns.join(" | "));
                o.failures.extend(rows.rows.iter().map(|r| r.join(" | ")));
            }
            Ok(vec![o])
        }
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

    #[test]
    fn sql_checks_are_skipped_with_the_reason_without_an_engine() {
        let spec = CheckSpec {
            name: "q".into(),
            description: None,
            kind: CheckKind::Sql { query: "select 1".into() },
            zones: zhijian_model::checks::Zones { fail_above: Some(0.0), ..Default::default() },
            origin: Default::default(),
        };
        let context = CheckContext {
            output: "nowhere".into(),
            as_of: NaiveDate::from_ymd_opt(2013, 9, 30).unwrap(),
            cities: vec![],
            direct_counties: vec![],
            sql: None,
        };
        let outcomes = evaluate(&[spec], &context).unwrap();
        assert_eq!(outcomes[0].status, Status::Skip);
        assert!(outcomes[0].message.contains("the `sql` feature"));
    }
}
