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
    pub file: String,
    /// Record number in the file, from 0.
    pub record: u64,
    /// Line, from 1.
    pub line: u64,
    /// The row's sample id, when it has one.
    pub sample_id: Option<String>,
    /// The row's test item, when it has one.
    pub item: Option<String>,
    /// The field at fault.
    pub field: Option<Field>,
    /// Its column header in the file.
    pub column: Option<String>,
    /// The offending value.
    pub value: Option<String>,
    /// The rule.
    pub rule: Rule,
    /// What is wrong.
    pub message: String,
    /// The whole record, cells joined by `|`.
    pub raw_record: String,
}

/// The sample-level fields of a row, normalised.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SampleFields {
    /// 任务类别.
    pub sub_programme: Option<String>,
    /// 样品名称.
    pub product_name: String,
    /// The four category levels.
    pub category: CategoryPath,
    /// City-level unit.
    pub city: Area,
    /// County, when given.
    pub county: Option<Area>,
    /// Reporting unit code.
    pub reporting_unit_code: String,
    /// Sampled entity.
    pub entity_name: Option<String>,
    /// Its credit code.
    pub entity_credit_code: Option<String>,
    /// Stage, when the word is known.
    pub stage: Option<Stage>,
    /// Stage as written, kept to compare rows and to flag unknown words.
    pub stage_raw: Option<String>,
    /// 抽样场所.
    pub site_type: Option<String>,
    /// 标称生产企业名称.
    pub producer_name: Option<String>,
    /// 检验机构名称.
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
    pub item: String,
    /// As written.
    pub item_raw: String,
    /// Analyte code when known.
    pub analyte_code: Option<String>,
    /// How the result was written.
    pub result_type: ResultType,
    /// Value in `unit`.
    pub value: Option<Canonical>,
    /// Canonical unit.
    pub unit: Option<String>,
    /// Result as written.
    pub raw_result: String,
    /// Unit as written.
    pub raw_unit: Option<String>,
    /// Limit of detection, in `unit`.
    pub lod: Option<Canonical>,
    /// Limit of quantification, in `unit`.
    pub loq: Option<Canonical>,
    /// The limit judged against.
    pub limit: EffectiveLimit,
    /// 判定依据, or the seed limit's standard.
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
    pub fn item_key(&self) -> String {
        self.analyte_code.clone().unwrap_or_else(|| zhijian_seeds::normalise_key(&self.item))
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
    pub raw_record: String,
    /// 抽样编号.
    pub sample_id: String,
    /// For a re-test row, the sample it re-tests (原抽样编号, else its own id).
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

    /// Builds a reject for `record`.
    #[allow(clippy::too_many_arguments)]
    fn reject(
        &self,
        record: &RawRecord,
        sample_id: Option<&str>,
        field: Field,
        value: Option<&str>,
        rule: Rule,
        message: String,
    ) -> Box<Reject> {
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
    fn required<'r>(&self, record: &'r RawRecord, sid: Option<&str>, field: Field) -> Result<&'r str, Box<Reject>> {
        self.columns.get(record, field).ok_or_else(|| {
            let column = self.columns.header(field).unwrap_or("?");
            self.reject(
                record,
                sid,
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
        let required = |field: Field, sample_id: Option<&str>| self.required(record, sample_id, field);
        let layout = ctx.source.layout;
        let sample_id = normalise_text(required(Field::SampleId, None)?);
        let sid = Some(sample_id.as_str());
        let product_name = normalise_text(required(Field::ProductName, sid)?);
        let grouped = !self.columns.groups.is_empty();
        let item_cells = match layout {
            Layout::ItemRows if grouped => None,
            Layout::ItemRows => {
                Some((required(Field::Item, sid)?.to_string(), required(Field::Result, sid)?.to_string()))
            }
            Layout::SampleRows | Layout::NetContent => None,
        };

        // Place.
        let areas = &ctx.seeds.areas;
        let province = areas.province().map(|p| format!("{} {}", p.code, p.name)).unwrap_or_default();
        if let Some(text) = get(Field::Province)
            && !areas.is_province(text)
        {
            return Err(self.reject(
                record,
                sid,
                Field::Province,
                Some(text),
                Rule::AreaOutsideProvince,
                format!("province `{text}` is not the pipeline's province {province}"),
            ));
        }
        let city_text = required(Field::City, sid)?;
        // A county-level unit in the city column: the ten directly administered counties
        // report to the province, so agencies write them where a city goes (所在市 = 兰考县). It
        // stands for its parent city and for itself as the county.
        let (city, county_in_city_column) = match areas.resolve_city(city_text) {
            Some(city) => (city.clone(), None),
            None => match areas
                .resolve_county(city_text, None)
                .and_then(|county| Some((areas.get(county.parent.as_deref()?)?, county)))
            {
                Some((city, county)) => (city.clone(), Some(county.clone())),
                None => {
                    let code = normalise_text(city_text);
                    let prefix = areas.province().map_or("", |p| &p.code[..2]);
                    let outside =
                        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with(prefix);
                    let (rule, message) = if outside {
                        (
                            Rule::AreaOutsideProvince,
                            format!("city code `{city_text}` lies outside the pipeline's province {province}"),
                        )
                    } else {
                        (
                            Rule::AreaUnknown,
                            format!(
                                "unknown city `{city_text}`: not a name, code or alias in seeds/areas.csv or seeds/area_aliases.csv"
                            ),
                        )
                    };
                    return Err(self.reject(record, sid, Field::City, Some(city_text), rule, message));
                }
            },
        };
        let mut county_unknown = false;
        let county = match (get(Field::County), county_in_city_column) {
            (None, named) => named,
            (Some(text), Some(named)) => match areas.resolve_county(text, Some(&city.code)) {
                // Both columns name the same county.
                Some(county) if county.code == named.code => Some(named),
                _ => {
                    return Err(self.reject(
                        record,
                        sid,
                        Field::County,
                        Some(text),
                        Rule::AreaMismatch,
                        format!(
                            "county `{text}` is not {} {}, the county-level unit the city column names (`{city_text}`)",
                            named.code, named.name
                        ),
                    ));
                }
            },
            (Some(text), None) => match areas.resolve_county(text, Some(&city.code)) {
                Some(county) if county.parent.as_deref() == Some(city.code.as_str()) => Some(county.clone()),
                Some(county) => {
                    return Err(self.reject(
                        record,
                        sid,
                        Field::County,
                        Some(text),
                        Rule::AreaMismatch,
                        format!(
                            "county `{text}` ({} {}) does not lie in city {} {}",
                            county.code, county.name, city.code, city.name
                        ),
                    ));
                }
                // Henan has about 158 county-level units and exports name ones a seed list may
                // lack: the sample still counts for its city and the province, flagged.
                None => {
                    county_unknown = true;
                    None
                }
            },
        };
        let reporting_unit_code = areas.reporting_unit(county.as_ref().unwrap_or(&city)).code.clone();

        // Dates.
        let sampling_text = required(Field::SamplingDate, sid)?;
        let sampling_date = self.date(record, sid, Field::SamplingDate, sampling_text)?;
        let report_date = match get(Field::ReportDate) {
            None => None,
            Some(text) => {
                let date = self.date(record, sid, Field::ReportDate, text)?;
                if date < sampling_date {
                    return Err(self.reject(
                        record,
                        sid,
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
            required(Field::SampleVerdict, sid)?;
        }
        let reported_verdict = self.verdict_word(record, sid, Field::SampleVerdict)?;
        let item_reported_verdict = self.verdict_word(record, sid, Field::ItemVerdict)?;
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
                vec![self.result(record, sid, &sample, &cells, item_raw, raw_result, item_reported_verdict)?]
            }
            None if layout == Layout::NetContent => self.net_content_results(record, sid)?,
            None if grouped => self.group_results(record, sid, &sample, item_reported_verdict)?,
            None => self.packed_results(record, sid, &sample)?,
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

    /// `item_rows` with result groups: one result per group whose result cell holds one; a
    /// group with an empty result, or an awaiting word (`待确证`), yields none. A row where no
    /// group yields one is `required_missing`.
    fn group_results(
        &self,
        record: &RawRecord,
        sid: Option<&str>,
        sample: &SampleFields,
        row_verdict: Option<Verdict>,
    ) -> Result<Vec<ResultFields>, Box<Reject>> {
        let ctx = self.context;
        let mut results = Vec::new();
        for group in &self.columns.groups {
            let Some(raw_result) = group.get(record, Field::Result) else { continue };
            if ctx.vocabulary.is_awaiting(raw_result) {
                continue;
            }
            let cells = Cells::Group(record, group);
            let Some(item_raw) = self.cell(&cells, Field::Item) else {
                let column = group.header(record, Field::Item).or(self.columns.header(Field::Item)).unwrap_or("?");
                return Err(self.reject(
                    record,
                    sid,
                    Field::Item,
                    None,
                    Rule::RequiredMissing,
                    format!("result group `{}` has a result but its item (column `{column}`) is empty", group.name),
                ));
            };
            let reported = if group.owns(Field::ItemVerdict) {
                match self.cell(&cells, Field::ItemVerdict) {
                    None => None,
                    Some(text) => ctx.vocabulary.verdict(text).map_err(|_| {
                        self.reject(
                            record,
                            sid,
                            Field::ItemVerdict,
                            Some(text),
                            Rule::VerdictUnknown,
                            format!(
                                "result group `{}`: expected a verdict word of the source's vocabulary (合格, 不合格, …), found `{text}`",
                                group.name
                            ),
                        )
                    })?,
                }
            } else {
                row_verdict
            };
            let mut result =
                self.result(record, sid, sample, &cells, item_raw.to_string(), raw_result.to_string(), reported)?;
            result.group = Some(group.name.clone());
            result.is_retest =
                group.owns(Field::Retest) && self.cell(&cells, Field::Retest).is_some_and(|t| ctx.vocabulary.is_yes(t));
            results.push(result);
        }
        if results.is_empty() {
            let names: Vec<&str> = self.columns.groups.iter().map(|g| g.name.as_str()).collect();
            return Err(self.reject(
                record,
                sid,
                Field::Result,
                None,
                Rule::RequiredMissing,
                format!("no result group ({}) has a result", names.join(", ")),
            ));
        }
        Ok(results)
    }

    /// `sample_rows`: the failing items packed in one cell, each `item║result║limit`.
    fn packed_results(
        &self,
        record: &RawRecord,
        sid: Option<&str>,
        sample: &SampleFields,
    ) -> Result<Vec<ResultFields>, Box<Reject>> {
        let ctx = self.context;
        let Some(cell) = self.columns.get(record, Field::FailingItems) else { return Ok(Vec::new()) };
        if ctx.vocabulary.limit(cell, false) == Some(ParsedLimit::None) {
            return Ok(Vec::new());
        }
        let packed = &ctx.source.packed;
        let fail_word = ctx.source.vocabulary.fail.first().cloned().unwrap_or_else(|| "不合格".to_string());
        let mut results = Vec::new();
        for item_text in split_any(cell, &packed.items).into_iter().filter(|t| !t.is_empty()) {
            let parts = split_any(item_text, &packed.parts);
            let invalid = |message: String| {
                self.reject(record, sid, Field::FailingItems, Some(item_text), Rule::PackedItemInvalid, message)
            };
            if parts.len() > 3 || parts.first().is_none_or(|p| p.is_empty()) {
                return Err(invalid(format!(
                    "expected `item{0}result{0}limit` (result and limit optional), found `{item_text}` ({1} parts)",
                    packed.parts.first().map_or("║", String::as_str),
                    parts.len()
                )));
            }
            let item_raw = parts[0].to_string();
            let mut cells: Vec<(Field, String)> = vec![(Field::Item, item_raw.clone())];
            let raw_result = match parts.get(1).filter(|p| !p.is_empty()) {
                Some(result) => {
                    let (value, unit) = self.split_unit(result);
                    if let Some(unit) = unit {
                        cells.push((Field::ResultUnit, unit));
                    }
                    value
                }
                // Named without a value: the lab's verdict is all there is.
                None => fail_word.clone(),
            };
            if let Some(limit) = parts.get(2).filter(|p| !p.is_empty()) {
                let (value, unit) = self.split_unit(limit);
                cells.push((Field::LimitMax, value));
                if let Some(unit) = unit {
                    cells.push((Field::LimitMaxUnit, unit));
                }
            }
            let mut result = self
                .result(record, sid, sample, &Cells::Packed(&cells), item_raw, raw_result, Some(Verdict::Fail))
                .map_err(|mut reject| {
                    // Point at the packed cell, whatever part of it was wrong.
                    reject.message = format!("failing item `{item_text}`: {}", reject.message);
                    reject.field = Some(Field::FailingItems);
                    reject.column = self.columns.header(Field::FailingItems).map(str::to_string);
                    reject.value = Some(item_text.to_string());
                    reject
                })?;
            if result.verdict == Verdict::Pending && result.flags.contains(&Rule::LimitMissing) {
                // Nothing to judge the value against: the listing itself says it failed.
                result.verdict = Verdict::Fail;
                result.evaluation = Evaluation::NonCompliantAfterUncertainty;
                result.verdict_conflict = false;
                result.flags.retain(|f| *f != Rule::VerdictConflict);
            }
            result.raw_result = item_text.to_string();
            results.push(result);
        }
        Ok(results)
    }

    /// Splits a trailing unit off a value or limit: `0.12mg/kg` → (`0.12`, `mg/kg`). Only a
    /// unit of seeds/units.csv right after a digit counts.
    fn split_unit(&self, text: &str) -> (String, Option<String>) {
        let text = normalise_text(text);
        for (i, _) in text.char_indices().skip(1) {
            let (head, tail) = text.split_at(i);
            if head.trim_end().ends_with(|c: char| c.is_ascii_digit())
                && self.context.seeds.units.resolve(tail.trim()).is_some()
            {
                return (head.trim().to_string(), Some(tail.trim().to_string()));
            }
        }
        (text, None)
    }

    /// `net_content`: the sample judged by the plan of seeds/net_content_plans.csv for its
    /// number of units: the mean ≥ Qn − λ·s; at most c units short by more than T; none short
    /// by more than 2T. Quantities are in grams or millilitres (measured values and T without a
    /// unit too); T may be a percentage of the labelled quantity.
    fn net_content_results(&self, record: &RawRecord, sid: Option<&str>) -> Result<Vec<ResultFields>, Box<Reject>> {
        let ctx = self.context;
        let units = &ctx.seeds.units;
        let get = |field: Field| self.columns.get(record, field);
        let invalid = |field: Field, value: Option<&str>, message: String| {
            self.reject(record, sid, field, value, Rule::QuantityInvalid, message)
        };
        let required = |field: Field| self.required(record, sid, field);
        let labelled_text = required(Field::LabelledQuantity)?;
        let measured_text = required(Field::MeasuredValues)?;
        let shortfall_text = required(Field::AllowedShortfall)?;

        let (labelled_number, labelled_unit) = self.split_unit(labelled_text);
        let unit_text =
            labelled_unit.or_else(|| get(Field::ResultUnit).map(str::to_string)).or(ctx.source.default_unit.clone());
        let labelled_unit = unit_text.as_deref().and_then(|u| units.resolve(u));
        let base = labelled_unit.and_then(|u| match u.dimension.as_str() {
            "mass" => units.resolve("g"),
            "volume" => units.resolve("mL"),
            _ => None,
        });
        let (Some(labelled), Some(labelled_unit), Some(base)) = (parse_number(&labelled_number), labelled_unit, base)
        else {
            return Err(invalid(
                Field::LabelledQuantity,
                Some(labelled_text),
                format!(
                    "expected a labelled quantity with a mass or volume unit such as `500g` or `1.8L`, found `{labelled_text}`"
                ),
            ));
        };
        // Measured values and T without a unit are in grams or millilitres, as scales read.
        let to_base = |value: f64, unit: Option<&str>| -> Option<f64> {
            let from = match unit {
                Some(text) => units.resolve(text)?,
                None => base,
            };
            UnitTable::convert(value, from, base)
        };
        let Some(qn) = UnitTable::convert(labelled, labelled_unit, base).filter(|q| *q > 0.0) else {
            return Err(invalid(
                Field::LabelledQuantity,
                Some(labelled_text),
                format!("expected a positive quantity, found `{labelled_text}`"),
            ));
        };
        let mut measured = Vec::new();
        for piece in split_any(measured_text, &ctx.source.packed.values).into_iter().filter(|p| !p.is_empty()) {
            let (number, unit) = self.split_unit(piece);
            match parse_number(&number).and_then(|v| to_base(v, unit.as_deref())) {
                Some(v) if v >= 0.0 => measured.push(v),
                _ => {
                    return Err(invalid(
                        Field::MeasuredValues,
                        Some(measured_text),
                        format!("expected measured quantities such as `498.6, 501.2`, found `{piece}`"),
                    ));
                }
            }
        }
        let shortfall = {
            let text = normalise_text(shortfall_text);
            let value = match text.strip_suffix('%') {
                Some(percent) => parse_number(percent).map(|p| qn * p / 100.0),
                None => {
                    let (number, unit) = self.split_unit(&text);
                    parse_number(&number).and_then(|v| to_base(v, unit.as_deref()))
                }
            };
            match value.filter(|t| *t > 0.0) {
                Some(t) => t,
                None => {
                    return Err(invalid(
                        Field::AllowedShortfall,
                        Some(shortfall_text),
                        format!("expected an allowed shortfall such as `15g` or `3%`, found `{shortfall_text}`"),
                    ));
                }
            }
        };
        let Some(plan) = ctx.seeds.net_content_plans.for_sample_size(measured.len()) else {
            let sizes: Vec<String> = ctx.seeds.net_content_plans.sample_sizes().map(|n| n.to_string()).collect();
            return Err(self.reject(
                record,
                sid,
                Field::MeasuredValues,
                Some(measured_text),
                Rule::NetContentPlanUnknown,
                format!(
                    "{} measured units, but seeds/net_content_plans.csv has plans for {} units only",
                    measured.len(),
                    sizes.join(", ")
                ),
            ));
        };
        let n = measured.len() as f64;
        let mean = measured.iter().sum::<f64>() / n;
        let sd = if measured.len() > 1 {
            (measured.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        // Six decimals: measured quantities are written to one or two.
        let (mean, mean_min) = (round6(mean), round6(qn - plan.lambda * sd));
        let short = measured.iter().filter(|x| qn - **x > shortfall).count();
        let short_2t = measured.iter().filter(|x| qn - **x > 2.0 * shortfall).count();
        let count_unit = units.resolve("件").map(|u| u.symbol.clone());
        let basis = format!(
            "{} (n={}, c={}, λ={}, T={})",
            plan.basis,
            plan.sample_size,
            plan.max_short_units,
            plan.lambda,
            round6(shortfall)
        );
        // Quantities are in the base unit, which is the computed items' canonical unit; counts
        // are canonical as they are.
        let in_base = |value: f64| Quantity::new(value, base).to_canonical(base);
        let (Some(mean), Some(mean_min), Some(qn)) = (in_base(mean), in_base(mean_min), in_base(qn)) else {
            return Err(invalid(
                Field::LabelledQuantity,
                Some(labelled_text),
                format!("`{labelled_text}` does not convert to {}", base.symbol),
            ));
        };
        let computed = |item: &str,
                        code: &str,
                        value: Canonical,
                        unit: Option<String>,
                        limit: EffectiveLimit,
                        declared: Option<Canonical>| {
            let verdict = judge_result(Reading::Value(value), &limit, None).unwrap_or(Verdict::Pending);
            let evaluation = evaluate(Reading::Value(value), &limit, verdict, None);
            let exceedance = exceedance(Reading::Value(value), &limit);
            ResultFields {
                item: item.to_string(),
                item_raw: item.to_string(),
                analyte_code: Some(code.to_string()),
                result_type: ResultType::Value,
                value: Some(value),
                unit,
                raw_result: measured_text.to_string(),
                raw_unit: unit_text.clone(),
                lod: None,
                loq: None,
                exceedance,
                limit,
                limit_basis: Some(basis.clone()),
                limit_source: Some(LimitSource::Record),
                method: None,
                qualitative: None,
                verdict,
                uncertainty: None,
                uncertainty_source: None,
                evaluation,
                reported_verdict: None,
                verdict_conflict: false,
                flags: Vec::new(),
                declared_value: declared,
                is_retest: false,
                group: None,
                superseded: false,
            }
        };
        Ok(vec![
            computed(
                NET_CONTENT_MEAN,
                "net_content_mean",
                mean,
                Some(base.symbol.clone()),
                EffectiveLimit { min: Some(mean_min), ..Default::default() },
                Some(qn),
            ),
            computed(
                NET_CONTENT_SHORT,
                "net_content_short_units",
                Canonical::count(short),
                count_unit.clone(),
                EffectiveLimit { max: Some(Canonical::count(plan.max_short_units as usize)), ..Default::default() },
                None,
            ),
            computed(
                NET_CONTENT_SHORT_2T,
                "net_content_short_2t_units",
                Canonical::count(short_2t),
                count_unit,
                EffectiveLimit { max: Some(Canonical::count(0)), ..Default::default() },
                None,
            ),
        ])
    }

    fn date(&self, record: &RawRecord, sid: Option<&str>, field: Field, text: &str) -> Result<NaiveDate, Box<Reject>> {
        let name = if field == Field::SamplingDate { "sampling date" } else { "report date" };
        let Some(date) = parse_date_in(text, self.date1904) else {
            return Err(self.reject(
                record,
                sid,
                field,
                Some(text),
                Rule::DateInvalid,
                format!("expected a {name} such as 2013-07-05, 2013/7/5 or 2013年7月5日, found `{text}`"),
            ));
        };
        if date > self.context.as_of {
            return Err(self.reject(
                record,
                sid,
                field,
                Some(text),
                Rule::DateInFuture,
                format!("{name} {date} is after the as-of date {}", self.context.as_of),
            ));
        }
        Ok(date)
    }

    fn verdict_word(
        &self,
        record: &RawRecord,
        sid: Option<&str>,
        field: Field,
    ) -> Result<Option<Verdict>, Box<Reject>> {
        let Some(text) = self.columns.get(record, field) else { return Ok(None) };
        self.context.vocabulary.verdict(text).map_err(|_| {
            self.reject(
                record,
                sid,
                field,
                Some(text),
                Rule::VerdictUnknown,
                format!("expected a verdict word of the source's vocabulary (合格, 不合格, …), found `{text}`"),
            )
        })
    }

    fn unit(&self, record: &RawRecord, sid: Option<&str>, field: Field, text: &str) -> Result<&'a Unit, Box<Reject>> {
        self.context.seeds.units.resolve(text).ok_or_else(|| {
            self.reject(
                record,
                sid,
                field,
                Some(text),
                Rule::UnitUnknown,
                format!("unknown unit `{text}`: not in seeds/units.csv"),
            )
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn result(
        &self,
        record: &RawRecord,
        sid: Option<&str>,
        sample: &SampleFields,
        cells: &Cells<'_>,
        item_raw: String,
        raw_result: String,
        reported_verdict: Option<Verdict>,
    ) -> Result<ResultFields, Box<Reject>> {
        let ctx = self.context;
        // A unit written inside the cell (`0.32mg/kg`, `≤0.5mg/kg`) stands for the unit column
        // when that is empty; when both are given they must agree.
        let inline = |field: Field, unit_field: Field, text: &str| -> Result<Option<(String, String)>, Box<Reject>> {
            let parses = |t: &str| match field {
                Field::Result => ctx.vocabulary.result(t).is_some(),
                _ => ctx.vocabulary.limit(t, field == Field::LimitMin).is_some(),
            };
            if parses(text) {
                return Ok(None);
            }
            let (number, Some(unit)) = self.split_unit(text) else { return Ok(None) };
            if !parses(&number) {
                return Ok(None);
            }
            if let Some(column) = self.cell(cells, unit_field) {
                let units = &ctx.seeds.units;
                if units.resolve(column).map(|u| &u.symbol) != units.resolve(&unit).map(|u| &u.symbol) {
                    return Err(self.reject(
                        record,
                        sid,
                        unit_field,
                        Some(column),
                        Rule::UnitIncompatible,
                        format!("`{text}` is written in `{unit}`, but its unit column says `{column}`"),
                    ));
                }
            }
            Ok(Some((number, unit)))
        };
        let inline_result = inline(Field::Result, Field::ResultUnit, &raw_result)?;
        let inline_max = match self.cell(cells, Field::LimitMax) {
            Some(text) => inline(Field::LimitMax, Field::LimitMaxUnit, text)?,
            None => None,
        };
        let inline_min = match self.cell(cells, Field::LimitMin) {
            Some(text) => inline(Field::LimitMin, Field::LimitMinUnit, text)?,
            None => None,
        };
        fn number_of(inline: &Option<(String, String)>) -> Option<&str> {
            inline.as_ref().map(|(n, _)| n.as_str())
        }
        fn unit_of(inline: &Option<(String, String)>) -> Option<&str> {
            inline.as_ref().map(|(_, u)| u.as_str())
        }
        let get = |field: Field| match field {
            Field::ResultUnit => self.cell(cells, field).or(unit_of(&inline_result)),
            Field::LimitMax => number_of(&inline_max).or(self.cell(cells, field)),
            Field::LimitMaxUnit => self.cell(cells, field).or(unit_of(&inline_max)),
            Field::LimitMin => number_of(&inline_min).or(self.cell(cells, field)),
            Field::LimitMinUnit => self.cell(cells, field).or(unit_of(&inline_min)),
            _ => self.cell(cells, field),
        };
        let mut flags = Vec::new();
        let analyte = ctx.seeds.analytes.resolve(&item_raw);
        if analyte.is_none() {
            flags.push(Rule::ItemUnknown);
        }
        let item = analyte.map_or_else(|| normalise_text(&item_raw), |a| a.name.clone());

        let result_text = number_of(&inline_result).unwrap_or(&raw_result);
        let Some((parsed, written_limits)) = ctx.vocabulary.result_with_limits(result_text) else {
            return Err(self.reject(
                record,
                sid,
                Field::Result,
                Some(&raw_result),
                Rule::ValueNotNumeric,
                format!("expected a number, `<number` or a result word (未检出, 阴性, 合格, …), found `{raw_result}`"),
            ));
        };

        // The unit of the record's numbers: its own, else its limit's, else the source default.
        let raw_unit = get(Field::ResultUnit).map(str::to_string);
        let unit_text = raw_unit
            .as_deref()
            .or(get(Field::LimitMaxUnit))
            .or(get(Field::LimitMinUnit))
            .or(ctx.source.default_unit.as_deref());
        let unit_field = if raw_unit.is_some() {
            Field::ResultUnit
        } else if get(Field::LimitMaxUnit).is_some() {
            Field::LimitMaxUnit
        } else {
            Field::LimitMinUnit
        };
        let source_unit = match unit_text {
            Some(text) => Some(self.unit(record, sid, unit_field, text)?),
            None => None,
        };
        // Qualitative analytes (no canonical unit) keep the unit the source wrote.
        let canonical: Option<&Unit> = match analyte {
            Some(a) if !a.unit.is_empty() => ctx.seeds.units.resolve(&a.unit),
            _ => source_unit,
        };
        let to_canonical =
            |value: f64, from: Option<&Unit>, field: Field, text: Option<&str>| -> Result<Canonical, Box<Reject>> {
                let (Some(from), Some(to)) = (from, canonical) else {
                    return Err(self.reject(
                        record,
                        sid,
                        field,
                        text,
                        Rule::UnitMissing,
                        "a number without a unit: fill `result_unit`, or set the source's `default_unit`".to_string(),
                    ));
                };
                Quantity::new(value, from).to_canonical(to).ok_or_else(|| {
                    self.reject(
                        record,
                        sid,
                        field,
                        text,
                        Rule::UnitIncompatible,
                        format!("unit `{}` does not convert to `{}`, the unit of `{item}`", from.symbol, to.symbol),
                    )
                })
            };
        if parsed.has_number() && source_unit.is_none() {
            return Err(self.reject(
                record,
                sid,
                Field::ResultUnit,
                None,
                Rule::UnitMissing,
                format!("result `{raw_result}` has no unit: fill `result_unit`, or set the source's `default_unit`"),
            ));
        }
        // Every number of the result in the analyte's unit, once: the verdict, `value`,
        // `exceedance` and the limits below all use these.
        let reading = parsed.try_map(|v| to_canonical(v, source_unit, unit_field, unit_text))?;
        let (result_type, value, qualitative) = match reading {
            Reading::Value(v) => (ResultType::Value, Some(v), None),
            Reading::BelowLoq(_) => (ResultType::BelowLoq, None, None),
            Reading::NotDetected(_) => (ResultType::NotDetected, None, None),
            Reading::Qualitative(q) => (ResultType::Qualitative, None, Some(q)),
        };
        // LOD and LOQ: the mapped columns (in the result's unit), else what the cell wrote
        // beside the result; `<0.01` is its own LOQ.
        let detection_limit = |field: Field, written: Option<f64>| -> Result<Option<Canonical>, Box<Reject>> {
            let number = match get(field) {
                Some(text) => Some(parse_number(text).ok_or_else(|| {
                    self.reject(
                        record,
                        sid,
                        field,
                        Some(text),
                        Rule::ValueNotNumeric,
                        format!("expected a number for the {}, found `{text}`", field.as_str()),
                    )
                })?),
                None => written,
            };
            match number {
                Some(n) if source_unit.is_none() => Err(self.reject(
                    record,
                    sid,
                    field,
                    Some(&n.to_string()),
                    Rule::UnitMissing,
                    format!(
                        "{} {n} has no unit: fill `result_unit`, or set the source's `default_unit`",
                        field.as_str()
                    ),
                )),
                Some(n) => to_canonical(n, source_unit, unit_field, unit_text).map(Some),
                None => Ok(None),
            }
        };
        let lod = detection_limit(Field::Lod, written_limits.lod)?;
        let loq = match reading {
            Reading::BelowLoq(q) if get(Field::Loq).is_none() && written_limits.loq.is_none() => Some(q),
            _ => detection_limit(Field::Loq, written_limits.loq)?,
        };
        if result_type == ResultType::NotDetected && lod.is_none() && loq.is_none() {
            flags.push(Rule::NonDetectWithoutLimit);
        }
        if value.is_some_and(|v| v.get() == 0.0) {
            flags.push(Rule::ValueZero);
        }
        if let Some(negative) = [value, lod, loq].into_iter().flatten().map(Canonical::get).find(|v| *v < 0.0) {
            return Err(self.reject(
                record,
                sid,
                Field::Result,
                Some(&raw_result),
                Rule::ValueNegative,
                format!("expected a value ≥ 0, found {negative}"),
            ));
        }
        if let (Some(lod), Some(loq)) = (lod, loq)
            && lod > loq
        {
            flags.push(Rule::LodAboveLoq);
        }

        // The limit: the record's own, else seeds up the category tree.
        let mut limit = EffectiveLimit::default();
        let mut record_has_limit = false;
        for (field, unit_field, is_min) in
            [(Field::LimitMin, Field::LimitMinUnit, true), (Field::LimitMax, Field::LimitMaxUnit, false)]
        {
            let text = get(field).unwrap_or("");
            let Some(parsed_limit) = ctx.vocabulary.limit(text, is_min) else {
                return Err(self.reject(
                    record,
                    sid,
                    field,
                    Some(text),
                    Rule::LimitInvalid,
                    format!("expected a limit such as `≤0.5`, `0.5`, `≥2.9`, `不得检出` or `/`, found `{text}`"),
                ));
            };
            // A limit's unit: its own column, else the result's unit, else the canonical one.
            let convert = |v: f64| -> Result<Canonical, Box<Reject>> {
                let limit_unit = match get(unit_field).or(unit_text) {
                    Some(t) => Some(self.unit(record, sid, unit_field, t)?),
                    None => canonical,
                };
                to_canonical(v, limit_unit, unit_field, get(unit_field))
            };
            match parsed_limit {
                ParsedLimit::None => {}
                ParsedLimit::Banned => {
                    limit.banned = true;
                    record_has_limit = true;
                }
                ParsedLimit::Max { value, strict } => {
                    limit.max = Some(convert(value)?);
                    limit.max_strict = strict;
                    record_has_limit = true;
                }
                ParsedLimit::Min { value, strict } => {
                    limit.min = Some(convert(value)?);
                    limit.min_strict = strict;
                    record_has_limit = true;
                }
                ParsedLimit::Range { min, max } => {
                    limit.min = Some(convert(min)?);
                    limit.max = Some(convert(max)?);
                    record_has_limit = true;
                }
            }
        }
        // A declared value with its tolerance (fertiliser nutrients, pesticide content).
        let mut declared_value = None;
        if let Some(text) = get(Field::DeclaredValue) {
            let tolerance_text = get(Field::Tolerance).unwrap_or("");
            let (number, unit) = self.split_unit(text);
            let declared = parse_number(&number);
            let tolerance = parse_tolerance(tolerance_text);
            let (Some(declared), Some(tolerance)) = (declared, tolerance) else {
                let (field, value) =
                    if declared.is_none() { (Field::DeclaredValue, text) } else { (Field::Tolerance, tolerance_text) };
                return Err(self.reject(
                    record,
                    sid,
                    field,
                    Some(value),
                    Rule::ToleranceInvalid,
                    format!("expected a declared value such as `45` or `45%` and a tolerance such as `±1.5`, `-1.5` or `+0.5`, found `{text}` and `{tolerance_text}`"),
                ));
            };
            let from = match unit.as_deref().or(unit_text) {
                Some(t) => Some(self.unit(record, sid, Field::DeclaredValue, t)?),
                None => canonical,
            };
            let convert = |v: f64| to_canonical(v, from, Field::DeclaredValue, Some(text));
            declared_value = Some(convert(declared)?);
            if !record_has_limit {
                match tolerance {
                    Tolerance::None => limit.min = Some(convert(declared)?),
                    Tolerance::Both(t) => {
                        limit.min = Some(convert(declared - t)?);
                        limit.max = Some(convert(declared + t)?);
                    }
                    Tolerance::Below(t) => limit.min = Some(convert(declared - t)?),
                    Tolerance::Above(t) => limit.max = Some(convert(declared + t)?),
                }
                record_has_limit = true;
            }
        }
        let mut limit_basis = get(Field::LimitBasis).map(normalise_text);
        let mut limit_source = record_has_limit.then_some(LimitSource::Record);
        if !record_has_limit
            && let Some(seed) = analyte.and_then(|a| {
                ctx.seeds.limits.lookup(
                    &a.code,
                    sample.category.deepest_id.as_deref(),
                    &ctx.seeds.categories,
                    sample.sampling_date,
                    limit_basis.as_deref(),
                )
            })
        {
            limit.min = seed.min;
            limit.max = seed.max;
            limit.banned = seed.banned;
            limit_basis = Some(seed.standard.clone());
            limit_source = Some(LimitSource::Seeds);
        }
        if let Some(a) = analyte {
            if a.banned {
                limit.banned = true;
                limit_source = limit_source.or(Some(LimitSource::Seeds));
            }
            limit.decision_limit = a.decision_limit;
        }

        let method = get(Field::Method).and_then(parse_method);
        let verdict = match judge_result(reading, &limit, method) {
            Some(verdict) => verdict,
            None => {
                flags.push(Rule::LimitMissing);
                Verdict::Pending
            }
        };
        let verdict_conflict =
            reported_verdict.is_some_and(|r| r != Verdict::NotJudged && verdict != Verdict::Pending && r != verdict);
        if verdict_conflict {
            flags.push(Rule::VerdictConflict);
        }
        let exceedance = exceedance(reading, &limit);
        // Expanded uncertainty: the record's own (a mapped column, or `±` in the cell), else the
        // seeds' default for the analyte or its group; only a value has one.
        let written_uncertainty = match get(Field::Uncertainty) {
            Some(text) => Some(parse_uncertainty(text).ok_or_else(|| {
                self.reject(
                    record,
                    sid,
                    Field::Uncertainty,
                    Some(text),
                    Rule::ValueNotNumeric,
                    format!("expected an uncertainty such as `0.02`, `±0.02` or `15%`, found `{text}`"),
                )
            })?),
            None => written_limits.uncertainty,
        };
        let (uncertainty, uncertainty_source) = match (value, written_uncertainty) {
            (None, _) => (None, None),
            (Some(_), Some(Uncertainty::Absolute(u))) => {
                (Some(to_canonical(u, source_unit, unit_field, unit_text)?), Some(LimitSource::Record))
            }
            (Some(v), Some(Uncertainty::Relative(r))) => (Some(v.scaled(r)), Some(LimitSource::Record)),
            (Some(v), None) => match analyte.and_then(|a| ctx.seeds.uncertainty.lookup(&a.code, &a.group)) {
                Some(default) => (Some(v.scaled(default.relative)), Some(LimitSource::Seeds)),
                None => (None, None),
            },
        };
        let evaluation = evaluate(reading, &limit, verdict, uncertainty);
        Ok(ResultFields {
            item,
            item_raw: normalise_text(&item_raw),
            analyte_code: analyte.map(|a| a.code.clone()),
            result_type,
            value,
            unit: canonical.map(|u| u.symbol.clone()),
            raw_result,
            raw_unit,
            lod,
            loq,
            limit,
            limit_basis,
            limit_source,
            method,
            qualitative,
            exceedance,
            verdict,
            uncertainty,
            uncertainty_source,
            evaluation,
            reported_verdict,
            verdict_conflict,
            flags,
            declared_value,
            is_retest: false,
            group: None,
            superseded: false,
        })
    }
}

/// Item names of the results a net-content sample yields.
pub const NET_CONTENT_MEAN: &str = "净含量平均值";
/// Units short by more than the allowed shortfall T.
pub const NET_CONTENT_SHORT: &str = "短缺量大于T的件数";
/// Units short by more than 2T.
pub const NET_CONTENT_SHORT_2T: &str = "短缺量大于2T的件数";

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}
