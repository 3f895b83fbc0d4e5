//! The aggregate tables as typed rows, each with its Arrow conversion both ways.
//!
//! `pass_rates` and `attainment` are typed once, here: zhijian-aggregate builds
//! [`PassRateRow`]s and [`AttainmentRow`]s and writes them with [`pass_rates_batch`] and
//! [`attainment_batch`]; the checks, the report and the run's summary read them back with
//! [`pass_rates_rows`] and [`attainment_rows`]. The derived columns (`pass_rate`, the Wilson bounds,
//! `pass_rate_after_uncertainty`) are functions of the counts, computed by the same methods on
//! both sides, so a reader cannot disagree with the writer about what they mean.
//!
//! ```
//! use chrono::NaiveDate;
//! use zhijian_model::tables::{PassRateRow, pass_rates_batch, pass_rates_rows};
//! use zhijian_model::{AreaLevel, PeriodType};
//!
//! let row = PassRateRow {
//!     period_type: PeriodType::Year,
//!     period: "2013".into(),
//!     period_start: NaiveDate::from_ymd_opt(2013, 1, 1).unwrap(),
//!     area_level: AreaLevel::Province,
//!     area_code: "410000".into(),
//!     area_name: "河南省".into(),
//!     programme: "food".into(),
//!     category: "all".into(),
//!     tested: 12,
//!     passed: 9,
//!     failed: 1,
//!     pending: 1,
//!     not_judged: 1,
//!     passed_after_uncertainty: 10,
//!     failed_after_uncertainty: 0,
//! };
//! assert_eq!(row.pass_rate(), Some(0.9));
//! let batch = pass_rates_batch(&[&row]).unwrap();
//! assert_eq!(pass_rates_rows(&batch).unwrap(), vec![row]);
//! ```

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::types::{Date32Type, Int64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::ArrowError;
use chrono::NaiveDate;

use crate::{AreaLevel, AttainmentStatus, PeriodType, TargetUnit, attainment_schema, pass_rates_schema};

/// The `category` of the `pass_rates` cells that cover a whole programme.
pub const ALL_CATEGORIES: &str = "all";

/// A table's batch that does not hold what its schema says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("table `{table}`: {message}")]
pub struct TableError {
    /// The table.
    pub table: &'static str,
    /// What is wrong: the column and what it holds instead.
    pub message: String,
}

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval of `passed` out of `judged` samples; `None` when none was
/// judged.
///
/// ```
/// let (low, high) = zhijian_model::tables::wilson_interval(9, 10).unwrap();
/// assert!((low - 0.5958).abs() < 1e-4 && (high - 0.9821).abs() < 1e-4);
/// assert_eq!(zhijian_model::tables::wilson_interval(0, 0), None);
/// ```
pub fn wilson_interval(passed: u64, judged: u64) -> Option<(f64, f64)> {
    if judged == 0 {
        return None;
    }
    let n = judged as f64;
    let p = passed as f64 / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// One cell of the pass-rate cube: a row of `pass_rates`.
#[derive(Debug, Clone, PartialEq)]
pub struct PassRateRow {
    /// Month, quarter or year.
    pub period_type: PeriodType,
    /// `2013-07`, `2013-Q3`, `2013`.
    pub period: String,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Area level.
    pub area_level: AreaLevel,
    /// Area code.
    pub area_code: String,
    /// Area name.
    pub area_name: String,
    /// Programme code.
    pub programme: String,
    /// Top-level category or `all`.
    pub category: String,
    /// passed + failed + pending + not_judged.
    pub tested: u64,
    /// Passed samples.
    pub passed: u64,
    /// Failed samples.
    pub failed: u64,
    /// Pending samples.
    pub pending: u64,
    /// Samples the source does not judge and no limit judges (`not_judged`).
    pub not_judged: u64,
    /// Samples whose verdict after measurement uncertainty passes.
    pub passed_after_uncertainty: u64,
    /// Samples whose verdict after measurement uncertainty fails.
    pub failed_after_uncertainty: u64,
}

impl PassRateRow {
    /// passed / (passed + failed): the `pass_rate` column.
    pub fn pass_rate(&self) -> Option<f64> {
        let judged = self.passed + self.failed;
        (judged > 0).then(|| self.passed as f64 / judged as f64)
    }

    /// The 95% Wilson interval of the pass rate: the `wilson_low` and `wilson_high` columns.
    pub fn wilson(&self) -> Option<(f64, f64)> {
        wilson_interval(self.passed, self.passed + self.failed)
    }

    /// passed_after_uncertainty / (passed_after_uncertainty + failed_after_uncertainty): the
    /// `pass_rate_after_uncertainty` column.
    pub fn pass_rate_after_uncertainty(&self) -> Option<f64> {
        let judged = self.passed_after_uncertainty + self.failed_after_uncertainty;
        (judged > 0).then(|| self.passed_after_uncertainty as f64 / judged as f64)
    }
}

/// Days since 1970-01-01: Arrow's `Date32`.
fn date32(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days() as i32
}

fn text<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(values.map(Some).collect::<StringArray>())
}

/// `pass_rates` rows as one batch of [`pass_rates_schema`], its columns built on every core (a
/// cube has some hundred thousand cells).
pub fn pass_rates_batch(rows: &[&PassRateRow]) -> Result<RecordBatch, ArrowError> {
    use rayon::prelude::*;
    type Column<'a> = Box<dyn Fn() -> ArrayRef + Send + Sync + 'a>;
    let int = |f: fn(&PassRateRow) -> u64| -> Column<'_> {
        Box::new(move || Arc::new(rows.iter().map(|r| f(r) as i64).collect::<Int64Array>()))
    };
    let texts = |f: fn(&PassRateRow) -> &str| -> Column<'_> { Box::new(move || text(rows.iter().map(|r| f(r)))) };
    let floats = |f: fn(&PassRateRow) -> Option<f64>| -> Column<'_> {
        Box::new(move || Arc::new(rows.iter().map(|r| f(r)).collect::<Float64Array>()))
    };
    let builders: Vec<Column<'_>> = vec![
        texts(|r| r.period_type.as_str()),
        texts(|r| r.period.as_str()),
        Box::new(|| Arc::new(Date32Array::from(rows.iter().map(|r| date32(r.period_start)).collect::<Vec<_>>()))),
        texts(|r| r.area_level.as_str()),
        texts(|r| r.area_code.as_str()),
        texts(|r| r.area_name.as_str()),
        texts(|r| r.programme.as_str()),
        texts(|r| r.category.as_str()),
        int(|r| r.tested),
        int(|r| r.passed),
        int(|r| r.failed),
        int(|r| r.pending),
        floats(PassRateRow::pass_rate),
        floats(|r| r.wilson().map(|w| w.0)),
        floats(|r| r.wilson().map(|w| w.1)),
        int(|r| r.passed_after_uncertainty),
        int(|r| r.failed_after_uncertainty),
        floats(PassRateRow::pass_rate_after_uncertainty),
        int(|r| r.not_judged),
    ];
    let columns: Vec<ArrayRef> = builders.par_iter().map(|build| build()).collect();
    RecordBatch::try_new(pass_rates_schema(), columns)
}

/// The columns [`pass_rates_rows`] reads: the keys and the counts (the rest follow from them).
pub const PASS_RATES_COLUMNS: &[&str] = &[
    "period_type",
    "period",
    "period_start",
    "area_level",
    "area_code",
    "area_name",
    "programme",
    "category",
    "tested",
    "passed",
    "failed",
    "pending",
    "not_judged",
    "passed_after_uncertainty",
    "failed_after_uncertainty",
];

/// Typed access to one batch's columns, each error naming the table and the column.
struct Columns<'b> {
    table: &'static str,
    batch: &'b RecordBatch,
}

impl<'b> Columns<'b> {
    fn error(&self, message: String) -> TableError {
        TableError { table: self.table, message }
    }

    fn get(&self, name: &str) -> Result<&'b dyn Array, TableError> {
        let column = self.batch.column_by_name(name).ok_or_else(|| self.error(format!("no column `{name}`")))?;
        if column.null_count() > 0 {
            return Err(self.error(format!("`{name}` holds nulls")));
        }
        Ok(column.as_ref())
    }

    fn texts(&self, name: &str) -> Result<&'b StringArray, TableError> {
        self.get(name)?.as_string_opt::<i32>().ok_or_else(|| self.error(format!("`{name}` is not Utf8")))
    }

    fn ints(&self, name: &str) -> Result<Vec<i64>, TableError> {
        let array = self
            .get(name)?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| self.error(format!("`{name}` is not Int64")))?;
        Ok(array.values().to_vec())
    }

    fn floats(&self, name: &str) -> Result<Vec<f64>, TableError> {
        let array = self
            .get(name)?
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| self.error(format!("`{name}` is not Float64")))?;
        Ok(array.values().to_vec())
    }

    /// A nullable Float64 column.
    fn optional_floats(&self, name: &str) -> Result<Vec<Option<f64>>, TableError> {
        let column = self.batch.column_by_name(name).ok_or_else(|| self.error(format!("no column `{name}`")))?;
        let array =
            column.as_primitive_opt::<Float64Type>().ok_or_else(|| self.error(format!("`{name}` is not Float64")))?;
        Ok(array.iter().collect())
    }

    fn counts(&self, name: &str) -> Result<Vec<u64>, TableError> {
        let array = self
            .get(name)?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| self.error(format!("`{name}` is not Int64")))?;
        array
            .values()
            .iter()
            .map(|&v| u64::try_from(v).map_err(|_| self.error(format!("`{name}` holds the negative count {v}"))))
            .collect()
    }

    fn dates(&self, name: &str) -> Result<Vec<NaiveDate>, TableError> {
        let array = self
            .get(name)?
            .as_primitive_opt::<Date32Type>()
            .ok_or_else(|| self.error(format!("`{name}` is not Date32")))?;
        (0..array.len())
            .map(|i| array.value_as_date(i).ok_or_else(|| self.error(format!("`{name}` holds a date out of range"))))
            .collect()
    }

    fn parsed<T: std::str::FromStr>(&self, name: &str) -> Result<Vec<T>, TableError> {
        let array = self.texts(name)?;
        (0..array.len())
            .map(|i| array.value(i).parse().map_err(|_| self.error(format!("`{name}` holds `{}`", array.value(i)))))
            .collect()
    }
}

/// The rows of one `pass_rates` batch holding at least [`PASS_RATES_COLUMNS`].
pub fn pass_rates_rows(batch: &RecordBatch) -> Result<Vec<PassRateRow>, TableError> {
    let c = Columns { table: "pass_rates", batch };
    let period_type = c.parsed::<PeriodType>("period_type")?;
    let period = c.texts("period")?;
    let period_start = c.dates("period_start")?;
    let area_level = c.parsed::<AreaLevel>("area_level")?;
    let (area_code, area_name, programme, category) =
        (c.texts("area_code")?, c.texts("area_name")?, c.texts("programme")?, c.texts("category")?);
    let (tested, passed, failed, pending, not_judged) =
        (c.counts("tested")?, c.counts("passed")?, c.counts("failed")?, c.counts("pending")?, c.counts("not_judged")?);
    let (passed_after, failed_after) = (c.counts("passed_after_uncertainty")?, c.counts("failed_after_uncertainty")?);
    Ok((0..batch.num_rows())
        .map(|i| PassRateRow {
            period_type: period_type[i],
            period: period.value(i).to_string(),
            period_start: period_start[i],
            area_level: area_level[i],
            area_code: area_code.value(i).to_string(),
            area_name: area_name.value(i).to_string(),
            programme: programme.value(i).to_string(),
            category: category.value(i).to_string(),
            tested: tested[i],
            passed: passed[i],
            failed: failed[i],
            pending: pending[i],
            not_judged: not_judged[i],
            passed_after_uncertainty: passed_after[i],
            failed_after_uncertainty: failed_after[i],
        })
        .collect())
}

/// A year's target for one programme and area, with the area's name (from the seeds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// Calendar year: the `attainment` partition.
    pub year: i32,
    /// Programme code.
    pub programme: String,
    /// Area level the target counts in.
    pub area_level: AreaLevel,
    /// Area code.
    pub area_code: String,
    /// Area name.
    pub area_name: String,
    /// The figure.
    pub target: i64,
    /// What it counts.
    pub unit: TargetUnit,
    /// An illustrative allocation, not an official figure.
    pub illustrative: bool,
    /// Where it comes from.
    pub basis: String,
}

/// One row of `attainment`: a target and what was achieved by the as-of date.
#[derive(Debug, Clone, PartialEq)]
pub struct AttainmentRow {
    /// The target.
    pub target: TargetSpec,
    /// What was achieved in the year up to the as-of date.
    pub achieved: i64,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// target × elapsed share of the year.
    pub expected: f64,
    /// achieved / expected; `None` when nothing is expected yet.
    pub ratio: Option<f64>,
    /// achieved / target; `None` for a target of 0.
    pub completion: Option<f64>,
    /// Met, on track or behind.
    pub status: AttainmentStatus,
}

/// `attainment` rows as one batch of [`attainment_schema`].
pub fn attainment_batch(rows: &[&AttainmentRow]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        text(rows.iter().map(|r| r.target.programme.as_str())),
        text(rows.iter().map(|r| r.target.area_level.as_str())),
        text(rows.iter().map(|r| r.target.area_code.as_str())),
        text(rows.iter().map(|r| r.target.area_name.as_str())),
        text(rows.iter().map(|r| r.target.unit.as_str())),
        Arc::new(rows.iter().map(|r| r.target.target).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| r.achieved).collect::<Int64Array>()),
        Arc::new(Date32Array::from(rows.iter().map(|r| date32(r.as_of)).collect::<Vec<_>>())),
        Arc::new(rows.iter().map(|r| r.expected).collect::<Float64Array>()),
        Arc::new(rows.iter().map(|r| r.ratio).collect::<Float64Array>()),
        Arc::new(rows.iter().map(|r| r.completion).collect::<Float64Array>()),
        text(rows.iter().map(|r| r.status.as_str())),
        Arc::new(rows.iter().map(|r| Some(r.target.illustrative)).collect::<BooleanArray>()),
        Arc::new(rows.iter().map(|r| Some(r.target.basis.as_str())).collect::<StringArray>()),
    ];
    RecordBatch::try_new(attainment_schema(), columns)
}

/// The columns of `attainment`, all of which [`attainment_rows`] reads.
pub const ATTAINMENT_COLUMNS: &[&str] = &[
    "programme",
    "area_level",
    "area_code",
    "area_name",
    "unit",
    "target",
    "achieved",
    "as_of",
    "expected",
    "ratio",
    "completion",
    "status",
    "illustrative",
    "basis",
];

/// The rows of one `attainment` batch of the partition `year` (the target year is the
/// partition, not a column of the file).
pub fn attainment_rows(batch: &RecordBatch, year: i32) -> Result<Vec<AttainmentRow>, TableError> {
    let c = Columns { table: "attainment", batch };
    let (programme, area_code, area_name) = (c.texts("programme")?, c.texts("area_code")?, c.texts("area_name")?);
    let area_level = c.parsed::<AreaLevel>("area_level")?;
    let unit = c.parsed::<TargetUnit>("unit")?;
    let status = c.parsed::<AttainmentStatus>("status")?;
    let (target, achieved) = (c.ints("target")?, c.ints("achieved")?);
    let as_of = c.dates("as_of")?;
    let expected = c.floats("expected")?;
    let (ratio, completion) = (c.optional_floats("ratio")?, c.optional_floats("completion")?);
    let illustrative =
        c.get("illustrative")?.as_boolean_opt().ok_or_else(|| c.error("`illustrative` is not Boolean".into()))?;
    let basis = c
        .batch
        .column_by_name("basis")
        .ok_or_else(|| c.error("no column `basis`".into()))?
        .as_string_opt::<i32>()
        .ok_or_else(|| c.error("`basis` is not Utf8".into()))?;
    Ok((0..batch.num_rows())
        .map(|i| AttainmentRow {
            target: TargetSpec {
                year,
                programme: programme.value(i).to_string(),
                area_level: area_level[i],
                area_code: area_code.value(i).to_string(),
                area_name: area_name.value(i).to_string(),
                target: target[i],
                unit: unit[i],
                illustrative: illustrative.value(i),
                basis: if basis.is_null(i) { String::new() } else { basis.value(i).to_string() },
            },
            achieved: achieved[i],
            as_of: as_of[i],
            expected: expected[i],
            ratio: ratio[i],
            completion: completion[i],
            status: status[i],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;

    use super::*;

    fn row(passed: u64, failed: u64, level: AreaLevel) -> PassRateRow {
        PassRateRow {
            period_type: PeriodType::Quarter,
            period: "2013-Q3".into(),
            period_start: NaiveDate::from_ymd_opt(2013, 7, 1).unwrap(),
            area_level: level,
            area_code: "410100".into(),
            area_name: "郑州市".into(),
            programme: "food".into(),
            category: "粮食加工品".into(),
            tested: passed + failed + 3,
            passed,
            failed,
            pending: 2,
            not_judged: 1,
            passed_after_uncertainty: passed + 1,
            failed_after_uncertainty: failed.saturating_sub(1),
        }
    }

    #[test]
    fn rows_go_to_arrow_and_back_unchanged() {
        let rows = [row(9, 1, AreaLevel::City), row(0, 0, AreaLevel::ReportingUnit), row(30, 0, AreaLevel::County)];
        let refs: Vec<&PassRateRow> = rows.iter().collect();
        let batch = pass_rates_batch(&refs).unwrap();
        assert_eq!(batch.schema(), pass_rates_schema());
        assert_eq!(pass_rates_rows(&batch).unwrap(), rows);
        // The stored derived columns are the methods' values; null where nothing was judged.
        let rates = batch.column_by_name("pass_rate").unwrap().as_primitive::<Float64Type>();
        assert_eq!((rates.value(0), rates.is_null(1), rates.value(2)), (0.9, true, 1.0));
        let low = batch.column_by_name("wilson_low").unwrap().as_primitive::<Float64Type>();
        assert_eq!(low.value(0), rows[0].wilson().unwrap().0);
    }

    #[test]
    fn a_batch_that_breaks_the_schema_is_named() {
        let rows = [row(9, 1, AreaLevel::City)];
        let batch = pass_rates_batch(&[&rows[0]]).unwrap();
        let without = batch.project(&[0, 1, 2]).unwrap();
        assert_eq!(pass_rates_rows(&without).unwrap_err().to_string(), "table `pass_rates`: no column `area_level`");
        let mut columns = batch.columns().to_vec();
        columns[3] = Arc::new(StringArray::from(vec!["town"]));
        let bad = RecordBatch::try_new(batch.schema(), columns).unwrap();
        assert_eq!(pass_rates_rows(&bad).unwrap_err().to_string(), "table `pass_rates`: `area_level` holds `town`");
    }

    #[test]
    fn attainment_rows_go_to_arrow_and_back_unchanged() {
        let target = TargetSpec {
            year: 2013,
            programme: "food".into(),
            area_level: AreaLevel::Province,
            area_code: "410000".into(),
            area_name: "河南省".into(),
            target: 25_000,
            unit: TargetUnit::Samples,
            illustrative: false,
            basis: "计划第15项".into(),
        };
        let rows = [
            AttainmentRow {
                target: target.clone(),
                achieved: 293,
                as_of: NaiveDate::from_ymd_opt(2013, 9, 30).unwrap(),
                expected: 18_698.63,
                ratio: Some(293.0 / 18_698.63),
                completion: Some(293.0 / 25_000.0),
                status: AttainmentStatus::Behind,
            },
            AttainmentRow {
                target: TargetSpec { target: 0, illustrative: true, basis: String::new(), ..target },
                achieved: 0,
                as_of: NaiveDate::from_ymd_opt(2013, 9, 30).unwrap(),
                expected: 0.0,
                ratio: None,
                completion: None,
                status: AttainmentStatus::Met,
            },
        ];
        let refs: Vec<&AttainmentRow> = rows.iter().collect();
        let batch = attainment_batch(&refs).unwrap();
        assert_eq!(batch.schema(), attainment_schema());
        assert_eq!(attainment_rows(&batch, 2013).unwrap(), rows);
    }

    #[test]
    fn wilson_matches_worked_values() {
        // Worked independently (Python, same formula): p = 0.9, n = 10 → (0.595850, 0.982124).
        let (low, high) = wilson_interval(9, 10).unwrap();
        assert!((low - 0.595_850).abs() < 1e-6, "{low}");
        assert!((high - 0.982_123).abs() < 1e-6, "{high}");
        // All passed: the upper bound is 1 and the lower bound below 1.
        let (low, high) = wilson_interval(30, 30).unwrap();
        assert!((high - 1.0).abs() < 1e-12);
        assert!((low - 0.886_487).abs() < 1e-6, "{low}");
        let (low, high) = wilson_interval(0, 5).unwrap();
        assert_eq!(low, 0.0);
        assert!((high - 0.434_482).abs() < 1e-6, "{high}");
    }
}
