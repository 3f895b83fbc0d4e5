//! The rows that yield other than one result from their own columns: result groups
//! (`[[sources.result_groups]]`), failing items packed in one cell (`sample_rows`) and the
//! three computed results of a net-content sample.

use super::*;

impl<'a> FileNormaliser<'a> {
    /// `item_rows` with result groups: one result per group whose result cell holds one; a
    /// group with an empty result, or an awaiting word (`待确证`), yields none. A row where no
    /// group yields one is `required_missing`.
    pub(super) fn group_results(
        &self,
        at: At<'_>,
        sample: &SampleFields,
        row_verdict: Option<Verdict>,
    ) -> Result<Vec<ResultFields>, Box<Reject>> {
        let record = at.record;
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
                    at,
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
                            at,
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
            let mut result = self.result(at, sample, &cells, item_raw.to_string(), raw_result.to_string(), reported)?;
            result.group = Some(group.name.clone());
            result.is_retest =
                group.owns(Field::Retest) && self.cell(&cells, Field::Retest).is_some_and(|t| ctx.vocabulary.is_yes(t));
            results.push(result);
        }
        if results.is_empty() {
            let names: Vec<&str> = self.columns.groups.iter().map(|g| g.name.as_str()).collect();
            return Err(self.reject(
                at,
                Field::Result,
                None,
                Rule::RequiredMissing,
                format!("no result group ({}) has a result", names.join(", ")),
            ));
        }
        Ok(results)
    }

    /// `sample_rows`: the failing items packed in one cell, each `item║result║limit`.
    pub(super) fn packed_results(&self, at: At<'_>, sample: &SampleFields) -> Result<Vec<ResultFields>, Box<Reject>> {
        let record = at.record;
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
                self.reject(at, Field::FailingItems, Some(item_text), Rule::PackedItemInvalid, message)
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
                .result(at, sample, &Cells::Packed(&cells), item_raw, raw_result, Some(Verdict::Fail))
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
    pub(super) fn split_unit(&self, text: &str) -> (String, Option<String>) {
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
    pub(super) fn net_content_results(&self, at: At<'_>) -> Result<Vec<ResultFields>, Box<Reject>> {
        let record = at.record;
        let ctx = self.context;
        let units = &ctx.seeds.units;
        let get = |field: Field| self.columns.get(record, field);
        let invalid = |field: Field, value: Option<&str>, message: String| {
            self.reject(at, field, value, Rule::QuantityInvalid, message)
        };
        let required = |field: Field| self.required(at, field);
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
                at,
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
