//! The published tables, read into plain rows (they are small: cubes and samples' few columns).

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{Array, RecordBatch};
use chrono::NaiveDate;
use zhijian_model::tables::{
    ATTAINMENT_COLUMNS, AttainmentRow, PASS_RATES_COLUMNS, PassRateRow, TableError, attainment_rows, pass_rates_rows,
};

use crate::CheckError;

pub(crate) struct SampleFacts {
    pub programme: String,
    pub sampling_date: Option<NaiveDate>,
    pub verdict_conflict: bool,
}

pub(crate) struct SourceFacts {
    pub source: String,
    pub rows_read: u64,
    pub rows_rejected: u64,
}

/// The batches of `table`, only those of partition `year` when given.
fn read(
    output: &Path,
    table: &'static str,
    columns: &[&str],
    year: Option<i32>,
) -> Result<Vec<RecordBatch>, CheckError> {
    let dir = output.join(table);
    if !dir.is_dir() {
        return Err(CheckError::MissingOutputs { output: output.to_path_buf(), reason: format!("no `{table}` table") });
    }
    let mut batches = Vec::new();
    for file in zhijian_store::table_files(&dir)? {
        if year.is_none_or(|y| zhijian_store::partition_year(&file) == Some(y)) {
            batches.extend(zhijian_store::read_file(&file, Some(columns))?);
        }
    }
    Ok(batches)
}

fn column<'b>(batch: &'b RecordBatch, table: &'static str, name: &str) -> Result<&'b dyn Array, CheckError> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| CheckError::Table { table, message: format!("no column `{name}`") })
}

fn texts(batch: &RecordBatch, table: &'static str, name: &str) -> Result<Vec<String>, CheckError> {
    let array = column(batch, table, name)?
        .as_string_opt::<i32>()
        .ok_or_else(|| CheckError::Table { table, message: format!("`{name}` is not text") })?;
    Ok((0..array.len()).map(|i| if array.is_null(i) { String::new() } else { array.value(i).to_string() }).collect())
}

fn table_error(e: TableError) -> CheckError {
    CheckError::Table { table: e.table, message: e.message }
}

/// Every `pass_rates` row, typed by the model.
pub(crate) fn pass_rates(output: &Path) -> Result<Vec<PassRateRow>, CheckError> {
    let mut out = Vec::new();
    for batch in read(output, "pass_rates", PASS_RATES_COLUMNS, None)? {
        out.extend(pass_rates_rows(&batch).map_err(table_error)?);
    }
    Ok(out)
}

/// The attainment rows of the target year `year`, typed by the model.
pub(crate) fn attainment(output: &Path, year: i32) -> Result<Vec<AttainmentRow>, CheckError> {
    let mut out = Vec::new();
    for batch in read(output, "attainment", ATTAINMENT_COLUMNS, Some(year))? {
        out.extend(attainment_rows(&batch, year).map_err(table_error)?);
    }
    Ok(out)
}

pub(crate) fn samples(output: &Path) -> Result<Vec<SampleFacts>, CheckError> {
    const T: &str = "samples";
    let mut out = Vec::new();
    for b in read(output, T, &["programme", "sampling_date", "verdict_conflict"], None)? {
        let programme = texts(&b, T, "programme")?;
        let dates = column(&b, T, "sampling_date")?
            .as_primitive_opt::<Date32Type>()
            .ok_or_else(|| CheckError::Table { table: T, message: "`sampling_date` is not Date32".into() })?;
        let conflicts = column(&b, T, "verdict_conflict")?
            .as_boolean_opt()
            .ok_or_else(|| CheckError::Table { table: T, message: "`verdict_conflict` is not Boolean".into() })?;
        for (i, programme) in programme.into_iter().enumerate() {
            out.push(SampleFacts {
                programme,
                sampling_date: dates.value_as_date(i),
                verdict_conflict: conflicts.value(i),
            });
        }
    }
    Ok(out)
}

pub(crate) fn sources(output: &Path) -> Result<Vec<SourceFacts>, CheckError> {
    let manifest = manifest(output)?;
    let mut out: Vec<SourceFacts> = Vec::new();
    for input in &manifest.inputs {
        match out.iter_mut().find(|s| s.source == input.source) {
            Some(s) => {
                s.rows_read += input.rows_read;
                s.rows_rejected += input.rows_rejected;
            }
            None => out.push(SourceFacts {
                source: input.source.clone(),
                rows_read: input.rows_read,
                rows_rejected: input.rows_rejected,
            }),
        }
    }
    Ok(out)
}

/// The manifest of a published output; its absence or damage means the outputs are missing.
fn manifest(output: &Path) -> Result<zhijian_store::manifest::Manifest, CheckError> {
    zhijian_store::manifest::read_manifest(output)
        .map_err(|e| CheckError::MissingOutputs { output: output.to_path_buf(), reason: e.to_string() })
}

/// The as-of date a run recorded in its manifest.
pub fn manifest_as_of(output: &Path) -> Result<NaiveDate, CheckError> {
    if !output.join("_SUCCESS").exists() {
        return Err(CheckError::MissingOutputs { output: output.to_path_buf(), reason: "no `_SUCCESS`".to_string() });
    }
    Ok(manifest(output)?.as_of)
}
