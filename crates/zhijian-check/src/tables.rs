//! The published tables, read into plain rows (they are small: cubes and samples' few columns).

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use chrono::NaiveDate;

use crate::CheckError;

pub(crate) struct Cell {
    pub period: String,
    pub area_level: String,
    pub area_code: String,
    pub area_name: String,
    pub programme: String,
    pub category: String,
    pub tested: i64,
    pub passed: i64,
    pub failed: i64,
    pub pass_rate: Option<f64>,
    pub wilson_low: Option<f64>,
}

pub(crate) struct Attained {
    pub programme: String,
    pub area_level: String,
    pub area_code: String,
    pub area_name: String,
    pub unit: String,
    pub target: i64,
    pub achieved: i64,
    pub expected: f64,
}

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

fn ints(batch: &RecordBatch, table: &'static str, name: &str) -> Result<Vec<i64>, CheckError> {
    let array = column(batch, table, name)?
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| CheckError::Table { table, message: format!("`{name}` is not Int64") })?;
    Ok(array.iter().map(|v| v.unwrap_or(0)).collect())
}

fn floats(batch: &RecordBatch, table: &'static str, name: &str) -> Result<Vec<Option<f64>>, CheckError> {
    let array = column(batch, table, name)?
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| CheckError::Table { table, message: format!("`{name}` is not Float64") })?;
    Ok(array.iter().collect())
}

pub(crate) fn pass_rates(output: &Path) -> Result<Vec<Cell>, CheckError> {
    const T: &str = "pass_rates";
    let mut out = Vec::new();
    for b in read(
        output,
        T,
        &[
            "period",
            "area_level",
            "area_code",
            "area_name",
            "programme",
            "category",
            "tested",
            "passed",
            "failed",
            "pass_rate",
            "wilson_low",
        ],
        None,
    )? {
        let (period, level, code, name, programme, category) = (
            texts(&b, T, "period")?,
            texts(&b, T, "area_level")?,
            texts(&b, T, "area_code")?,
            texts(&b, T, "area_name")?,
            texts(&b, T, "programme")?,
            texts(&b, T, "category")?,
        );
        let (tested, passed, failed, rate, low) = (
            ints(&b, T, "tested")?,
            ints(&b, T, "passed")?,
            ints(&b, T, "failed")?,
            floats(&b, T, "pass_rate")?,
            floats(&b, T, "wilson_low")?,
        );
        for i in 0..b.num_rows() {
            out.push(Cell {
                period: period[i].clone(),
                area_level: level[i].clone(),
                area_code: code[i].clone(),
                area_name: name[i].clone(),
                programme: programme[i].clone(),
                category: category[i].clone(),
                tested: tested[i],
                passed: passed[i],
                failed: failed[i],
                pass_rate: rate[i],
                wilson_low: low[i],
            });
        }
    }
    Ok(out)
}

/// The attainment rows of the target year `year`.
pub(crate) fn attainment(output: &Path, year: i32) -> Result<Vec<Attained>, CheckError> {
    const T: &str = "attainment";
    let columns = ["programme", "area_level", "area_code", "area_name", "unit", "target", "achieved", "expected"];
    let batches = read(output, T, &columns, Some(year))?;
    let mut out = Vec::new();
    for b in batches {
        let (programme, level, code, name, unit) = (
            texts(&b, T, "programme")?,
            texts(&b, T, "area_level")?,
            texts(&b, T, "area_code")?,
            texts(&b, T, "area_name")?,
            texts(&b, T, "unit")?,
        );
        let (target, achieved, expected) =
            (ints(&b, T, "target")?, ints(&b, T, "achieved")?, floats(&b, T, "expected")?);
        for i in 0..b.num_rows() {
            out.push(Attained {
                programme: programme[i].clone(),
                area_level: level[i].clone(),
                area_code: code[i].clone(),
                area_name: name[i].clone(),
                unit: unit[i].clone(),
                target: target[i],
                achieved: achieved[i],
                expected: expected[i].unwrap_or(0.0),
            });
        }
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
