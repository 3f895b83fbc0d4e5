//! One result from its cells: the number or word as written, its unit, LOD/LOQ and
//! uncertainty, the limit (the record's, else the seeds'), all converted to the analyte's
//! canonical unit once, then judged.

use super::*;

impl<'a> FileNormaliser<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn result(
        &self,
        at: At<'_>,
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
                        at,
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
                at,
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
            Some(text) => Some(self.unit(at, unit_field, text)?),
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
                        at,
                        field,
                        text,
                        Rule::UnitMissing,
                        "a number without a unit: fill `result_unit`, or set the source's `default_unit`".to_string(),
                    ));
                };
                Quantity::new(value, from).to_canonical(to).ok_or_else(|| {
                    self.reject(
                        at,
                        field,
                        text,
                        Rule::UnitIncompatible,
                        format!("unit `{}` does not convert to `{}`, the unit of `{item}`", from.symbol, to.symbol),
                    )
                })
            };
        if parsed.has_number() && source_unit.is_none() {
            return Err(self.reject(
                at,
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
                        at,
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
                    at,
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
                at,
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
                    at,
                    field,
                    Some(text),
                    Rule::LimitInvalid,
                    format!("expected a limit such as `≤0.5`, `0.5`, `≥2.9`, `不得检出` or `/`, found `{text}`"),
                ));
            };
            // A limit's unit: its own column, else the result's unit, else the canonical one.
            let convert = |v: f64| -> Result<Canonical, Box<Reject>> {
                let limit_unit = match get(unit_field).or(unit_text) {
                    Some(t) => Some(self.unit(at, unit_field, t)?),
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
                    at,
                    field,
                    Some(value),
                    Rule::ToleranceInvalid,
                    format!("expected a declared value such as `45` or `45%` and a tolerance such as `±1.5`, `-1.5` or `+0.5`, found `{text}` and `{tolerance_text}`"),
                ));
            };
            let from = match unit.as_deref().or(unit_text) {
                Some(t) => Some(self.unit(at, Field::DeclaredValue, t)?),
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
                    at,
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
