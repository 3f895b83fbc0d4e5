//! The cube and attainment as Arrow batches and Parquet files.

use std::path::Path;

use arrow_array::RecordBatch;
use chrono::Datelike;
use zhijian_model::{attainment_schema, pass_rates_schema};
use zhijian_store::{WrittenFile, write_by_year};

use crate::{AggregateError, AttainmentRow, PassRateRow};

/// `pass_rates` rows as one batch (see [`zhijian_model::tables::pass_rates_batch`]).
pub fn pass_rates_batch(rows: &[&PassRateRow]) -> Result<RecordBatch, AggregateError> {
    zhijian_model::tables::pass_rates_batch(rows)
        .map_err(|source| AggregateError::Arrow { table: "pass_rates", source })
}

/// `attainment` rows as one batch (see [`zhijian_model::tables::attainment_batch`]).
pub fn attainment_batch(rows: &[&AttainmentRow]) -> Result<RecordBatch, AggregateError> {
    zhijian_model::tables::attainment_batch(rows)
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
