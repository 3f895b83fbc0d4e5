//! Records → Arrow batches in the model's schemas.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::ArrowError;
use chrono::NaiveDate;
use zhijian_model::{rejects_schema, results_schema, samples_schema};
use zhijian_seeds::Canonical;

use crate::assemble::{ResultRecord, SampleRecord};
use crate::normalise::Reject;

use zhijian_store::date32;

fn text_list<'a>(rows: impl ExactSizeIterator<Item = impl IntoIterator<Item = &'a str>>) -> ArrayRef {
    let mut builder = ListBuilder::with_capacity(StringBuilder::new(), rows.len());
    for row in rows {
        for value in row {
            builder.values().append_value(value);
        }
        builder.append(true);
    }
    Arc::new(builder.finish())
}

/// A string column, its buffer sized by a first pass over the values: growing it as it fills
/// cost copies and fresh pages for every batch.
fn strings<'a>(values: impl ExactSizeIterator<Item = Option<&'a str>> + Clone) -> ArrayRef {
    let bytes = values.clone().map(|v| v.map_or(0, str::len)).sum();
    let mut builder = StringBuilder::with_capacity(values.len(), bytes);
    for value in values {
        builder.append_option(value);
    }
    Arc::new(builder.finish())
}

fn bools(values: impl ExactSizeIterator<Item = bool>) -> ArrayRef {
    let mut builder = BooleanBuilder::with_capacity(values.len());
    for value in values {
        builder.append_value(value);
    }
    Arc::new(builder.finish())
}

fn dates(values: impl ExactSizeIterator<Item = Option<NaiveDate>>) -> ArrayRef {
    let mut builder = Date32Builder::with_capacity(values.len());
    for value in values {
        builder.append_option(value.map(date32));
    }
    Arc::new(builder.finish())
}

fn floats(values: impl ExactSizeIterator<Item = Option<f64>>) -> ArrayRef {
    let mut builder = Float64Builder::with_capacity(values.len());
    for value in values {
        builder.append_option(value);
    }
    Arc::new(builder.finish())
}

fn int32s(values: impl ExactSizeIterator<Item = i32>) -> ArrayRef {
    let mut builder = Int32Builder::with_capacity(values.len());
    for value in values {
        builder.append_value(value);
    }
    Arc::new(builder.finish())
}

fn int64s(values: impl ExactSizeIterator<Item = i64>) -> ArrayRef {
    let mut builder = Int64Builder::with_capacity(values.len());
    for value in values {
        builder.append_value(value);
    }
    Arc::new(builder.finish())
}

/// `samples` rows as one batch.
pub fn samples_batch(rows: &[&SampleRecord]) -> Result<RecordBatch, ArrowError> {
    let f = |i: usize| rows.iter().map(move |r| r.fields.category.names[i].as_deref());
    let columns: Vec<ArrayRef> = vec![
        strings(rows.iter().map(|r| Some(r.sample_key.as_str()))),
        strings(rows.iter().map(|r| Some(r.programme.as_str()))),
        strings(rows.iter().map(|r| r.fields.sub_programme.as_deref())),
        strings(rows.iter().map(|r| Some(r.source_sample_id.as_str()))),
        strings(rows.iter().map(|r| Some(r.fields.product_name.as_str()))),
        strings(f(0)),
        strings(f(1)),
        strings(f(2)),
        strings(f(3)),
        strings(rows.iter().map(|r| r.fields.city.parent.as_deref())),
        strings(rows.iter().map(|r| Some(r.fields.city.code.as_str()))),
        strings(rows.iter().map(|r| Some(r.fields.city.name.as_str()))),
        strings(rows.iter().map(|r| r.fields.county.as_ref().map(|c| c.code.as_str()))),
        strings(rows.iter().map(|r| r.fields.county.as_ref().map(|c| c.name.as_str()))),
        strings(rows.iter().map(|r| Some(r.fields.reporting_unit_code.as_str()))),
        bools(rows.iter().map(|r| r.fields.county.as_ref().is_some_and(|c| c.directly_administered))),
        strings(rows.iter().map(|r| r.fields.stage.map(|s| s.as_str()))),
        strings(rows.iter().map(|r| r.fields.site_type.as_deref())),
        strings(rows.iter().map(|r| r.fields.entity_name.as_deref())),
        strings(rows.iter().map(|r| r.fields.entity_credit_code.as_deref())),
        strings(rows.iter().map(|r| r.fields.producer_name.as_deref())),
        strings(rows.iter().map(|r| r.fields.lab_name.as_deref())),
        dates(rows.iter().map(|r| Some(r.fields.sampling_date))),
        dates(rows.iter().map(|r| r.fields.report_date)),
        strings(rows.iter().map(|r| Some(r.verdict.as_str()))),
        strings(rows.iter().map(|r| r.fields.reported_verdict.map(|v| v.as_str()))),
        bools(rows.iter().map(|r| r.verdict_conflict)),
        text_list(rows.iter().map(|r| r.failing_items.iter().map(String::as_str))),
        int32s(rows.iter().map(|r| r.result_count)),
        int32s(rows.iter().map(|r| r.rejected_rows)),
        bools(rows.iter().map(|r| r.fields.is_retest)),
        text_list(rows.iter().map(|r| r.flags.iter().map(|f| f.code()))),
        strings(rows.iter().map(|r| Some(r.source_file.as_str()))),
        int64s(rows.iter().map(|r| r.source_record as i64)),
        int64s(rows.iter().map(|r| r.source_line as i64)),
        strings(rows.iter().map(|r| r.original_verdict.map(|v| v.as_str()))),
        text_list(rows.iter().map(|r| r.superseded_deliveries.iter().map(String::as_str))),
        strings(rows.iter().map(|r| Some(r.verdict_after_uncertainty.as_str()))),
    ];
    RecordBatch::try_new(samples_schema(), columns)
}

/// `results` rows as one batch.
pub fn results_batch(rows: &[&ResultRecord]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        strings(rows.iter().map(|r| Some(&*r.sample_key))),
        strings(rows.iter().map(|r| Some(r.programme.as_str()))),
        dates(rows.iter().map(|r| Some(r.sampling_date))),
        strings(rows.iter().map(|r| Some(r.fields.item.as_str()))),
        strings(rows.iter().map(|r| Some(r.fields.item_raw.as_str()))),
        strings(rows.iter().map(|r| r.fields.analyte_code.as_deref())),
        strings(rows.iter().map(|r| Some(r.fields.result_type.as_str()))),
        floats(rows.iter().map(|r| r.fields.value.map(Canonical::get))),
        strings(rows.iter().map(|r| r.fields.unit.as_deref())),
        strings(rows.iter().map(|r| Some(r.fields.raw_result.as_str()))),
        strings(rows.iter().map(|r| r.fields.raw_unit.as_deref())),
        floats(rows.iter().map(|r| r.fields.lod.map(Canonical::get))),
        floats(rows.iter().map(|r| r.fields.loq.map(Canonical::get))),
        floats(rows.iter().map(|r| r.fields.limit.min.map(Canonical::get))),
        floats(rows.iter().map(|r| r.fields.limit.max.map(Canonical::get))),
        bools(rows.iter().map(|r| r.fields.limit.banned)),
        strings(rows.iter().map(|r| r.fields.limit_basis.as_deref())),
        strings(rows.iter().map(|r| r.fields.limit_source.map(|s| s.as_str()))),
        strings(rows.iter().map(|r| r.fields.method.map(|m| m.as_str()))),
        strings(rows.iter().map(|r| r.fields.qualitative.map(|q| q.as_str()))),
        floats(rows.iter().map(|r| r.fields.exceedance)),
        strings(rows.iter().map(|r| Some(r.fields.verdict.as_str()))),
        strings(rows.iter().map(|r| r.fields.reported_verdict.map(|v| v.as_str()))),
        bools(rows.iter().map(|r| r.fields.verdict_conflict)),
        text_list(rows.iter().map(|r| r.fields.flags.iter().map(|f| f.code()))),
        strings(rows.iter().map(|r| Some(&*r.source_file))),
        int64s(rows.iter().map(|r| r.source_record as i64)),
        int64s(rows.iter().map(|r| r.source_line as i64)),
        floats(rows.iter().map(|r| r.fields.declared_value.map(Canonical::get))),
        bools(rows.iter().map(|r| r.fields.is_retest)),
        bools(rows.iter().map(|r| r.fields.superseded)),
        bools(rows.iter().map(|r| r.fields.limit.min_strict)),
        bools(rows.iter().map(|r| r.fields.limit.max_strict)),
        floats(rows.iter().map(|r| r.fields.uncertainty.map(Canonical::get))),
        strings(rows.iter().map(|r| r.fields.uncertainty_source.map(|s| s.as_str()))),
        strings(rows.iter().map(|r| Some(r.fields.evaluation.as_str()))),
        strings(rows.iter().map(|r| r.fields.group.as_deref())),
    ];
    RecordBatch::try_new(results_schema(), columns)
}

/// A reject with the source it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedReject {
    /// Pipeline source name.
    pub source: String,
    /// Programme code.
    pub programme: &'static str,
    /// The reject.
    pub reject: Reject,
}

/// `rejects` rows as one batch.
pub fn rejects_batch(rows: &[SourcedReject]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        strings(rows.iter().map(|r| Some(r.source.as_str()))),
        strings(rows.iter().map(|r| Some(r.programme))),
        strings(rows.iter().map(|r| Some(r.reject.file.as_str()))),
        int64s(rows.iter().map(|r| r.reject.record as i64)),
        int64s(rows.iter().map(|r| r.reject.line as i64)),
        strings(rows.iter().map(|r| r.reject.sample_id.as_deref())),
        strings(rows.iter().map(|r| r.reject.item.as_deref())),
        strings(rows.iter().map(|r| r.reject.field.map(|f| f.as_str()))),
        strings(rows.iter().map(|r| r.reject.column.as_deref())),
        strings(rows.iter().map(|r| r.reject.value.as_deref())),
        strings(rows.iter().map(|r| Some(r.reject.rule.code()))),
        strings(rows.iter().map(|r| Some(r.reject.rule.severity().as_str()))),
        strings(rows.iter().map(|r| Some(r.reject.message.as_str()))),
        strings(rows.iter().map(|r| Some(r.reject.raw_record.as_str()))),
    ];
    RecordBatch::try_new(rejects_schema(), columns)
}
