//! The cube and attainment as Arrow batches and Parquet files.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use chrono::Datelike;
use zhijian_model::{attainment_schema, pass_rates_schema};
use zhijian_store::{WrittenFile, date32, write_by_year};

use crate::{AggregateError, AttainmentRow, PassRateRow};

fn text<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(values.map(Some).collect::<StringArray>())
}

/// `pass_rates` rows as one batch, its columns built on every core (a cube has some hundred
/// thousand cells).
pub fn pass_rates_batch(rows: &[&PassRateRow]) -> Result<RecordBatch, AggregateError> {
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
        floats(|r| r.pass_rate()),
        floats(|r| r.wilson().map(|w| w.0)),
        floats(|r| r.wilson().map(|w| w.1)),
        int(|r| r.passed_after_uncertainty),
        int(|r| r.failed_after_uncertainty),
        floats(|r| r.pass_rate_after_uncertainty()),
        int(|r| r.not_judged),
    ];
    let columns: Vec<ArrayRef> = builders.par_iter().map(|build| build()).collect();
    RecordBatch::try_new(pass_rates_schema(), columns)
        .map_err(|source| AggregateError::Arrow { table: "pass_rates", source })
}

/// `attainment` rows as one batch.
pub fn attainment_batch(rows: &[&AttainmentRow]) -> Result<RecordBatch, AggregateError> {
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
        .map_err(|source| AggregateError::Arrow { table: "attainment", source })
}

/// Writes `pass_rates` into `table_dir`, one partition per year.
pub fn write_pass_rates(
    table_dir: &Path,
    rows: &[PassRateRow],
    metadata: &[(String, String)],
) -> Result<Vec<WrittenFile>, AggregateError> {
    write_by_year(table_dir, &pass_rates_schema(), rows, |r| r.period_start.year(), pass_rates_batch, metadata)
}

/// Writes `attainment` into `table_dir`, one partition per target year.
pub fn write_attainment(
    table_dir: &Path,
    rows: &[AttainmentRow],
    metadata: &[(String, String)],
) -> Result<Vec<WrittenFile>, AggregateError> {
    write_by_year(table_dir, &attainment_schema(), rows, |r| r.target.year, attainment_batch, metadata)
}
