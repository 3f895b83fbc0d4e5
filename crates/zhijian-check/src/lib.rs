//! Checks: pass rates, target attainment, data quality and custom SQL, each with warn and fail
//! zones, evaluated against a run's published tables.
//!
//! [`evaluate`] turns [`CheckSpec`]s into [`Outcome`]s (one per check and scope: one per city
//! for a per-city check). The [`report`] module renders them as a text table, JUnit XML,
//! GitHub annotations and step summary, and JSON in the style of dbt's `run_results.json`.
//! [`exit_code`] maps outcomes to the exit code: 0 when all pass or only warn, 1 when one fails.
//!
//! ```
//! use zhijian_check::{Status, zone_status};
//! use zhijian_model::checks::Zones;
//!
//! let zones = Zones { warn_below: Some(0.92), fail_below: Some(0.90), ..Default::default() };
//! assert_eq!(zone_status(0.95, &zones), Status::Pass);
//! assert_eq!(zone_status(0.91, &zones), Status::Warn);
//! assert_eq!(zone_status(0.89, &zones), Status::Fail);
//! ```

mod evaluate;
pub mod report;
mod tables;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use zhijian_model::checks::{CheckKind, CheckSpec, Origin, Zones};

pub use evaluate::evaluate;
pub use tables::manifest_as_of;

/// The status of one outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// In the fail zone.
    Fail,
    /// In the warn zone.
    Warn,
    /// Outside both zones.
    Pass,
    /// Not evaluated, with a reason (too few samples, nothing to compare).
    Skip,
}

impl Status {
    /// `pass`, `warn`, `fail`, `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// Where an observed value falls with respect to the zones.
pub fn zone_status(value: f64, zones: &Zones) -> Status {
    let below = |limit: Option<f64>| limit.is_some_and(|l| value < l);
    let above = |limit: Option<f64>| limit.is_some_and(|l| value > l);
    if below(zones.fail_below) || above(zones.fail_above) {
        Status::Fail
    } else if below(zones.warn_below) || above(zones.warn_above) {
        Status::Warn
    } else {
        Status::Pass
    }
}

/// How far a value lies past the nearest threshold it crossed, relative to that threshold:
/// used to put the worst outcomes first.
pub fn severity(value: f64, zones: &Zones) -> f64 {
    let mut worst: f64 = 0.0;
    for (limit, below) in
        [(zones.fail_below, true), (zones.warn_below, true), (zones.fail_above, false), (zones.warn_above, false)]
    {
        if let Some(limit) = limit {
            let past = if below { limit - value } else { value - limit };
            if past > 0.0 {
                worst = worst.max(past / limit.abs().max(1.0));
            }
        }
    }
    worst
}

/// One check evaluated for one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The check's name.
    pub check: String,
    /// Its kind.
    pub kind: &'static str,
    /// Its description.
    pub description: Option<String>,
    /// What it was evaluated on: `410100 郑州市`, a source, `province`.
    pub scope: String,
    /// The result.
    pub status: Status,
    /// The value compared with the zones.
    pub observed: Option<f64>,
    /// The zones.
    pub zones: Zones,
    /// What the value means, or why the check was skipped.
    pub message: String,
    /// Failing rows (SQL checks) or missing items (coverage), for the reports.
    pub failures: Vec<String>,
    /// How far past its thresholds; larger is worse.
    pub severity: f64,
    /// Where the check is defined.
    pub origin: Origin,
}

/// Runs SQL over the tables; provided by the binary when it is built with SQL support.
pub trait SqlEngine: Send + Sync {
    /// Runs `query` over the tables in `output`; returns the number of rows, the column names
    /// and at most `keep` rows rendered as text.
    fn failures(&self, output: &Path, query: &str, keep: usize) -> Result<TextRows, String>;
}

/// What a SQL check's query returned: its count, columns and first rows as text.
pub use zhijian_model::text::TextRows;

/// What evaluation needs besides the checks.
pub struct CheckContext<'a> {
    /// The run's output folder.
    pub output: PathBuf,
    /// The as-of date of the run that wrote the outputs.
    pub as_of: NaiveDate,
    /// The city-level units (code, name), for per-city scopes and coverage.
    pub cities: Vec<(String, String)>,
    /// The directly administered counties (code, name).
    pub direct_counties: Vec<(String, String)>,
    /// The SQL engine, when the binary has one.
    pub sql: Option<&'a dyn SqlEngine>,
}

impl std::fmt::Debug for CheckContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckContext")
            .field("output", &self.output)
            .field("as_of", &self.as_of)
            .field("sql", &self.sql.is_some())
            .finish()
    }
}

/// Why checks could not be evaluated (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The outputs are missing or incomplete.
    #[error("no complete outputs in `{}` ({reason}); run `zhijian run` first", output.display())]
    MissingOutputs {
        /// The output folder.
        output: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// A table could not be read.
    #[error(transparent)]
    Store(#[from] zhijian_store::StoreError),
    /// A table does not have the expected columns.
    #[error("table `{table}`: {message}")]
    Table {
        /// The table.
        table: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Checks this binary cannot evaluate (`sql` checks in a build without the `sql` feature)
    /// that are not marked `optional = true`: a gate that skipped its own rule would pass.
    #[error("{}", unavailable_message(checks))]
    Unavailable {
        /// Each such check's name and where it is defined.
        checks: Vec<(String, Origin)>,
    },
    /// A check cannot be evaluated as defined.
    #[error("{}:{}:{}: check `{check}`: {message}", origin.file, origin.line, origin.column)]
    Definition {
        /// The check.
        check: String,
        /// Where it is defined.
        origin: Origin,
        /// What is wrong.
        message: String,
    },
}

fn unavailable_message(checks: &[(String, Origin)]) -> String {
    let mut out = String::new();
    for (name, origin) in checks {
        out.push_str(&format!(
            "{}:{}:{}: check `{name}` is an `sql` check, and this zhijian is built without SQL\n",
            origin.file, origin.line, origin.column
        ));
    }
    out.push_str(
        "build zhijian with `--features sql` (`cargo build --features sql`, or \
         `cargo install --path . --features sql`) to evaluate it, or mark the check \
         `optional = true` to report it as skipped where SQL is not built in",
    );
    out
}

/// Fails with [`CheckError::Unavailable`], naming them all, when checks need a SQL engine the
/// binary lacks (`has_sql` false) and are not `optional`. [`evaluate`] calls it before it reads
/// a table, and `zhijian run` before it ingests.
pub fn ensure_evaluable(specs: &[CheckSpec], has_sql: bool) -> Result<(), CheckError> {
    let checks: Vec<(String, Origin)> = specs
        .iter()
        .filter(|spec| !has_sql && !spec.optional && matches!(spec.kind, CheckKind::Sql { .. }))
        .map(|spec| (spec.name.clone(), spec.origin.clone()))
        .collect();
    if checks.is_empty() { Ok(()) } else { Err(CheckError::Unavailable { checks }) }
}

/// Counts per status: (pass, warn, fail, skip).
pub fn tally(outcomes: &[Outcome]) -> (usize, usize, usize, usize) {
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    (count(Status::Pass), count(Status::Warn), count(Status::Fail), count(Status::Skip))
}

/// 1 when a check failed (or warned, with `warn_error`), else 0.
pub fn exit_code(outcomes: &[Outcome], warn_error: bool) -> u8 {
    let failed = outcomes.iter().any(|o| o.status == Status::Fail || (warn_error && o.status == Status::Warn));
    u8::from(failed)
}

/// Checks defined for a spec, for messages.
pub(crate) fn definition_error(spec: &CheckSpec, message: impl Into<String>) -> CheckError {
    CheckError::Definition { check: spec.name.clone(), origin: spec.origin.clone(), message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_and_severity() {
        let zones = Zones { warn_above: Some(0.02), fail_above: Some(0.10), ..Default::default() };
        assert_eq!(zone_status(0.01, &zones), Status::Pass);
        assert_eq!(zone_status(0.02, &zones), Status::Pass, "on the line is not past it");
        assert_eq!(zone_status(0.05, &zones), Status::Warn);
        assert_eq!(zone_status(0.2, &zones), Status::Fail);
        assert!(severity(0.2, &zones) > severity(0.05, &zones));
        assert_eq!(severity(0.01, &zones), 0.0);
    }
}
