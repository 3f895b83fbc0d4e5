//! Rows → samples: grouping by sample id, deliveries, re-tests, the sample-level rules, and
//! sample verdicts.
//!
//! For each sample of a source, in this order:
//! 1. **Deliveries.** When several files deliver the same sample, the latest file (by name,
//!    see [`delivery_order`]) wins; the rows of the earlier ones go to `rejects` as
//!    `sample_redelivered` (severity info) and the sample lists those files in
//!    `superseded_deliveries`. Original rows and re-test rows are delivered separately. A
//!    later delivery that lacks a test item of one it replaces flags the sample
//!    `redelivery_drops_items`, and the replaced row's reject names the item.
//! 2. **Agreement.** The sample fields must agree on every original row (and on every re-test
//!    row); otherwise all of those rows are rejected (`sample_fields_disagree`).
//! 3. **Duplicates.** A second row for the same item, method and round is rejected
//!    (`item_duplicate`); in one-row-per-sample layouts, a second row of the sample in one file
//!    is (`sample_duplicate`).
//! 4. **Supersession.** Per item, a confirmation replaces its screening and a re-test (复检)
//!    replaces the original; in one-row-per-sample layouts a re-test replaces the whole
//!    original. Replaced results stay in `results` with `superseded = true`.
//! 5. **Verdict** from the results that were not replaced (see [`decide`]); for re-tested
//!    samples the verdict before the re-test is kept as `original_verdict`.
//!
//! By part: the order of deliveries (`order`), the rules on one sample's rows before its
//! verdict — deliveries, agreement, duplicates (`rules`) — and the verdict (`verdict`); the
//! grouping of rows into samples and the records built from them are here.

mod order;
mod rules;
mod verdict;

use std::collections::HashMap;
use std::sync::Arc;

use zhijian_model::{Programme, Rule, Verdict};
use zhijian_pipeline::{Field, Layout};

use crate::normalise::{Reject, ResultFields, Row, SampleFields};

pub use self::order::{DeliveryOrder, delivery_order, natural_cmp};
use self::rules::{drop_duplicates, fields_agree, latest_delivery};
pub use self::verdict::{decide, decide_after_uncertainty};

/// One file's normalised rows, in file order.
#[derive(Debug)]
pub struct FileRows {
    /// The file as shown in outputs.
    pub file: String,
    /// Accepted rows and rejects, one per data record (of a foreign file, only those of
    /// samples a home file names).
    pub outcomes: Vec<Result<Box<Row>, Box<Reject>>>,
    /// The file is one this assembly answers for: its rejects are output here, and so are the
    /// samples whose first delivery it is (see [`assemble`]). A foreign file (`false`) lends
    /// its rows to those samples and no more: they are output where it is at home.
    pub home: bool,
}

/// A sample ready for the `samples` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRecord {
    /// `programme:source_sample_id`.
    pub sample_key: String,
    /// The programme.
    pub programme: Programme,
    /// The source's id.
    pub source_sample_id: String,
    /// Normalised sample fields (from its first original row; all agree).
    pub fields: SampleFields,
    /// zhijian's verdict.
    pub verdict: Verdict,
    /// The verdict with measurement uncertainty allowed for: as `verdict`, with results only
    /// `above_limit` passing.
    pub verdict_after_uncertainty: Verdict,
    /// The reported verdict disagrees with `verdict`.
    pub verdict_conflict: bool,
    /// Canonical names of failing items, in source order.
    pub failing_items: Vec<String>,
    /// Accepted results (superseded ones included).
    pub result_count: i32,
    /// Item rows that went to rejects.
    pub rejected_rows: i32,
    /// Warnings on the sample.
    pub flags: Vec<Rule>,
    /// For re-tested samples, the verdict before the re-test.
    pub original_verdict: Option<Verdict>,
    /// Earlier files whose delivery of the sample a later one replaced.
    pub superseded_deliveries: Vec<String>,
    /// File, record and line of its first row.
    pub source_file: String,
    /// Record of its first row.
    pub source_record: u64,
    /// Line of its first row.
    pub source_line: u64,
}

/// A result ready for the `results` table.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRecord {
    /// The sample's key (shared by its results).
    pub sample_key: Arc<str>,
    /// The programme.
    pub programme: Programme,
    /// The sample's sampling date.
    pub sampling_date: chrono::NaiveDate,
    /// The result.
    pub fields: ResultFields,
    /// File of the row (shared by its file's results).
    pub source_file: Arc<str>,
    /// Record of the row.
    pub source_record: u64,
    /// Line of the row.
    pub source_line: u64,
}

/// A source's tables, before writing.
#[derive(Debug, Default)]
pub struct Assembled {
    /// One per sample with at least one accepted row, in order of first appearance
    /// (`write_tables` sorts them by key).
    pub samples: Vec<SampleRecord>,
    /// The accepted rows' results, grouped by sample in order of first appearance.
    pub results: Vec<ResultRecord>,
    /// One per rejected row, in file order.
    pub rejects: Vec<Reject>,
    /// Accepted rows per file.
    pub accepted: HashMap<String, u64>,
}

/// Rows rejected before grouping: per sample id, each file's count.
type EarlyRejects = HashMap<String, Vec<(String, i32)>>;

struct Located {
    /// The file, shared by its rows.
    file: Arc<str>,
    /// The file is a home file of the assembly (see [`FileRows::home`]).
    home: bool,
    row: Box<Row>,
}

impl Located {
    /// Rejects this row for a sample-level rule.
    fn reject(&self, sample_id: &str, field: Field, value: String, rule: Rule, message: String) -> Reject {
        let row = &self.row;
        Reject {
            file: self.file.to_string(),
            record: row.record,
            line: row.line,
            sample_id: Some(sample_id.to_string()),
            item: row.results.first().map(|r| r.item.clone()),
            field: Some(field),
            column: row.columns.header(field).map(str::to_string),
            value: Some(value),
            rule,
            message,
            raw_record: row.raw_record.clone(),
        }
    }
}

/// Groups a source's rows into samples and applies the sample-level rules (see the module
/// docs).
///
/// Of the samples, only those whose first delivery (in [`delivery_order`]) is a home file
/// are kept, and only the home files' rejects: a sample delivered by files assembled in
/// different places is output once, where its first delivery is at home, and a foreign file's
/// rows count only there. With every file at home, every sample is kept.
pub fn assemble(programme: Programme, layout: Layout, files: Vec<FileRows>) -> Assembled {
    let mut out = Assembled::default();
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<Located>> = HashMap::new();
    // Rows rejected before grouping, by sample id and file: they make the sample incomplete
    // unless a later delivery replaced that file.
    let mut early_rejects: EarlyRejects = HashMap::new();
    let rows: usize = files.iter().map(|f| f.outcomes.len()).sum();
    out.results.reserve(rows);
    for file in files {
        let name: Arc<str> = Arc::from(file.file.as_str());
        for outcome in file.outcomes {
            match outcome {
                Ok(row) => {
                    let located = Located { file: name.clone(), home: file.home, row };
                    match groups.get_mut(located.row.sample_key_id()) {
                        Some(group) => group.push(located),
                        None => {
                            let key = located.row.sample_key_id().to_string();
                            order.push(key.clone());
                            groups.insert(key, vec![located]);
                        }
                    }
                }
                Err(reject) => {
                    if let Some(id) = &reject.sample_id {
                        let files = early_rejects.entry(id.clone()).or_default();
                        match files.iter_mut().find(|(f, _)| *f == reject.file) {
                            Some((_, count)) => *count += 1,
                            None => files.push((reject.file.clone(), 1)),
                        }
                    }
                    if file.home {
                        out.rejects.push(*reject);
                    }
                }
            }
        }
    }
    out.samples.reserve(order.len());
    for sample_id in order {
        let Some(rows) = groups.remove(&sample_id) else { continue };
        if !first_delivery_at_home(&rows) {
            continue;
        }
        assemble_sample(programme, layout, sample_id, rows, &early_rejects, &mut out);
    }
    out.rejects.sort_by(|a, b| (&a.file, a.record).cmp(&(&b.file, b.record)));
    out
}

/// The sample's first delivery (in [`delivery_order`]) is a home file.
fn first_delivery_at_home(rows: &[Located]) -> bool {
    if rows.iter().all(|l| l.home) {
        return true;
    }
    if rows.iter().all(|l| !l.home) {
        return false;
    }
    rows.iter().min_by(|a, b| delivery_order(&a.file).cmp(&delivery_order(&b.file))).is_some_and(|l| l.home)
}

fn assemble_sample(
    programme: Programme,
    layout: Layout,
    sample_id: String,
    rows: Vec<Located>,
    early_rejects: &EarlyRejects,
    out: &mut Assembled,
) {
    let (originals, retests): (Vec<Located>, Vec<Located>) = rows.into_iter().partition(|l| !l.row.is_retest());
    let originals = latest_delivery(&sample_id, originals, out);
    let retests = latest_delivery(&sample_id, retests, out);
    let drops_items = originals.drops_items || retests.drops_items;
    let mut replaced = originals.replaced;
    replaced.extend(retests.replaced);
    let (originals, retests) = (originals.kept, retests.kept);
    let originals = if fields_agree(&sample_id, &originals, out) { originals } else { Vec::new() };
    let retests = if fields_agree(&sample_id, &retests, out) { retests } else { Vec::new() };
    let (originals, dropped_originals, differs_originals) = drop_duplicates(&sample_id, layout, originals, out);
    let (retests, dropped_retests, differs_retests) = drop_duplicates(&sample_id, layout, retests, out);
    if originals.is_empty() && retests.is_empty() {
        return;
    }

    // Rows of the kept deliveries rejected before grouping.
    let early = |rows: &[Located]| -> i32 {
        let mut files: Vec<&str> = rows.iter().map(|l| &*l.file).collect();
        files.sort_unstable();
        files.dedup();
        let Some(rejected) = early_rejects.get(sample_id.as_str()) else { return 0 };
        files.iter().map(|f| rejected.iter().filter(|(file, _)| file == f).map(|(_, n)| n).sum::<i32>()).sum()
    };
    let early_originals = early(&originals);
    let early_retests = early(&retests);
    let rejected_rows = early_originals + early_retests + dropped_originals + dropped_retests;
    let incomplete =
        early_originals + early_retests > 0 || (layout == Layout::ItemRows && (differs_originals || differs_retests));

    let all: Vec<&Row> = originals.iter().chain(retests.iter()).map(|l| &*l.row).collect();
    let (verdict, superseded, mut flags) = decide(layout, &all, incomplete);
    let verdict_after_uncertainty = decide_after_uncertainty(layout, &all, incomplete);
    let original_verdict = if retests.is_empty() || originals.is_empty() {
        None
    } else {
        let original_rows: Vec<&Row> = originals.iter().map(|l| &*l.row).collect();
        Some(decide(layout, &original_rows, early_originals > 0).0)
    };

    let Some(first) = originals.first().or(retests.first()) else { return };
    let (source_file, source_record, source_line) = (first.file.clone(), first.row.record, first.row.line);
    let mut fields = first.row.sample.clone();
    if let Some(retest) = retests.first() {
        fields.is_retest = true;
        fields.reported_verdict = retest.row.sample.reported_verdict.or(fields.reported_verdict);
        fields.report_date = retest.row.sample.report_date.or(fields.report_date);
    }
    flags.extend(originals.iter().chain(retests.iter()).flat_map(|l| l.row.sample_flags.iter().copied()));
    if originals.is_empty() {
        flags.push(Rule::RetestWithoutOriginal);
    }
    let verdict_conflict = fields.reported_verdict.is_some_and(|r| {
        !matches!(r, Verdict::NotJudged) && !matches!(verdict, Verdict::Pending | Verdict::NotJudged) && r != verdict
    });
    if verdict_conflict {
        flags.push(Rule::VerdictConflict);
    }
    if incomplete {
        flags.push(Rule::SampleIncomplete);
    }
    if drops_items {
        flags.push(Rule::RedeliveryDropsItems);
    }
    flags.sort();
    flags.dedup();

    let sample_key = format!("{}:{sample_id}", programme.as_str());
    let shared_key: Arc<str> = Arc::from(sample_key.as_str());
    let mut failing_items = Vec::new();
    let first_result = out.results.len();
    let mut index = 0;
    for located in originals.into_iter().chain(retests) {
        match out.accepted.get_mut(&*located.file) {
            Some(count) => *count += 1,
            None => {
                out.accepted.insert(located.file.to_string(), 1);
            }
        }
        let Located { file, row, .. } = located;
        for mut result in row.results {
            result.superseded = superseded.get(index).copied().unwrap_or(false);
            index += 1;
            if !result.superseded && result.verdict == Verdict::Fail && !failing_items.contains(&result.item) {
                failing_items.push(result.item.clone());
            }
            out.results.push(ResultRecord {
                sample_key: shared_key.clone(),
                programme,
                sampling_date: fields.sampling_date,
                fields: result,
                source_file: file.clone(),
                source_record: row.record,
                source_line: row.line,
            });
        }
    }
    out.samples.push(SampleRecord {
        sample_key,
        programme,
        source_sample_id: sample_id,
        verdict,
        verdict_after_uncertainty,
        verdict_conflict,
        failing_items,
        result_count: (out.results.len() - first_result) as i32,
        rejected_rows,
        flags,
        original_verdict,
        superseded_deliveries: replaced,
        source_file: source_file.to_string(),
        source_record,
        source_line,
        fields,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::EffectiveLimit;
    use zhijian_model::{Method, ResultType};

    pub(super) fn result(item: &str, verdict: Verdict, method: Option<Method>) -> ResultFields {
        ResultFields {
            item: item.to_string(),
            item_raw: item.to_string(),
            analyte_code: None,
            result_type: ResultType::Qualitative,
            value: None,
            unit: None,
            raw_result: String::new(),
            raw_unit: None,
            lod: None,
            loq: None,
            limit: EffectiveLimit::default(),
            limit_basis: None,
            limit_source: None,
            method,
            qualitative: None,
            exceedance: None,
            verdict,
            uncertainty: None,
            uncertainty_source: None,
            evaluation: zhijian_model::Evaluation::NotEvaluated,
            reported_verdict: None,
            verdict_conflict: false,
            flags: Vec::new(),
            declared_value: None,
            is_retest: false,
            group: None,
            superseded: false,
        }
    }

    pub(super) fn row(mut results: Vec<ResultFields>, retest: bool, reported: Option<Verdict>) -> Row {
        for result in &mut results {
            result.is_retest |= retest;
        }
        let sample = SampleFields {
            sub_programme: None,
            product_name: "x".into(),
            category: Default::default(),
            city: zhijian_seeds::Area {
                code: "410100".into(),
                name: "郑州市".into(),
                kind: zhijian_seeds::AreaKind::City,
                parent: Some("410000".into()),
                directly_administered: false,
            },
            county: None,
            reporting_unit_code: "410100".into(),
            entity_name: None,
            entity_credit_code: None,
            stage: None,
            stage_raw: None,
            site_type: None,
            producer_name: None,
            lab_name: None,
            sampling_date: chrono::NaiveDate::from_ymd_opt(2013, 7, 1).unwrap(),
            report_date: None,
            reported_verdict: reported,
            is_retest: retest,
        };
        Row {
            record: 0,
            line: 2,
            raw_record: String::new(),
            sample_id: "S1".into(),
            retest_of: retest.then(|| "S1".to_string()),
            sample,
            sample_flags: Vec::new(),
            results,
            columns: std::sync::Arc::new(crate::read::ColumnIndex::default()),
        }
    }

    use Verdict::Pass;

    /// Every way of splitting four deliveries between two assemblies (each at home for its
    /// files, the other's lent) outputs every sample, result, reject and count exactly once,
    /// as one assembly of all four does.
    #[test]
    fn a_sample_is_assembled_once_however_its_deliveries_are_split() {
        let at = |id: &str, record: u64, items: &[&str], retest: bool| -> Result<Box<Row>, Box<Reject>> {
            let mut row = row(items.iter().map(|item| result(item, Pass, None)).collect(), retest, None);
            row.sample_id = if retest { format!("{id}-R") } else { id.to_string() };
            row.retest_of = retest.then(|| id.to_string());
            (row.record, row.line) = (record, record + 2);
            Ok(Box::new(row))
        };
        let early = |file: &str, id: &str, record: u64| -> Result<Box<Row>, Box<Reject>> {
            Err(Box::new(Reject {
                file: file.into(),
                record,
                line: record + 2,
                sample_id: Some(id.into()),
                item: None,
                field: None,
                column: None,
                value: None,
                rule: Rule::RequiredMissing,
                message: String::new(),
                raw_record: String::new(),
            }))
        };
        // S1 in three files (the correction drops 镉), S2 in two, S3 in one with its re-test in
        // another, S4's rows in one file and a rejected row of it in another, S5 alone.
        let files: Vec<(&str, Vec<crate::Outcome>)> = vec![
            (
                "d/a.csv",
                vec![at("S1", 0, &["铅", "镉"], false), at("S2", 1, &["铅"], false), at("S3", 2, &["铅"], false)],
            ),
            ("d/a-更正.csv", vec![at("S1", 0, &["铅"], false), early("d/a-更正.csv", "S4", 1)]),
            ("d/b.csv", vec![at("S2", 0, &["铅"], false), at("S4", 1, &["汞"], false), at("S5", 2, &["铅"], false)]),
            ("d/c.csv", vec![at("S3", 0, &["铅"], true), at("S1", 1, &["砷"], false)]),
        ];
        let assembly = |home: &dyn Fn(usize) -> bool| {
            let rows = files
                .iter()
                .enumerate()
                .map(|(i, (file, outcomes))| FileRows {
                    file: file.to_string(),
                    outcomes: outcomes.clone(),
                    home: home(i),
                })
                .collect();
            assemble(Programme::Food, Layout::ItemRows, rows)
        };
        let outputs = |parts: &[Assembled]| {
            let mut samples: Vec<String> = parts.iter().flat_map(|a| &a.samples).map(|s| format!("{s:?}")).collect();
            let mut results: Vec<String> = parts.iter().flat_map(|a| &a.results).map(|r| format!("{r:?}")).collect();
            let mut rejects: Vec<String> = parts.iter().flat_map(|a| &a.rejects).map(|r| format!("{r:?}")).collect();
            let mut accepted: std::collections::BTreeMap<String, u64> = Default::default();
            for (file, count) in parts.iter().flat_map(|a| &a.accepted) {
                *accepted.entry(file.clone()).or_default() += count;
            }
            samples.sort();
            results.sort();
            rejects.sort();
            (samples, results, rejects, accepted)
        };
        let whole = outputs(&[assembly(&|_| true)]);
        assert_eq!(whole.0.len(), 5);
        assert!(whole.2.len() >= 3, "the redelivered and rejected rows: {:?}", whole.2);
        for split in 0..16u32 {
            let first = assembly(&|i| split & (1 << i) != 0);
            let second = assembly(&|i| split & (1 << i) == 0);
            assert_eq!(outputs(&[first, second]), whole, "files at home in the first: {split:04b}");
        }
    }

    fn delivered(file: &str, items: &[&str]) -> FileRows {
        let outcomes =
            items.iter().map(|item| Ok(Box::new(row(vec![result(item, Pass, None)], false, None)))).collect();
        FileRows { file: file.to_string(), outcomes, home: true }
    }

    #[test]
    fn the_naturally_latest_delivery_wins_and_one_that_drops_an_item_is_flagged() {
        // `_v10` is later than `_v9`, and it lacks 镉.
        let assembled = assemble(
            Programme::Food,
            Layout::ItemRows,
            vec![delivered("d/a_v10.csv", &["铅"]), delivered("d/a_v9.csv", &["铅", "镉"])],
        );
        let sample = &assembled.samples[0];
        assert_eq!(sample.superseded_deliveries, ["d/a_v9.csv"]);
        assert_eq!(sample.source_file, "d/a_v10.csv");
        assert!(sample.flags.contains(&Rule::RedeliveryDropsItems), "{:?}", sample.flags);
        let dropped: Vec<&Reject> =
            assembled.rejects.iter().filter(|r| r.message.contains("without item `镉`")).collect();
        assert_eq!(dropped.len(), 1, "{:?}", assembled.rejects);
        assert_eq!(dropped[0].rule, Rule::SampleRedelivered);
        // A redelivery with every item (and more) is not flagged.
        let assembled = assemble(
            Programme::Food,
            Layout::ItemRows,
            vec![delivered("d/a.csv", &["铅"]), delivered("d/a_v2.csv", &["铅", "镉"])],
        );
        assert!(!assembled.samples[0].flags.contains(&Rule::RedeliveryDropsItems));
        assert_eq!(assembled.samples[0].superseded_deliveries, ["d/a.csv"]);
    }
}
