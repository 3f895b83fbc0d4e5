//! `sql` checks: rows returned by a query over the tables (rows are failures, as in dbt's
//! singular tests).

use zhijian_model::checks::CheckSpec;

use super::outcome;
use crate::{CheckContext, CheckError, Outcome, definition_error};

/// One outcome, with the query's first failing rows; an error when the query fails. Without
/// the SQL engine, a skip with the reason: [`crate::evaluate`] has already refused the checks
/// that are not `optional`.
pub(super) fn evaluate(spec: &CheckSpec, context: &CheckContext<'_>, query: &str) -> Result<Vec<Outcome>, CheckError> {
    let Some(engine) = context.sql else {
        return Ok(vec![outcome(
            spec,
            "sql".to_string(),
            None,
            "skipped: optional, and this zhijian is built without the `sql` feature".to_string(),
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
    use zhijian_model::checks::{CheckKind, CheckSpec, Origin};

    use super::super::evaluate;
    use crate::{CheckContext, CheckError, Status};

    fn sql_check(name: &str, optional: bool, line: usize) -> CheckSpec {
        CheckSpec {
            name: name.into(),
            description: None,
            kind: CheckKind::Sql { query: "select 1".into() },
            zones: zhijian_model::checks::Zones { fail_above: Some(0.0), ..Default::default() },
            optional,
            origin: Origin { file: "checks.toml".into(), line, column: 1 },
        }
    }

    fn lean_context() -> CheckContext<'static> {
        CheckContext {
            output: "nowhere".into(),
            as_of: NaiveDate::from_ymd_opt(2013, 9, 30).unwrap(),
            cities: vec![],
            direct_counties: vec![],
            sql: None,
        }
    }

    #[test]
    fn optional_sql_checks_are_skipped_with_the_reason_without_an_engine() {
        let outcomes = evaluate(&[sql_check("q", true, 1)], &lean_context()).unwrap();
        assert_eq!(outcomes[0].status, Status::Skip);
        assert!(outcomes[0].message.contains("optional"), "{}", outcomes[0].message);
        assert!(outcomes[0].message.contains("the `sql` feature"), "{}", outcomes[0].message);
    }

    #[test]
    fn sql_checks_that_are_not_optional_stop_the_checks_without_an_engine() {
        // Every unavailable check is named at once, with its place; the optional one is not,
        // and nothing is read (the output folder does not exist).
        let specs = [sql_check("first", false, 3), sql_check("fine", true, 9), sql_check("second", false, 14)];
        let err = evaluate(&specs, &lean_context()).unwrap_err();
        let CheckError::Unavailable { checks } = &err else { panic!("{err}") };
        let names: Vec<&str> = checks.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["first", "second"]);
        let text = err.to_string();
        assert!(text.contains("checks.toml:3:1: check `first` is an `sql` check"), "{text}");
        assert!(text.contains("checks.toml:14:1: check `second`"), "{text}");
        assert!(text.contains("--features sql") && text.contains("optional = true"), "{text}");
    }
}
