//! The validation rules. Their codes are the `rule` column of `rejects` and the entries of the
//! `flags` columns of `samples` and `results`, so they are part of the analysts' contract: add
//! rules, never rename one.

use crate::Severity;

macro_rules! rules {
    ($($(#[$meta:meta])* $variant:ident => $code:literal, $severity:ident, $checks:literal, $action:literal;)+) => {
        /// A validation rule: an error sends the row to `rejects`, a warning keeps it flagged,
        /// an info sends to `rejects` a row that a later delivery replaced.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule { $($(#[$meta])* $variant),+ }

        impl Rule {
            /// Every rule, in the order of the docs table.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),+];

            /// The code written to `rejects.rule` and to `flags`.
            pub fn code(self) -> &'static str {
                match self { $(Rule::$variant => $code),+ }
            }

            /// Whether the rule rejects the row or flags it.
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity),+ }
            }

            /// What the rule checks.
            pub fn checks(self) -> &'static str {
                match self { $(Rule::$variant => $checks),+ }
            }

            /// What the user should do when it fires.
            pub fn action(self) -> &'static str {
                match self { $(Rule::$variant => $action),+ }
            }

            /// Looks a rule up by its code.
            pub fn from_code(code: &str) -> Option<Rule> {
                Rule::ALL.iter().copied().find(|r| r.code() == code)
            }
        }

        impl serde::Serialize for Rule {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for Rule {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                Rule::from_code(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown rule `{code}`")))
            }
        }
    };
}

rules! {
    /// A required field is empty.
    RequiredMissing => "required_missing", Error,
        "a field the record cannot do without (sample id, product, sampling date, area, item, result) is present and not empty",
        "fill the field at the source and deliver the file again";
    /// A date does not parse or does not exist.
    DateInvalid => "date_invalid", Error,
        "a date is a real calendar date in a known style (2013-07-05, 2013/7/5, 2013年7月5日, 20130705, Excel serial)",
        "correct the date at the source";
    /// A date lies after the as-of date.
    DateInFuture => "date_in_future", Error,
        "no date lies after the pipeline's as-of date",
        "correct the date, or move the pipeline's `as_of` forward";
    /// Sampling date after report date.
    DateOrder => "date_order", Error,
        "sampling date ≤ report date",
        "check which of the two dates is wrong and correct it";
    /// The area is not in the alias table.
    AreaUnknown => "area_unknown", Error,
        "the city and county name or code is in seeds/area_aliases.csv or seeds/areas.csv",
        "correct the name at the source, or add the spelling to seeds/area_aliases.csv";
    /// The area lies outside the pipeline's province.
    AreaOutsideProvince => "area_outside_province", Error,
        "the sampled place lies inside the pipeline's province",
        "send the record to the province it belongs to";
    /// A county that does not belong to the given city.
    AreaMismatch => "area_mismatch", Error,
        "the county lies inside the given city",
        "correct the city or the county at the source";
    /// A result that is neither a number nor a known word.
    ValueNotNumeric => "value_not_numeric", Error,
        "a result is a number, `<number`, or a word of the pipeline's result vocabulary (未检出, 阴性, …)",
        "write the measured value in the result column; add a new word to the source's vocabulary if it is one";
    /// A value, LOD or LOQ that is negative.
    ValueNegative => "value_negative", Error,
        "values, LOD and LOQ are not negative",
        "correct the value at the source";
    /// A unit that is not in seeds/units.csv.
    UnitUnknown => "unit_unknown", Error,
        "a unit is in seeds/units.csv (mg/kg, μg/kg, ug/kg, ng/g, mg/L, g/100g, % …)",
        "correct the unit, or add it with its conversion factor to seeds/units.csv";
    /// A unit that cannot be converted to the analyte's canonical unit.
    UnitIncompatible => "unit_incompatible", Error,
        "a value's unit converts to the analyte's canonical unit (same dimension)",
        "correct the unit, or the analyte's canonical unit in seeds/analytes.csv";
    /// A number without a unit, and none to take it from.
    UnitMissing => "unit_missing", Error,
        "a number carries a unit (its own, or its limit's, or the analyte's when the source's `default_unit` allows)",
        "fill the result unit at the source";
    /// A limit that does not parse.
    LimitInvalid => "limit_invalid", Error,
        "a limit is a number, `≤number`, `≥number`, `不得检出` or `/`",
        "correct the limit at the source";
    /// The same test item twice in one sample.
    ItemDuplicate => "item_duplicate", Error,
        "each (sample, test item) appears once; the first row is kept",
        "remove the repeated row at the source, or give it its own sample id";
    /// Sample fields that differ between the rows of one sample.
    SampleFieldsDisagree => "sample_fields_disagree", Error,
        "sample fields (product, category, place, entity, dates, verdict) agree on every row of a sample; all its rows are rejected",
        "make the sample's rows agree at the source";
    /// A one-row-per-sample source repeats a sample in one file.
    SampleDuplicate => "sample_duplicate", Error,
        "in a one-row-per-sample layout, a sample id appears once per file (re-tests aside); the first row is kept",
        "remove the repeated row at the source, or mark it as a re-test";
    /// A packed failing-items cell that does not parse.
    PackedItemInvalid => "packed_item_invalid", Error,
        "each failing item packed in one cell reads `item║result║limit` (result and limit optional), items separated by `；`",
        "correct the cell at the source, or set the source's `[sources.packed]` separators";
    /// A declared value or tolerance that does not parse.
    ToleranceInvalid => "tolerance_invalid", Error,
        "a declared value (标明值) is a number and its tolerance is `±t`, `-t`, `+t` or empty",
        "correct the declared value or the tolerance at the source";
    /// A net-content record whose quantity, values or allowed shortfall do not parse.
    QuantityInvalid => "quantity_invalid", Error,
        "a net-content record has a labelled quantity with a mass or volume unit (500g, 1.8L), numeric measured values and an allowed shortfall (15g, 3%)",
        "correct the labelled quantity, the measured values or the allowed shortfall at the source";
    /// A net-content sample with a number of units that no sampling plan has.
    NetContentPlanUnknown => "net_content_plan_unknown", Error,
        "the number of measured units of a net-content sample matches a sampling plan in seeds/net_content_plans.csv",
        "check that every measured unit was delivered, or add the plan to seeds/net_content_plans.csv";
    /// A sample-level verdict word that is not in the vocabulary.
    VerdictUnknown => "verdict_unknown", Error,
        "a verdict is a word of the pipeline's verdict vocabulary (合格, 不合格, …) or empty",
        "correct the verdict, or add the word to the source's vocabulary";
    /// The test item is not in seeds/analytes.csv.
    ItemUnknown => "item_unknown", Warning,
        "the test item is in seeds/analytes.csv; unknown items are kept under their own name",
        "add the item and its aliases to seeds/analytes.csv";
    /// The category is not in seeds/categories.csv.
    CategoryUnknown => "category_unknown", Warning,
        "the category names are in the programme's tree in seeds/categories.csv",
        "add the category to seeds/categories.csv, or correct it at the source";
    /// A stage word that is not in the vocabulary.
    StageUnknown => "stage_unknown", Warning,
        "the sampling stage (抽样环节) is a word of the source's stage vocabulary; unknown words leave `stage` empty",
        "add the word to the source's `[sources.vocabulary]` under production, distribution, catering or online";
    /// No limit in the record nor in seeds, and the analyte is not banned.
    LimitMissing => "limit_missing", Warning,
        "a result has a limit (in the record, or in seeds/limits.csv up the category tree) or is a banned substance; otherwise its verdict is pending",
        "add the limit to seeds/limits.csv or deliver it in the record";
    /// The record's own verdict disagrees with the verdict its values imply.
    VerdictConflict => "verdict_conflict", Warning,
        "the reported verdict (结果判定, 检验结论) agrees with the verdict the values imply; zhijian keeps its own and flags the row",
        "check the lab report; the flagged verdict is a data-quality finding to report back";
    /// An item row of the sample was rejected.
    SampleIncomplete => "sample_incomplete", Warning,
        "every item row of a sample was accepted; a sample with rejected rows and no failing result is pending",
        "fix the rejected rows (see `rejects`) and deliver them again";
    /// A sample reported as failing without any failing item.
    FailingItemsMissing => "failing_items_missing", Warning,
        "a sample reported as failing names its failing items",
        "ask the lab for the failing items; the sample counts as failed on its reported verdict";
    /// A screening positive that no confirmation followed.
    ConfirmationMissing => "confirmation_missing", Warning,
        "a screening positive (test strip, ELISA) is followed by a confirmation (LC-MS/MS); until then the sample is pending",
        "deliver the confirmation result; the sample stays pending until it arrives";
    /// A re-test whose original sample was not delivered.
    RetestWithoutOriginal => "retest_without_original", Warning,
        "a re-test (复检) refers to a sample the source delivered",
        "deliver the original sample's rows, or correct the original sample id";
    /// The row was replaced by a later delivery of the same sample.
    SampleRedelivered => "sample_redelivered", Info,
        "a sample is delivered once; when a later file (by name) delivers it again, the later delivery replaces every row of the earlier one",
        "nothing, if the later file is the correction; otherwise remove the sample from the later file";
    /// The LOD exceeds the LOQ.
    LodAboveLoq => "lod_above_loq", Warning,
        "LOD ≤ LOQ",
        "check the method's limits";
    /// A non-detect without the limit it was not detected at.
    NonDetectWithoutLimit => "non_detect_without_limit", Warning,
        "a not-detected result carries its LOD or LOQ (a `lod`/`loq` column, or `未检出(检出限0.01)`, `ND(<0.005)` in the cell)",
        "ask the lab for the method's detection limit and deliver it with the result";
    /// A measured value of exactly 0.
    ValueZero => "value_zero", Warning,
        "a measured value is not exactly 0: a non-detect is written as 未检出 or `<LOQ`, never as 0",
        "check with the lab whether the item was not detected, and write it so";
    /// A CSV record that cannot be split into fields: a quote that is never closed (or is
    /// followed by text), or a field or record beyond the source's `[sources.limits]`.
    RecordMalformed => "record_malformed", Error,
        "a CSV record splits into fields: every quote that opens a field closes it before the next delimiter or line end, and no field or record is longer than the source's `[sources.limits]` (`max_field_bytes`, `max_record_bytes`); the record is rejected from the line where it went wrong and reading resumes on the next line",
        "remove or double the stray quote (`\"\"` inside a quoted field) at the line named, or raise the source's limit if the field is really that long";
    /// A later delivery of a sample lacks a test item the delivery it replaces had.
    RedeliveryDropsItems => "redelivery_drops_items", Warning,
        "a later delivery of a sample carries every test item of the delivery it replaces; the sample is judged on the later delivery alone",
        "ask the agency whether the missing items were withdrawn; if not, deliver the sample again with all its items (the replaced rows, in `rejects` as `sample_redelivered`, name them)";
    /// A county the seeds do not know, under a known city.
    CountyUnknown => "county_unknown", Warning,
        "the county is in seeds/areas.csv or seeds/area_aliases.csv; an unknown one under a known city keeps the sample for its city and the province, `county_code` empty (the county level counts it in the city's `county not given` cell)",
        "add the county and its spellings to seeds/areas.csv or seeds/area_aliases.csv, or correct it at the source";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for rule in Rule::ALL {
            assert!(seen.insert(rule.code()), "duplicate code {}", rule.code());
            assert_eq!(Rule::from_code(rule.code()), Some(*rule));
        }
        assert_eq!(Rule::from_code("no_such_rule"), None);
    }
}
