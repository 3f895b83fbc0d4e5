//! `sql` checks: rows returned by a query over the tables (rows are failures, as in dbt's
//! singular tests).

use zhijian_model::checks::CheckSpec;

use super::outcome;
use crate::{CheckContext, CheckError, Outcome, definition_error};

/// One outcome, with the query's first failing rows; a skip without the SQL engine, an error
/// when the query fails.
pub(super) fn evaluate(spec: &CheckSpec, context: &CheckContext<'_>, query: &str) -> Result<Vec<Outcome>, CheckError> {
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
    let mut o = outcome(spec, "sql".to_string(), Some(rows.count as f64), format!("{} failing row(s)", rows.count));
    if !rows.rows.is_empty() {
        o.failures.push(rows.columns.join(" | "));
        o.failures.extend(rows.rows.iter().map(|r| r.join(" | ")));
    }
    Ok(vec![o])
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use zhijian_model::checks::{CheckKind, CheckSpec};

    use super::super::evaluate;
    use crate::{CheckContext, Status};

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
