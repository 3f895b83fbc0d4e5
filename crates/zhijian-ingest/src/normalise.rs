//! One record → one typed row, or one reject naming file, line, field and value.
//!
//! Checks run in a fixed order and the first error decides the reject, so every row lands in
//! exactly one place. Warnings do not stop the row; they are collected as flags.

use chrono::NaiveDate;
use zhijian_model::{Method, ResultType, Rule, Stage, Verdict};
use zhijian_pipeline::{Field, Source};
use zhijian_seeds::{Area, CategoryPath, Seeds, Unit, UnitTable, normalise_text};

use crate::judge::{EffectiveLimit, judge_result};
use crate::parse::{ParsedLimit, ParsedResult, Qualitative, VocabularyIndex, parse_date, parse_method};
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
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq)]
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

/// The result-level fields of a row, normalised and judged.
#[derive(Debug, Clone, PartialEq)]
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
    pub value: Option<f64>,
    /// Canonical unit.
    pub unit: Option<String>,
    /// Result as written.
    pub raw_result: String,
    /// Unit as written.
    pub raw_unit: Option<String>,
    /// Limit of detection, in `unit`.
    pub lod: Option<f64>,
    /// Limit of quantification, in `unit`.
    pub loq: Option<f64>,
    /// The limit judged against.
    pub limit: EffectiveLimit,
    /// 判定依据, or the seed limit's standard.
    pub limit_basis: Option<String>,
    /// `record` or `seeds`.
    pub limit_source: Option<&'static str>,
    /// Screening or confirmation.
    pub method: Option<Method>,
    /// Qualitative answer.
    pub qualitative: Option<Qualitative>,
    /// value / limit max.
    pub exceedance: Option<f64>,
    /// zhijian's verdict.
    pub verdict: Verdict,
    /// 结果判定.
    pub reported_verdict: Option<Verdict>,
    /// They disagree.
    pub verdict_conflict: bool,
    /// Warnings.
    pub flags: Vec<Rule>,
}

impl ResultFields {
    /// The key under which duplicate items are detected.
    pub fn item_key(&self) -> String {
        self.analyte_code.clone().unwrap_or_else(|| zhijian_seeds::normalise_key(&self.item))
    }
}

/// An accepted row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Record number in the file, from 0.
    pub record: u64,
    /// Line, from 1.
    pub line: u64,
    /// The whole record, in case the sample-level rules reject it later.
    pub raw_record: String,
    /// 抽样编号.
    pub sample_id: String,
    /// Sample-level fields.
    pub sample: SampleFields,
    /// Flags on the sample (category or stage unknown).
    pub sample_flags: Vec<Rule>,
    /// Result-level fields.
    pub result: ResultFields,
    /// Column headers, for messages about sample fields.
    pub columns: std::sync::Arc<ColumnIndex>,
}

/// Normalises the records of one file.
#[derive(Debug)]
pub struct FileNormaliser<'a> {
    context: &'a Context<'a>,
    columns: std::sync::Arc<ColumnIndex>,
    file: String,
}

impl<'a> FileNormaliser<'a> {
    /// A normaliser for `file` (as shown in outputs) with its header mapping.
    pub fn new(context: &'a Context<'a>, columns: ColumnIndex, file: String) -> Self {
        FileNormaliser { context, columns: std::sync::Arc::new(columns), file }
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

    /// One record → a row or a reject.
    pub fn normalise(&self, record: &RawRecord) -> Result<Row, Box<Reject>> {
        let ctx = self.context;
        let get = |field: Field| self.columns.get(record, field);
        let required = |field: Field, sample_id: Option<&str>| {
            get(field).ok_or_else(|| {
                let column = self.columns.header(field).unwrap_or("?");
                self.reject(
                    record,
                    sample_id,
                    field,
                    None,
                    Rule::RequiredMissing,
                    format!("`{}` (column `{column}`) is empty", field.as_str()),
                )
            })
        };
        let sample_id = normalise_text(required(Field::SampleId, None)?);
        let sid = Some(sample_id.as_str());
        let product_name = normalise_text(required(Field::ProductName, sid)?);
        let item_raw = required(Field::Item, sid)?.to_string();
        let raw_result = required(Field::Result, sid)?.to_string();

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
        let city = match areas.resolve_city(city_text) {
            Some(city) => city.clone(),
            None => {
                let code = normalise_text(city_text);
                let prefix = areas.province().map_or("", |p| &p.code[..2]);
                let outside = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with(prefix);
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
        };
        let county = match get(Field::County) {
            None => None,
            Some(text) => match areas.resolve_county(text, Some(&city.code)) {
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
                None => {
                    return Err(self.reject(record, sid, Field::County, Some(text), Rule::AreaUnknown, format!("unknown county `{text}` in {}: not a name, code or alias in seeds/areas.csv or seeds/area_aliases.csv", city.name)));
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
        let stage_raw = get(Field::Stage).map(normalise_text);
        let stage = stage_raw.as_deref().and_then(|s| ctx.vocabulary.stage(s));
        if stage_raw.is_some() && stage.is_none() {
            sample_flags.push(Rule::StageUnknown);
        }
        let reported_verdict = self.verdict_word(record, sid, Field::SampleVerdict)?;
        let item_reported_verdict = self.verdict_word(record, sid, Field::ItemVerdict)?;
        let category = ctx.seeds.categories.resolve_path([
            get(Field::Category1).unwrap_or(""),
            get(Field::Category2).unwrap_or(""),
            get(Field::Category3).unwrap_or(""),
            get(Field::Category4).unwrap_or(""),
        ]);
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
            is_retest: get(Field::Retest).is_some_and(|t| ctx.vocabulary.is_yes(t)),
            category,
        };
        let result = self.result(record, sid, &sample, item_raw, raw_result, item_reported_verdict)?;
        Ok(Row {
            record: record.record,
            line: record.line,
            raw_record: record.joined(),
            sample_id,
            sample,
            sample_flags,
            result,
            columns: self.columns.clone(),
        })
    }

    fn date(&self, record: &RawRecord, sid: Option<&str>, field: Field, text: &str) -> Result<NaiveDate, Box<Reject>> {
        let name = if field == Field::SamplingDate { "sampling date" } else { "report date" };
        let Some(date) = parse_date(text) else {
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

    fn result(
        &self,
        record: &RawRecord,
        sid: Option<&str>,
        sample: &SampleFields,
        item_raw: String,
        raw_result: String,
        reported_verdict: Option<Verdict>,
    ) -> Result<ResultFields, Box<Reject>> {
        let ctx = self.context;
        let get = |field: Field| self.columns.get(record, field);
        let mut flags = Vec::new();
        let analyte = ctx.seeds.analytes.resolve(&item_raw);
        if analyte.is_none() {
            flags.push(Rule::ItemUnknown);
        }
        let item = analyte.map_or_else(|| normalise_text(&item_raw), |a| a.name.clone());

        let Some(parsed) = ctx.vocabulary.result(&raw_result) else {
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
        let canonical: Option<&Unit> = match analyte {
            Some(a) => ctx.seeds.units.resolve(&a.unit),
            None => source_unit,
        };
        let has_number =
            matches!(parsed, ParsedResult::Value(_) | ParsedResult::BelowLoq(_) | ParsedResult::NotDetected(Some(_)));
        let to_canonical =
            |value: f64, from: Option<&Unit>, field: Field, text: Option<&str>| -> Result<f64, Box<Reject>> {
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
                UnitTable::convert(value, from, to).ok_or_else(|| {
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
        if has_number && source_unit.is_none() {
            return Err(self.reject(
                record,
                sid,
                Field::ResultUnit,
                None,
                Rule::UnitMissing,
                format!("result `{raw_result}` has no unit: fill `result_unit`, or set the source's `default_unit`"),
            ));
        }
        let (result_type, value, lod, loq, qualitative) = match parsed {
            ParsedResult::Value(v) => {
                (ResultType::Value, Some(to_canonical(v, source_unit, unit_field, unit_text)?), None, None, None)
            }
            ParsedResult::BelowLoq(q) => {
                (ResultType::BelowLoq, None, None, Some(to_canonical(q, source_unit, unit_field, unit_text)?), None)
            }
            ParsedResult::NotDetected(lod) => {
                let lod = match lod {
                    Some(l) => Some(to_canonical(l, source_unit, unit_field, unit_text)?),
                    None => None,
                };
                (ResultType::NotDetected, None, lod, None, None)
            }
            ParsedResult::Qualitative(q) => (ResultType::Qualitative, None, None, None, Some(q)),
        };
        if let Some(negative) = [value, lod, loq].into_iter().flatten().find(|v| *v < 0.0) {
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
            let convert = |v: f64| -> Result<f64, Box<Reject>> {
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
        let mut limit_basis = get(Field::LimitBasis).map(normalise_text);
        let mut limit_source = record_has_limit.then_some("record");
        if !record_has_limit
            && let Some(seed) = analyte.and_then(|a| {
                ctx.seeds.limits.lookup(
                    &a.code,
                    sample.category.deepest_id.as_deref(),
                    &ctx.seeds.categories,
                    sample.sampling_date,
                )
            })
        {
            limit.min = seed.min;
            limit.max = seed.max;
            limit.banned = seed.banned;
            limit_basis = Some(seed.standard.clone());
            limit_source = Some("seeds");
        }
        if let Some(a) = analyte {
            if a.banned {
                limit.banned = true;
                limit_source = limit_source.or(Some("seeds"));
            }
            limit.decision_limit = a.decision_limit;
        }

        let method = get(Field::Method).and_then(parse_method);
        let verdict = match judge_result(parsed, &limit, method) {
            Some(verdict) => verdict,
            None => {
                flags.push(Rule::LimitMissing);
                Verdict::Pending
            }
        };
        let verdict_conflict = reported_verdict.is_some_and(|r| verdict != Verdict::Pending && r != verdict);
        if verdict_conflict {
            flags.push(Rule::VerdictConflict);
        }
        let exceedance = match (value, limit.max) {
            (Some(v), Some(max)) if max > 0.0 => Some(v / max),
            _ => None,
        };
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
            reported_verdict,
            verdict_conflict,
            flags,
        })
    }
}
