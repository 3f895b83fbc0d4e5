//! One record → one typed row, or one reject naming file, line, field and value.
//!
//! Checks run in a fixed order and the first error decides the reject, so every row lands in
//! exactly one place. Warnings do not stop the row; they are collected as flags.
//!
//! A row carries the results its layout yields: one per record in `item_rows`; the failing
//! items packed in one cell in `sample_rows` (none for a passing sample); three computed
//! results (mean, units short by more than T, units short by more than 2T) in `net_content`.

use chrono::NaiveDate;
use zhijian_model::{Evaluation, Method, ResultType, Rule, Stage, Verdict};
use zhijian_pipeline::{Field, Layout, Source};
use zhijian_seeds::{Area, Canonical, CategoryPath, Quantity, Seeds, Unit, UnitTable, normalise_text};

use crate::groups::GroupIndex;
use crate::judge::{EffectiveLimit, evaluate, exceedance, judge_result};
use crate::parse::{
    ParsedLimit, Qualitative, Reading, Tolerance, Uncertainty, VocabularyIndex, parse_date_in, parse_method,
    parse_number, parse_tolerance, parse_uncertainty, split_any,
};
use crate::read::{ColumnIndex, RawRecord};

/// What a source's rows are normalised with.
#[derive(Debug)]
pub struct Context<'a> {
    /// Reference tables.
    pub seeds: &'a Seeds,
    /// The source's configuration.
    pub source: &'a Source,
    /// Its vocabulary, indexed.
    pub vocabulary: VocabularyIndex,
    /// Nothing may be dated after this day.
    pub as_of: NaiveDate,
}

/// A rejected input row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reject {
    /// The file, relative to the pipeline file's folder.
    #[serde(deserialize_with = "crate::spill::text")]
    pub file: String,
    /// Record number in the file, from 0.
    pub record: u64,
    /// Line, from 1.
    pub line: u64,
    /// The row's sample id, when it has one.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub sample_id: Option<String>,
    /// The row's test item, when it has one.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub item: Option<String>,
    /// The field at fault.
    pub field: Option<Field>,
    /// Its column header in the file.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub column: Option<String>,
    /// The offending value.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub value: Option<String>,
    /// The rule.
    pub rule: Rule,
    /// What is wrong.
    #[serde(deserialize_with = "crate::spill::text")]
    pub message: String,
    /// The whole record, cells joined by `|`.
    #[serde(deserialize_with = "crate::spill::text")]
    pub raw_record: String,
}

/// The sample-level fields of a row, normalised.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SampleFields {
    /// 任务类别.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub sub_programme: Option<String>,
    /// 样品名称.
    #[serde(deserialize_with = "crate::spill::text")]
    pub product_name: String,
    /// The four category levels.
    pub category: CategoryPath,
    /// City-level unit.
    pub city: Area,
    /// County, when given.
    pub county: Option<Area>,
    /// Reporting unit code.
    #[serde(deserialize_with = "crate::spill::text")]
    pub reporting_unit_code: String,
    /// Sampled entity.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub entity_name: Option<String>,
    /// Its credit code.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub entity_credit_code: Option<String>,
    /// Stage, when the word is known.
    pub stage: Option<Stage>,
    /// Stage as written, kept to compare rows and to flag unknown words.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub stage_raw: Option<String>,
    /// 抽样场所.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub site_type: Option<String>,
    /// 标称生产企业名称.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub producer_name: Option<String>,
    /// 检验机构名称.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub lab_name: Option<String>,
    /// 抽样日期.
    pub sampling_date: NaiveDate,
    /// 报告日期.
    pub report_date: Option<NaiveDate>,
    /// 检验结论.
    pub reported_verdict: Option<Verdict>,
    /// 复检.
    pub is_retest: bool,
}

impl SampleFields {
    /// Whether the fields of [`Self::comparable`] are equal, without making their texts: the
    /// common case, checked first. Equal here means equal there; the converse may not hold,
    /// so a `false` is settled by comparing the texts.
    pub fn agrees_with(&self, other: &SampleFields) -> bool {
        self.product_name == other.product_name
            && self.sub_programme == other.sub_programme
            && self.category.names == other.category.names
            && self.city.code == other.city.code
            && self.county.as_ref().map(|c| &c.code) == other.county.as_ref().map(|c| &c.code)
            && self.entity_name == other.entity_name
            && self.entity_credit_code == other.entity_credit_code
            && self.stage_raw == other.stage_raw
            && self.site_type == other.site_type
            && self.producer_name == other.producer_name
            && self.lab_name == other.lab_name
            && self.sampling_date == other.sampling_date
            && self.report_date == other.report_date
            && self.reported_verdict == other.reported_verdict
    }

    /// The fields that must agree on every row of a sample, as (field, comparable text).
    pub fn comparable(&self) -> [(Field, String); 14] {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        [
            (Field::ProductName, self.product_name.clone()),
            (Field::SubProgramme, opt(&self.sub_programme)),
            (
                Field::Category1,
                self.category.names.iter().map(|n| n.clone().unwrap_or_default()).collect::<Vec<_>>().join("/"),
            ),
            (Field::City, self.city.code.clone()),
            (Field::County, self.county.as_ref().map(|c| c.code.clone()).unwrap_or_default()),
            (Field::EntityName, opt(&self.entity_name)),
            (Field::EntityCreditCode, opt(&self.entity_credit_code)),
            (Field::Stage, opt(&self.stage_raw)),
            (Field::SiteType, opt(&self.site_type)),
            (Field::ProducerName, opt(&self.producer_name)),
            (Field::LabName, opt(&self.lab_name)),
            (Field::SamplingDate, self.sampling_date.to_string()),
            (Field::ReportDate, date(self.report_date)),
            (Field::SampleVerdict, self.reported_verdict.map(|v| v.as_str().to_string()).unwrap_or_default()),
        ]
    }
}

/// Where a result's limit came from: `results.limit_source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitSource {
    /// The record's own limit columns (or its declared value and tolerance).
    Record,
    /// seeds/limits.csv, or the analyte's ban.
    Seeds,
}

impl LimitSource {
    /// The code written to `results.limit_source`.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitSource::Record => "record",
            LimitSource::Seeds => "seeds",
        }
    }
}

/// The result-level fields of a row, normalised and judged.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResultFields {
    /// Canonical item name (or as written when unknown).
    #[serde(deserialize_with = "crate::spill::text")]
    pub item: String,
    /// As written.
    #[serde(deserialize_with = "crate::spill::text")]
    pub item_raw: String,
    /// Analyte code when known.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub analyte_code: Option<String>,
    /// How the result was written.
    pub result_type: ResultType,
    /// Value in `unit`.
    pub value: Option<Canonical>,
    /// Canonical unit.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub unit: Option<String>,
    /// Result as written.
    #[serde(deserialize_with = "crate::spill::text")]
    pub raw_result: String,
    /// Unit as written.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub raw_unit: Option<String>,
    /// Limit of detection, in `unit`.
    pub lod: Option<Canonical>,
    /// Limit of quantification, in `unit`.
    pub loq: Option<Canonical>,
    /// The limit judged against.
    pub limit: EffectiveLimit,
    /// 判定依据, or the seed limit's standard.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub limit_basis: Option<String>,
    /// Where the limit came from.
    pub limit_source: Option<LimitSource>,
    /// Screening or confirmation.
    pub method: Option<Method>,
    /// Qualitative answer.
    pub qualitative: Option<Qualitative>,
    /// value / limit max.
    pub exceedance: Option<f64>,
    /// zhijian's verdict.
    pub verdict: Verdict,
    /// Expanded measurement uncertainty of the value, in `unit`.
    pub uncertainty: Option<Canonical>,
    /// Where the uncertainty came from: the record, or the seeds' default.
    pub uncertainty_source: Option<LimitSource>,
    /// The evaluation after measurement uncertainty.
    pub evaluation: Evaluation,
    /// 结果判定.
    pub reported_verdict: Option<Verdict>,
    /// They disagree.
    pub verdict_conflict: bool,
    /// Warnings.
    pub flags: Vec<Rule>,
    /// The declared value the limits derive from (标明值, labelled quantity), in `unit`.
    pub declared_value: Option<Canonical>,
    /// From a re-test: a re-test row, or a re-test group of its row.
    pub is_retest: bool,
    /// The result group of its row it came from (`[[sources.result_groups]]`), by name.
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub group: Option<String>,
    /// A later result (its confirmation, a re-test) replaced it for the sample's verdict; set
    /// when the sample is assembled.
    pub superseded: bool,
}

impl ResultFields {
    /// Whether two results say the same, however they were written: the same item, method,
    /// reading and limits in canonical units. A repeated row that says the same is a plain
    /// duplicate; one that says something else leaves its sample in doubt.
    pub fn same_measurement(&self, other: &ResultFields) -> bool {
        self.item_key() == other.item_key()
            && self.method == other.method
            && self.result_type == other.result_type
            && self.value == other.value
            && self.unit == other.unit
            && self.lod == other.lod
            && self.loq == other.loq
            && self.qualitative == other.qualitative
            && self.limit == other.limit
            && self.declared_value == other.declared_value
            && self.uncertainty == other.uncertainty
    }

    /// The key under which duplicate items are detected.
    pub fn item_key(&self) -> std::borrow::Cow<'_, str> {
        match &self.analyte_code {
            Some(code) => std::borrow::Cow::Borrowed(code),
            None => std::borrow::Cow::Owned(zhijian_seeds::normalise_key(&self.item)),
        }
    }
}

/// An accepted row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// Record number in the file, from 0.
    pub record: u64,
    /// Line, from 1.
    pub line: u64,
    /// The whole record, in case the sample-level rules reject it later.
    #[serde(deserialize_with = "crate::spill::text")]
    pub raw_record: String,
    /// 抽样编号.
    #[serde(deserialize_with = "crate::spill::text")]
    pub sample_id: String,
    /// For a re-test row, the sample it re-tests (原抽样编号, else its own id).
    #[serde(deserialize_with = "crate::spill::text_opt")]
    pub retest_of: Option<String>,
    /// Sample-level fields.
    pub sample: SampleFields,
    /// Flags on the sample (category or stage unknown).
    pub sample_flags: Vec<Rule>,
    /// The results the row yields (see the module docs).
    pub results: Vec<ResultFields>,
    /// Column headers, for messages about sample fields (one per file; not cached per row).
    #[serde(skip)]
    pub columns: std::sync::Arc<ColumnIndex>,
}

impl Row {
    /// The sample the row belongs to: the re-tested sample for re-test rows, else its own.
    pub fn sample_key_id(&self) -> &str {
        self.retest_of.as_deref().unwrap_or(&self.sample_id)
    }

    /// Whether the row is a re-test (复检).
    pub fn is_retest(&self) -> bool {
        self.retest_of.is_some()
    }
}

/// Where a result's cells come from: the record's columns, the parts of a packed item, or a
/// result group of the record (its own fields, the record's columns for the rest).
enum Cells<'r> {
    Record(&'r RawRecord),
    Packed(&'r [(Field, String)]),
    Group(&'r RawRecord, &'r GroupIndex),
}

/// The record a normaliser is on, and its sample id once read: what every reject names.
#[derive(Debug, Clone, Copy)]
struct At<'r> {
    record: &'r RawRecord,
    sample_id: Option<&'r str>,
}

/// Normalises the records of one file.
#[derive(Debug)]
pub struct FileNormaliser<'a> {
    context: &'a Context<'a>,
    columns: std::sync::Arc<ColumnIndex>,
    file: String,
    date1904: bool,
}

impl<'a> FileNormaliser<'a> {
    /// A normaliser for `file` (as shown in outputs) with its header mapping; `date1904` when
    /// the file's Excel serial dates count from 1904.
    pub fn new(context: &'a Context<'a>, columns: ColumnIndex, file: String, date1904: bool) -> Self {
        FileNormaliser { context, columns: std::sync::Arc::new(columns), file, date1904 }
    }

    fn cell<'c>(&'c self, cells: &Cells<'c>, field: Field) -> Option<&'c str> {
        match cells {
            Cells::Record(record) => self.columns.get(record, field),
            Cells::Packed(parts) => {
                parts.iter().find(|(f, _)| *f == field).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
            }
            Cells::Group(record, group) if group.owns(field) => group.get(record, field),
            Cells::Group(record, _) => self.columns.get(record, field),
        }
    }

    /// Builds the reject of the record `at` is on.
    fn reject(&self, at: At<'_>, field: Field, value: Option<&str>, rule: Rule, message: String) -> Box<Reject> {
        let At { record, sample_id } = at;
        Box::new(Reject {
            file: self.file.clone(),
            record: record.record,
            line: record.line,
            sample_id: sample_id.map(str::to_string),
            item: self.columns.get(record, Field::Item).map(normalise_text),
            field: Some(field),
            column: self.columns.header(field).map(str::to_string),
            value: value.map(str::to_string),
            rule,
            message,
            raw_record: record.joined(),
        })
    }

    /// The `record_malformed` reject of a CSV record that could not be split into fields: its
    /// text as written, the column where it went wrong when the source maps it.
    fn malformed(&self, record: &RawRecord, malformed: &crate::read::Malformed) -> Box<Reject> {
        let mapped = self.columns.field_at(malformed.field);
        let message = match mapped {
            Some((_, header)) => format!("column `{header}`: {malformed}"),
            None => malformed.to_string(),
        };
        Box::new(Reject {
            file: self.file.clone(),
            record: record.record,
            line: record.line,
            sample_id: None,
            item: None,
            field: mapped.map(|(field, _)| field),
            column: mapped.map(|(_, header)| header.to_string()),
            value: None,
            rule: Rule::RecordMalformed,
            message,
            raw_record: record.joined(),
        })
    }

    /// The trimmed cell of `field`, or a `required_missing` reject when it is empty.
    fn required<'r>(&self, at: At<'r>, field: Field) -> Result<&'r str, Box<Reject>> {
        self.columns.get(at.record, field).ok_or_else(|| {
            let column = self.columns.header(field).unwrap_or("?");
            self.reject(
                at,
                field,
                None,
                Rule::RequiredMissing,
                format!("`{}` (column `{column}`) is empty", field.as_str()),
            )
        })
    }

    /// One record → a row or a reject.
    pub fn normalise(&self, record: &RawRecord) -> Result<Row, Box<Reject>> {
        if let Some(malformed) = record.malformed() {
            return Err(self.malformed(record, malformed));
        }
        let ctx = self.context;
        let get = |field: Field| self.columns.get(record, field);
        let layout = ctx.source.layout;
        let sample_id = normalise_text(self.required(At { record, sample_id: None }, Field::SampleId)?);
        // From here on every reject names the sample.
        let at = At { record, sample_id: Some(sample_id.as_str()) };
        let required = |field: Field| self.required(at, field);
        let product_name = normalise_text(required(Field::ProductName)?);
        let grouped = !self.columns.groups.is_empty();
        let item_cells = match layout {
            Layout::ItemRows if grouped => None,
            Layout::ItemRows => Some((required(Field::Item)?.to_string(), required(Field::Result)?.to_string())),
            Layout::SampleRows | Layout::NetContent => None,
        };

        // Place.
        let Place { city, county, reporting_unit_code, county_unknown } = self.place(at)?;

        // Dates.
        let sampling_text = required(Field::SamplingDate)?;
        let sampling_date = self.date(at, Field::SamplingDate, sampling_text)?;
        let report_date = match get(Field::ReportDate) {
            None => None,
            Some(text) => {
                let date = self.date(at, Field::ReportDate, text)?;
                if date < sampling_date {
                    return Err(self.reject(
                        at,
                        Field::ReportDate,
                        Some(text),
                        Rule::DateOrder,
                        format!("report date {date} is before the sampling date {sampling_date}"),
                    ));
                }
                Some(date)
            }
        };

        // Words.
        let mut sample_flags = Vec::new();
        if county_unknown {
            sample_flags.push(Rule::CountyUnknown);
        }
        let stage_raw = get(Field::Stage).map(normalise_text);
        let stage = stage_raw.as_deref().and_then(|s| ctx.vocabulary.stage(s));
        if stage_raw.is_some() && stage.is_none() {
            sample_flags.push(Rule::StageUnknown);
        }
        if layout == Layout::SampleRows {
            required(Field::SampleVerdict)?;
        }
        let reported_verdict = self.verdict_word(at, Field::SampleVerdict)?;
        let item_reported_verdict = self.verdict_word(at, Field::ItemVerdict)?;
        let category = ctx.seeds.categories.resolve_path(
            ctx.source.programme.as_str(),
            [
                get(Field::Category1).unwrap_or(""),
                get(Field::Category2).unwrap_or(""),
                get(Field::Category3).unwrap_or(""),
                get(Field::Category4).unwrap_or(""),
            ],
        );
        if category.unknown_level.is_some() {
            sample_flags.push(Rule::CategoryUnknown);
        }
        let sample = SampleFields {
            sub_programme: get(Field::SubProgramme).map(normalise_text),
            product_name,
            city,
            county,
            reporting_unit_code,
            entity_name: get(Field::EntityName).map(normalise_text),
            entity_credit_code: get(Field::EntityCreditCode).map(normalise_text),
            stage,
            stage_raw,
            site_type: get(Field::SiteType).map(normalise_text),
            producer_name: get(Field::ProducerName).map(normalise_text),
            lab_name: get(Field::LabName).map(normalise_text),
            sampling_date,
            report_date,
            reported_verdict,
            is_retest: false,
            category,
        };
        let original = get(Field::OriginalSampleId).map(normalise_text);
        let retest_of = if original.is_some() || get(Field::Retest).is_some_and(|t| ctx.vocabulary.is_yes(t)) {
            Some(original.unwrap_or_else(|| sample_id.clone()))
        } else {
            None
        };
        let sample = SampleFields { is_retest: retest_of.is_some(), ..sample };
        let mut results = match item_cells {
            Some((item_raw, raw_result)) => {
                let cells = Cells::Record(record);
                vec![self.result(at, &sample, &cells, item_raw, raw_result, item_reported_verdict)?]
            }
            None if layout == Layout::NetContent => self.net_content_results(at)?,
            None if grouped => self.group_results(at, &sample, item_reported_verdict)?,
            None => self.packed_results(at, &sample)?,
        };
        for result in &mut results {
            result.is_retest |= retest_of.is_some();
        }
        Ok(Row {
            record: record.record,
            line: record.line,
            raw_record: record.joined(),
            sample_id,
            retest_of,
            sample,
            sample_flags,
            results,
            columns: self.columns.clone(),
        })
    }

    fn date(&self, at: At<'_>, field: Field, text: &str) -> Result<NaiveDate, Box<Reject>> {
        let name = if field == Field::SamplingDate { "sampling date" } else { "report date" };
        let Some(date) = parse_date_in(text, self.date1904) else {
            return Err(self.reject(
                at,
                field,
                Some(text),
                Rule::DateInvalid,
                format!("expected a {name} such as 2013-07-05, 2013/7/5 or 2013年7月5日, found `{text}`"),
            ));
        };
        if date > self.context.as_of {
            return Err(self.reject(
                at,
                field,
                Some(text),
                Rule::DateInFuture,
                format!("{name} {date} is after the as-of date {}", self.context.as_of),
            ));
        }
        Ok(date)
    }

    fn verdict_word(&self, at: At<'_>, field: Field) -> Result<Option<Verdict>, Box<Reject>> {
        let record = at.record;
        let Some(text) = self.columns.get(record, field) else { return Ok(None) };
        self.context.vocabulary.verdict(text).map_err(|_| {
            self.reject(
                at,
                field,
                Some(text),
                Rule::VerdictUnknown,
                format!("expected a verdict word of the source's vocabulary (合格, 不合格, …), found `{text}`"),
            )
        })
    }

    fn unit(&self, at: At<'_>, field: Field, text: &str) -> Result<&'a Unit, Box<Reject>> {
        self.context.seeds.units.resolve(text).ok_or_else(|| {
            self.reject(
                at,
                field,
                Some(text),
                Rule::UnitUnknown,
                format!("unknown unit `{text}`: not in seeds/units.csv"),
            )
        })
    }
}

mod place;
mod result;
mod several;

use place::Place;

pub use several::{NET_CONTENT_MEAN, NET_CONTENT_SHORT, NET_CONTENT_SHORT_2T};
