//! The published tables, read into plain rows with typed accessors.

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use chrono::NaiveDate;

use zhijian_model::tables::{
    ATTAINMENT_COLUMNS, AttainmentRow, PASS_RATES_COLUMNS, PassRateRow, attainment_rows, pass_rates_rows,
};

use crate::ReportError;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
    List(Vec<String>),
}

/// One row of a table: its values, and the batch's column names they line up with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    names: std::rc::Rc<[String]>,
    values: Vec<Value>,
}

impl Record {
    fn get(&self, column: &str) -> Option<&Value> {
        self.names.iter().position(|n| n == column).and_then(|i| self.values.get(i))
    }

    pub(crate) fn text(&self, column: &str) -> &str {
        match self.get(column) {
            Some(Value::Text(s)) => s,
            _ => "",
        }
    }
    pub(crate) fn flag(&self, column: &str) -> bool {
        matches!(self.get(column), Some(Value::Bool(true)))
    }
    pub(crate) fn date(&self, column: &str) -> Option<NaiveDate> {
        match self.get(column) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        }
    }
    pub(crate) fn list(&self, column: &str) -> &[String] {
        match self.get(column) {
            Some(Value::List(v)) => v,
            _ => &[],
        }
    }
}

fn value(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Utf8 => Value::Text(array.as_string::<i32>().value(row).to_string()),
        DataType::Int64 => Value::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Value::Int(i64::from(array.as_primitive::<Int32Type>().value(row))),
        DataType::Float64 => Value::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Date32 => array.as_primitive::<Date32Type>().value_as_date(row).map_or(Value::Null, Value::Date),
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(row);
            let strings = items.as_string_opt::<i32>();
            Value::List(strings.map_or_else(Vec::new, |s| (0..s.len()).map(|i| s.value(i).to_string()).collect()))
        }
        _ => Value::Null,
    }
}

/// Every row of `table` in `output`, the given columns only.
pub(crate) fn read(output: &Path, table: &'static str, columns: &[&str]) -> Result<Vec<Record>, ReportError> {
    read_where(output, table, columns, None)
}

/// Which rows to keep: any of the alternatives, each a set of text columns and the values they
/// must equal.
pub(crate) type Filter<'a> = &'a [&'a [(&'a str, &'a str)]];

/// [`read`], keeping only the rows `filter` matches: the report lists failing samples and
/// results (a few percent of tables that can hold millions of rows) and needs the cells of one
/// period and the monthly trend, not the whole cube.
pub(crate) fn read_where(
    output: &Path,
    table: &'static str,
    columns: &[&str],
    filter: Option<Filter<'_>>,
) -> Result<Vec<Record>, ReportError> {
    let batches = batches_where(output, table, columns, filter)?;
    Ok(batches.iter().flat_map(|batch| records(batch, filter)).collect())
}

/// The `pass_rates` rows `filter` matches, typed by the model.
pub(crate) fn pass_rates_where(output: &Path, filter: Filter<'_>) -> Result<Vec<PassRateRow>, ReportError> {
    let mut rows = Vec::new();
    for batch in batches_where(output, "pass_rates", PASS_RATES_COLUMNS, Some(filter))? {
        rows.extend(pass_rates_rows(&batch)?);
    }
    Ok(rows)
}

/// The `attainment` rows of the target year `year`, typed by the model.
pub(crate) fn attainment(output: &Path, year: i32) -> Result<Vec<AttainmentRow>, ReportError> {
    let dir = output.join("attainment");
    if !dir.is_dir() {
        return Err(ReportError::MissingTable { table: "attainment", output: output.to_path_buf() });
    }
    let mut rows = Vec::new();
    for file in zhijian_store::table_files(&dir)? {
        if zhijian_store::partition_year(&file) == Some(year) {
            for batch in zhijian_store::read_file(&file, Some(ATTAINMENT_COLUMNS))? {
                rows.extend(attainment_rows(&batch, year)?);
            }
        }
    }
    Ok(rows)
}

/// The batches of `table`, the given columns of the rows `filter` matches (exactly: a Parquet
/// row filter), the files read on every core and kept in file order.
fn batches_where(
    output: &Path,
    table: &'static str,
    columns: &[&str],
    filter: Option<Filter<'_>>,
) -> Result<Vec<RecordBatch>, ReportError> {
    let dir = output.join(table);
    if !dir.is_dir() {
        return Err(ReportError::MissingTable { table, output: output.to_path_buf() });
    }
    use rayon::prelude::*;
    let files = zhijian_store::table_files(&dir)?;
    let batches: Vec<Vec<RecordBatch>> = files
        .par_iter()
        .map(|file| match filter {
            Some(matching) => zhijian_store::read_file_matching(file, columns, matching),
            None => zhijian_store::read_file(file, Some(columns)),
        })
        .collect::<Result<_, _>>()?;
    Ok(batches.into_iter().flatten().collect())
}

fn records(batch: &RecordBatch, filter: Option<Filter<'_>>) -> Vec<Record> {
    let schema = batch.schema();
    let names: std::rc::Rc<[String]> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let alternatives: Option<Vec<Vec<_>>> = filter.map(|alternatives| {
        alternatives
            .iter()
            .map(|pairs| {
                pairs
                    .iter()
                    .map(|(column, value)| {
                        (batch.column_by_name(column).and_then(|c| c.as_string_opt::<i32>()), *value)
                    })
                    .collect()
            })
            .collect()
    });
    let matches = |row: usize, pairs: &[(Option<&arrow_array::StringArray>, &str)]| {
        pairs.iter().all(|(column, value)| column.is_some_and(|c| !c.is_null(row) && c.value(row) == *value))
    };
    (0..batch.num_rows())
        .filter(|&row| alternatives.as_ref().is_none_or(|alts| alts.iter().any(|pairs| matches(row, pairs))))
        .map(|row| Record {
            names: names.clone(),
            values: batch.columns().iter().map(|column| value(column.as_ref(), row)).collect(),
        })
        .collect()
}
