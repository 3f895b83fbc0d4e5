//! The Arrow schemas of zhijian's tables: the contract with analysts.
//!
//! Every field carries a `description` (and, where it has one, a `unit`) in its metadata, so
//! the docs and the golden schema test are generated from here. Partitioned tables do not
//! store their partition column (`year`): readers add it from the directory names
//! (`year=2013`), as Hive partitioning does.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};

/// The schema version written to each Parquet file's key/value metadata. Bumped on additive
/// changes; columns are never renamed, retyped or removed.
pub const SCHEMA_VERSION: &str = "4";

/// The metadata key that holds [`SCHEMA_VERSION`].
pub const SCHEMA_VERSION_KEY: &str = "zhijian.schema_version";

/// Every table, with whether it is partitioned by `year`.
pub const TABLES: &[(&str, bool)] =
    &[("samples", true), ("results", true), ("rejects", false), ("pass_rates", true), ("attainment", true)];

/// The schema of a table by name.
pub fn schema_for(table: &str) -> Option<SchemaRef> {
    match table {
        "samples" => Some(samples_schema()),
        "results" => Some(results_schema()),
        "rejects" => Some(rejects_schema()),
        "pass_rates" => Some(pass_rates_schema()),
        "attainment" => Some(attainment_schema()),
        _ => None,
    }
}

struct Col {
    name: &'static str,
    data_type: DataType,
    nullable: bool,
    description: &'static str,
    unit: Option<&'static str>,
}

fn col(name: &'static str, data_type: DataType, nullable: bool, description: &'static str) -> Col {
    Col { name, data_type, nullable, description, unit: None }
}

fn text(name: &'static str, nullable: bool, description: &'static str) -> Col {
    col(name, DataType::Utf8, nullable, description)
}

fn list_of_text(name: &'static str, description: &'static str) -> Col {
    let item = Field::new("item", DataType::Utf8, true);
    col(name, DataType::List(Arc::new(item)), false, description)
}

fn with_unit(mut c: Col, unit: &'static str) -> Col {
    c.unit = Some(unit);
    c
}

fn build(cols: Vec<Col>) -> SchemaRef {
    let fields: Vec<Field> = cols
        .into_iter()
        .map(|c| {
            let mut metadata = HashMap::from([("description".to_string(), c.description.to_string())]);
            if let Some(unit) = c.unit {
                metadata.insert("unit".to_string(), unit.to_string());
            }
            Field::new(c.name, c.data_type, c.nullable).with_metadata(metadata)
        })
        .collect();
    let metadata = HashMap::from([(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string())]);
    Arc::new(Schema::new_with_metadata(fields, metadata))
}

fn source_columns() -> [Col; 3] {
    [
        text(
            "source_file",
            false,
            "input file, relative to the pipeline file's folder; `FILE#SHEET` for a worksheet of a workbook read on several (`sheet = \"*\"` or a list)",
        ),
        col("source_record", DataType::Int64, false, "record number in the file, from 0, header excluded"),
        col("source_line", DataType::Int64, false, "line in the file where the record starts, from 1"),
    ]
}

/// `samples`: one row per sample (batch), partitioned by the year of `sampling_date`.
pub fn samples_schema() -> SchemaRef {
    let mut cols = vec![
        text("sample_key", false, "programme and source sample id, `food:SC13410100001`; unique"),
        text(
            "programme",
            false,
            "programme code (food, agri_products, livestock, agri_inputs, consumer_products, net_content)",
        ),
        text("sub_programme", true, "task type as the source writes it (监督抽检, 风险监测 …)"),
        text("source_sample_id", false, "the sample id in the source (抽样编号)"),
        text("product_name", false, "product name (样品名称)"),
        text(
            "category_1",
            true,
            "category level 1 of the programme's tree (food: 食品大类; net content: the kind of goods), canonical name when known",
        ),
        text("category_2", true, "category level 2 (food: 食品亚类; other programmes: the product)"),
        text("category_3", true, "category level 3 (food: 食品次亚类)"),
        text("category_4", true, "category level 4 (food: 食品细类)"),
        text("province_code", false, "GB/T 2260 code of the province"),
        text("city_code", false, "GB/T 2260 code of the city-level unit"),
        text("city_name", false, "name of the city-level unit"),
        text("county_code", true, "GB/T 2260 code of the county-level unit, when the source names one"),
        text("county_name", true, "name of the county-level unit"),
        text(
            "reporting_unit_code",
            false,
            "the unit that reports to the province: the county when it is directly administered, else the city",
        ),
        col(
            "directly_administered",
            DataType::Boolean,
            false,
            "the county is one of the ten under direct provincial administration",
        ),
        text("stage", true, "stage of the food chain: production, distribution, catering, online"),
        text("site_type", true, "sampling place as written (超市, 农贸市场 …)"),
        text("entity_name", true, "sampled entity (被抽样单位名称)"),
        text("entity_credit_code", true, "its unified social credit code or organisation code"),
        text("producer_name", true, "labelled producer (标称生产企业名称)"),
        text("lab_name", true, "testing laboratory (检验机构名称)"),
        col("sampling_date", DataType::Date32, false, "sampling date (抽样日期)"),
        col("report_date", DataType::Date32, true, "report date (报告日期)"),
        text(
            "verdict",
            false,
            "zhijian's verdict from the results: pass, fail, pending, not_judged (the source does not judge and no limit does)",
        ),
        text("reported_verdict", true, "the source's own verdict (检验结论): pass, fail, or null"),
        col("verdict_conflict", DataType::Boolean, false, "the reported verdict disagrees with `verdict`"),
        list_of_text("failing_items", "canonical names of the failing test items, in source order"),
        col(
            "result_count",
            DataType::Int32,
            false,
            "number of accepted results of the sample, superseded ones included (in one-row-per-sample layouts: its listed failing items)",
        ),
        col("rejected_rows", DataType::Int32, false, "number of the sample's item rows that went to rejects"),
        col("is_retest", DataType::Boolean, false, "the sample is a re-test (复检) after an objection"),
        list_of_text("flags", "codes of the warnings raised on the sample (see the rules table)"),
    ];
    cols.extend(source_columns());
    // Added in schema version 2.
    cols.extend([
        text(
            "original_verdict",
            true,
            "for re-tested samples, the verdict before the re-test replaced it; null otherwise",
        ),
        list_of_text(
            "superseded_deliveries",
            "earlier files that delivered this sample; their rows are in `rejects` as sample_redelivered",
        ),
    ]);
    // Added in schema version 3.
    cols.push(text(
        "verdict_after_uncertainty",
        false,
        "the verdict with measurement uncertainty allowed for: results only `above_limit` pass (EU practice); `verdict` judges the measured value (GB practice)",
    ));
    build(cols)
}

/// `results`: one row per sample × test item, partitioned by the year of `sampling_date`.
pub fn results_schema() -> SchemaRef {
    let mut cols = vec![
        text("sample_key", false, "the sample, joins `samples.sample_key`"),
        text("programme", false, "programme code"),
        col("sampling_date", DataType::Date32, false, "the sample's sampling date"),
        text("item", false, "test item, canonical name when known (检验项目)"),
        text("item_raw", false, "test item as written in the source"),
        text("analyte_code", true, "analyte code from seeds/analytes.csv, null when unknown"),
        text("result_type", false, "value, below_loq, not_detected, qualitative"),
        with_unit(
            col("value", DataType::Float64, true, "measured value in `unit`; null unless result_type is value"),
            "see `unit`",
        ),
        text("unit", true, "canonical unit of the analyte (or the source unit for unknown analytes)"),
        text("raw_result", false, "result as written in the source (检验结果)"),
        text("raw_unit", true, "unit as written in the source (结果单位)"),
        with_unit(col("lod", DataType::Float64, true, "limit of detection, in `unit`"), "see `unit`"),
        with_unit(
            col("loq", DataType::Float64, true, "limit of quantification, in `unit` (from `<0.01`)"),
            "see `unit`",
        ),
        with_unit(col("limit_min", DataType::Float64, true, "lowest allowed value, in `unit`"), "see `unit`"),
        with_unit(col("limit_max", DataType::Float64, true, "highest allowed value, in `unit`"), "see `unit`"),
        col("limit_banned", DataType::Boolean, false, "must not be detected (不得检出), or the analyte is banned"),
        text("limit_basis", true, "the standard the limit comes from (判定依据)"),
        text("limit_source", true, "where the limit came from: record or seeds; null when there is none"),
        text("method", true, "screening or confirmation, when the source says"),
        text("qualitative", true, "for qualitative results: positive, negative, pass, fail"),
        col("exceedance", DataType::Float64, true, "value / limit_max, for values with a maximum"),
        text("verdict", false, "zhijian's verdict on the result: pass, fail, pending"),
        text("reported_verdict", true, "the source's verdict on the item (结果判定)"),
        col("verdict_conflict", DataType::Boolean, false, "the reported item verdict disagrees with `verdict`"),
        list_of_text("flags", "codes of the warnings raised on the result"),
    ];
    cols.extend(source_columns());
    // Added in schema version 2.
    cols.extend([
        with_unit(
            col(
                "declared_value",
                DataType::Float64,
                true,
                "labelled or declared value the limits derive from (标明值, 标注净含量), in `unit`",
            ),
            "see `unit`",
        ),
        col("is_retest", DataType::Boolean, false, "the result comes from a re-test (复检)"),
        col(
            "superseded",
            DataType::Boolean,
            false,
            "a later result replaced this one for the sample's verdict: its confirmation, or a re-test",
        ),
    ]);
    // Added in schema version 3.
    cols.extend([
        col("limit_min_strict", DataType::Boolean, false, "the minimum itself is not allowed (`>x`)"),
        col("limit_max_strict", DataType::Boolean, false, "the maximum itself is not allowed (`<x`)"),
        with_unit(
            col(
                "uncertainty",
                DataType::Float64,
                true,
                "expanded measurement uncertainty U of `value`, in `unit`: the record's, else the seeds' default (seeds/uncertainty.csv)",
            ),
            "see `unit`",
        ),
        text("uncertainty_source", true, "where the uncertainty came from: record or seeds; null when there is none"),
        text(
            "evaluation",
            false,
            "with the uncertainty allowed for: compliant, above_limit (outside on the value, within after U), non_compliant_after_uncertainty, not_evaluated (verdict pending)",
        ),
    ]);
    // Added in schema version 4.
    cols.push(text(
        "result_group",
        true,
        "the result group of its row it came from (`[[sources.result_groups]]`: 初筛, 确证, 复检, one analyte of a wide sheet); null when the row holds one result",
    ));
    build(cols)
}

/// `rejects`: one row per rejected input row. Not partitioned: a rejected row may have no
/// usable date.
pub fn rejects_schema() -> SchemaRef {
    let mut cols = vec![
        text("source", false, "name of the pipeline source the file belongs to"),
        text("programme", false, "programme code of the source"),
    ];
    cols.extend(source_columns());
    cols.extend([
        text("sample_id", true, "the row's sample id, when it has one"),
        text("item", true, "the row's test item, when it has one"),
        text("field", true, "the canonical field at fault (sampling_date, city …)"),
        text("column", true, "the column header in the file"),
        text("value", true, "the offending value as written"),
        text("rule", false, "rule code (see the rules table)"),
        text(
            "severity",
            false,
            "error, or info for a row that a later delivery of its sample replaced; warnings keep their row",
        ),
        text("message", false, "what is wrong, in words"),
        text("raw_record", false, "the whole record, fields joined by `|`"),
    ]);
    build(cols)
}

/// `pass_rates`: the pass-rate cube, partitioned by the period's year.
pub fn pass_rates_schema() -> SchemaRef {
    build(vec![
        text("period_type", false, "month, quarter or year"),
        text("period", false, "`2013-07`, `2013-Q3` or `2013`"),
        col("period_start", DataType::Date32, false, "first day of the period"),
        text("area_level", false, "province, city, reporting_unit or county; each level partitions the province"),
        text("area_code", false, "GB/T 2260 code of the area"),
        text("area_name", false, "name of the area"),
        text("programme", false, "programme code"),
        text("category", false, "top-level category (category_1), or `all` for the programme as a whole"),
        col("tested", DataType::Int64, false, "samples: passed + failed + pending + not_judged"),
        col("passed", DataType::Int64, false, "samples that passed"),
        col("failed", DataType::Int64, false, "samples that failed"),
        col("pending", DataType::Int64, false, "samples not yet decided; not in the pass rate"),
        col("pass_rate", DataType::Float64, true, "passed / (passed + failed); null when both are 0"),
        col("wilson_low", DataType::Float64, true, "lower bound of the 95% Wilson score interval of pass_rate"),
        col("wilson_high", DataType::Float64, true, "upper bound of the 95% Wilson score interval of pass_rate"),
        // Added in schema version 3.
        col(
            "passed_after_uncertainty",
            DataType::Int64,
            false,
            "samples whose verdict_after_uncertainty passes: those that passed, and failures only above the limit within its uncertainty",
        ),
        col("failed_after_uncertainty", DataType::Int64, false, "samples whose verdict_after_uncertainty fails"),
        col(
            "pass_rate_after_uncertainty",
            DataType::Float64,
            true,
            "passed_after_uncertainty / (passed_after_uncertainty + failed_after_uncertainty); null when both are 0",
        ),
        col(
            "not_judged",
            DataType::Int64,
            false,
            "samples the source does not judge (risk monitoring: /, ——, 不作判定) and no limit judges; in tested, not in the pass rate",
        ),
    ])
}

/// `attainment`: progress against the targets, partitioned by the target year.
pub fn attainment_schema() -> SchemaRef {
    build(vec![
        text("programme", false, "programme code"),
        text("area_level", false, "province, city, reporting_unit or county"),
        text("area_code", false, "GB/T 2260 code of the area"),
        text("area_name", false, "name of the area"),
        text("unit", false, "what the target counts: samples, tests or kinds"),
        col("target", DataType::Int64, false, "the year's target"),
        col("achieved", DataType::Int64, false, "accepted samples (or tests) sampled in the year up to as_of"),
        col("as_of", DataType::Date32, false, "the as-of date of the run"),
        col(
            "expected",
            DataType::Float64,
            false,
            "pro-rata share of the target due by as_of: target × elapsed days / days in year",
        ),
        col("ratio", DataType::Float64, true, "achieved / expected; null when expected is 0"),
        col("completion", DataType::Float64, true, "achieved / target; null when the target is 0"),
        text("status", false, "met (achieved ≥ target), on_track (achieved ≥ expected) or behind"),
        col(
            "illustrative",
            DataType::Boolean,
            false,
            "the target is an illustrative allocation, not an official figure",
        ),
        text("basis", true, "where the target comes from"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_schema_with_descriptions_and_version() {
        for (table, _) in TABLES {
            let schema = schema_for(table).unwrap();
            assert_eq!(schema.metadata().get(SCHEMA_VERSION_KEY).map(String::as_str), Some(SCHEMA_VERSION));
            for field in schema.fields() {
                assert!(field.metadata().contains_key("description"), "{table}.{}", field.name());
                assert_ne!(field.name(), crate::PARTITION_COLUMN, "{table} stores its partition column");
            }
        }
        assert!(schema_for("nope").is_none());
    }
}
