//! Check definitions: what `zhijian check` evaluates. Pure data; the pipeline crate parses
//! them from `[[checks]]` tables, the check crate evaluates them.

use crate::{AreaLevel, PeriodType, Programme};

/// Warn and fail zones on an observed value. A value is in the fail zone when it is below
/// `fail_below` or above `fail_above`; otherwise in the warn zone when below `warn_below` or
/// above `warn_above`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Zones {
    /// Warn when the value is below this.
    pub warn_below: Option<f64>,
    /// Fail when the value is below this.
    pub fail_below: Option<f64>,
    /// Warn when the value is above this.
    pub warn_above: Option<f64>,
    /// Fail when the value is above this.
    pub fail_above: Option<f64>,
}

impl Zones {
    /// Whether any zone is set.
    pub fn is_empty(&self) -> bool {
        self.warn_below.is_none() && self.fail_below.is_none() && self.warn_above.is_none() && self.fail_above.is_none()
    }
}

/// Which areas a check looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every area of a level (`province`, `city`, `reporting_unit`, `county`).
    Level(AreaLevel),
    /// The directly administered counties, each on its own.
    DirectlyAdministered,
    /// These areas of a level.
    Areas(AreaLevel, Vec<String>),
}

/// What a pass-rate check compares with its zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The pass rate itself.
    Estimate,
    /// The lower bound of its 95% Wilson interval: fails only when the shortfall is clear.
    WilsonLow,
}

/// What an attainment check compares with its zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttainmentMeasure {
    /// achieved / pro-rata expectation (1.0 = on schedule).
    Ratio,
    /// expectation − achieved, in the target's unit (≤ 0 = on schedule).
    Shortfall,
}

/// What a coverage check counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageOf {
    /// City-level units with at least `min_samples` samples in the period.
    Cities,
    /// Distinct top-level categories (kinds of goods) in the period.
    Kinds,
}

/// What a verdict-conflict check counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictMeasure {
    /// Samples whose reported verdict disagrees with zhijian's.
    Count,
    /// Those samples as a share of all samples.
    Rate,
}

/// One kind of check with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    /// Pass rate of a programme (and category) per area.
    PassRate {
        /// The programme.
        programme: Programme,
        /// A top-level category, or `all`.
        category: String,
        /// The areas.
        scope: Scope,
        /// The period: the month, quarter or year containing the as-of date.
        period: PeriodType,
        /// Below this many judged samples the check is skipped.
        min_samples: u64,
        /// Point estimate or Wilson lower bound.
        bound: Bound,
    },
    /// Target attainment per area.
    Attainment {
        /// The programme.
        programme: Programme,
        /// The areas (levels as in the targets).
        scope: Scope,
        /// Ratio or shortfall.
        measure: AttainmentMeasure,
    },
    /// Share of rejected rows per source.
    RejectRate {
        /// Only these sources; every source when empty.
        sources: Vec<String>,
    },
    /// Samples whose reported verdict disagrees with zhijian's.
    VerdictConflicts {
        /// Only this programme, when given.
        programme: Option<Programme>,
        /// Count or rate.
        measure: ConflictMeasure,
    },
    /// Days between the newest sampling date and the as-of date.
    Freshness {
        /// Only this programme, when given.
        programme: Option<Programme>,
    },
    /// How many cities reported, or how many kinds of goods were covered.
    Coverage {
        /// The programme.
        programme: Programme,
        /// Cities or kinds.
        of: CoverageOf,
        /// The period: the month, quarter or year containing the as-of date.
        period: PeriodType,
        /// Samples a city needs to count as reporting.
        min_samples: u64,
    },
    /// A SQL query over the tables whose rows are failures; zones on the row count.
    Sql {
        /// The query.
        query: String,
    },
}

impl CheckKind {
    /// The kind's name as written in pipeline files.
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::PassRate { .. } => "pass_rate",
            CheckKind::Attainment { .. } => "attainment",
            CheckKind::RejectRate { .. } => "reject_rate",
            CheckKind::VerdictConflicts { .. } => "verdict_conflicts",
            CheckKind::Freshness { .. } => "freshness",
            CheckKind::Coverage { .. } => "coverage",
            CheckKind::Sql { .. } => "sql",
        }
    }
}

/// Where a check was defined, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// The file.
    pub file: String,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// A named check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSpec {
    /// Unique name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Kind and parameters.
    pub kind: CheckKind,
    /// Warn and fail zones.
    pub zones: Zones,
    /// `optional = true`: where the binary cannot evaluate the check (an `sql` check in a build
    /// without the `sql` feature), it is reported as skipped with the reason instead of
    /// stopping the checks with exit code 2.
    pub optional: bool,
    /// Where it is defined.
    pub origin: Origin,
}
