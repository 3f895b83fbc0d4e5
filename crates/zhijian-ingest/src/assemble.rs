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

use std::collections::HashMap;
use std::sync::Arc;

use zhijian_model::{Method, Programme, Rule, Verdict};
use zhijian_pipeline::{Field, Layout};

use crate::judge::judge_sample;
use crate::normalise::{Reject, ResultFields, Row, SampleFields};

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
    /// ([`crate::ingest`] sorts them by key after merging sources).
    pub samples: Vec<SampleRecord>,
    /// The accepted rows' results, grouped by sample in order of first appearance.
    pub results: Vec<ResultRecord>,
    /// One per rejected row, in file order.
    pub rejects: Vec<Reject>,
    /// Accepted rows per file.
    pub accepted: HashMap<String, u64>,
}

/// The order in which deliveries count, later wins: by file name without its extension,
/// then by the whole name, both in [`natural_cmp`] order (numbers as numbers): `2013Q3`
/// comes before `2013Q3-更正` and `2013Q3_v2`, `_v9` before `_v10`, `9月` before `10月`.
pub fn delivery_order(file: &str) -> DeliveryOrder {
    let name = file.rsplit('/').next().unwrap_or(file);
    // A worksheet of a workbook read on several sheets is `FILE#SHEET`: the workbook's name
    // orders it (a sheet named `5.1` must not shift the stem), then the whole name.
    let name = match name.rsplit_once('#') {
        Some((workbook, _)) if [".xlsx", ".xlsm", ".xls"].iter().any(|e| workbook.to_lowercase().ends_with(e)) => {
            workbook
        }
        _ => name,
    };
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    DeliveryOrder { stem: stem.to_string(), file: file.to_string() }
}

/// A file's place among the deliveries of a source; see [`delivery_order`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOrder {
    stem: String,
    file: String,
}

impl DeliveryOrder {
    /// The file.
    pub fn file(&self) -> &str {
        &self.file
    }
}

impl Ord for DeliveryOrder {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        natural_cmp(&self.stem, &other.stem).then_with(|| natural_cmp(&self.file, &other.file))
    }
}

impl PartialOrd for DeliveryOrder {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two texts with every run of digits (ASCII or full-width) taken as one number:
/// `v9` < `v10`, `9月` < `10月`, `２月` < `１０月`. Elsewhere characters compare by code point,
/// a number sorting where the character `0` would. Texts equal so (`v01`, `v1`) are ordered by
/// their plain text, so the order is total and the same on every machine and locale.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        let (c, d) = match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) => (c, d),
        };
        let order = match (digit_value(c), digit_value(d)) {
            (Some(_), Some(_)) => compare_numbers(&take_number(&mut x), &take_number(&mut y)),
            (Some(_), None) => {
                y.next();
                '0'.cmp(&d)
            }
            (None, Some(_)) => {
                x.next();
                c.cmp(&'0')
            }
            (None, None) => {
                x.next();
                y.next();
                c.cmp(&d)
            }
        };
        if order != Ordering::Equal {
            return order;
        }
    }
}

fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        // Full-width digits (０-９), as Chinese file names often have them.
        '\u{FF10}'..='\u{FF19}' => Some((c as u32 - 0xFF10) as u8),
        _ => None,
    }
}

/// The run of digits at the front of `chars`, as digit values without leading zeros.
fn take_number(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Vec<u8> {
    let mut digits = Vec::new();
    while let Some(value) = chars.peek().copied().and_then(digit_value) {
        chars.next();
        if !(digits.is_empty() && value == 0) {
            digits.push(value);
        }
    }
    digits
}

/// Numbers of any length, as digits without leading zeros: the longer is larger.
fn compare_numbers(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
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

/// What [`latest_delivery`] kept of a sample's rows.
struct Delivery {
    /// The rows of the latest delivering file.
    kept: Vec<Located>,
    /// The files it replaced, in delivery order.
    replaced: Vec<String>,
    /// A replaced file had a test item the latest one lacks.
    drops_items: bool,
}

/// Keeps the rows of the latest delivering file; the others go to rejects.
fn latest_delivery(sample_id: &str, rows: Vec<Located>, out: &mut Assembled) -> Delivery {
    // Rows of one file, as nearly all are: nothing to order.
    let one_file =
        rows.first().is_none_or(|first| rows.iter().all(|l| Arc::ptr_eq(&l.file, &first.file) || l.file == first.file));
    if one_file {
        return Delivery { kept: rows, replaced: Vec::new(), drops_items: false };
    }
    let Some(latest) = rows.iter().map(|l| delivery_order(&l.file)).max() else {
        return Delivery { kept: rows, replaced: Vec::new(), drops_items: false };
    };
    let latest = latest.file;
    if rows.iter().all(|l| *l.file == *latest) {
        return Delivery { kept: rows, replaced: Vec::new(), drops_items: false };
    }
    let first_kept_line = rows.iter().find(|l| *l.file == *latest).map_or(0, |l| l.row.line);
    let kept_items: std::collections::HashSet<String> = rows
        .iter()
        .filter(|l| *l.file == *latest)
        .flat_map(|l| l.row.results.iter().map(|r| r.item_key().into_owned()))
        .collect();
    let mut kept = Vec::new();
    let mut replaced: Vec<String> = Vec::new();
    let mut drops_items = false;
    for located in rows {
        if *located.file == *latest {
            kept.push(located);
            continue;
        }
        // A correction that leaves out an item changes the sample without saying so: the
        // row says which item is gone, and the sample is flagged.
        let dropped: Vec<&str> = located
            .row
            .results
            .iter()
            .filter(|r| !kept_items.contains(r.item_key().as_ref()))
            .map(|r| r.item.as_str())
            .collect();
        drops_items |= !dropped.is_empty();
        let message = if dropped.is_empty() {
            format!(
                "sample `{sample_id}` was delivered again in `{latest}` (line {first_kept_line}); the later delivery replaces this row"
            )
        } else {
            format!(
                "sample `{sample_id}` was delivered again in `{latest}` (line {first_kept_line}) without item `{}`; the later delivery replaces this row",
                dropped.join("`, `")
            )
        };
        out.rejects.push(located.reject(
            sample_id,
            Field::SampleId,
            sample_id.to_string(),
            Rule::SampleRedelivered,
            message,
        ));
        if !replaced.iter().any(|f| **f == *located.file) {
            replaced.push(located.file.to_string());
        }
    }
    replaced.sort_by_key(|f| delivery_order(f));
    Delivery { kept, replaced, drops_items }
}

/// Rejects every row when the sample fields differ between rows; returns whether they agree.
fn fields_agree(sample_id: &str, rows: &[Located], out: &mut Assembled) -> bool {
    let Some(first) = rows.first() else { return true };
    if rows.iter().skip(1).all(|other| other.row.sample.agrees_with(&first.row.sample)) {
        return true;
    }
    let reference = first.row.sample.comparable();
    let disagreement = rows.iter().skip(1).find_map(|other| {
        let theirs = other.row.sample.comparable();
        reference
            .iter()
            .zip(theirs.iter())
            .find(|(a, b)| a.1 != b.1)
            .map(|(a, b)| (other, a.0, a.1.clone(), b.1.clone()))
    });
    let Some((other, field, first_value, other_value)) = disagreement else { return true };
    for located in rows {
        let (here, there, there_line) = if std::ptr::eq(located, other) {
            (&other_value, &first_value, first.row.line)
        } else {
            (&first_value, &other_value, other.row.line)
        };
        let message = format!(
            "sample `{sample_id}` has {} `{here}` here but `{there}` on line {there_line}; all its rows are rejected",
            field.as_str()
        );
        out.rejects.push(located.reject(sample_id, field, here.clone(), Rule::SampleFieldsDisagree, message));
    }
    false
}

/// Drops repeated rows: a row with a result of the same item, method and round as a kept
/// row's in item layouts (a row of result groups repeats when any of its results does); the
/// same sample twice in one file in one-row-per-sample layouts. Returns the kept rows and how many were
/// dropped, and whether a dropped row differed from the kept one (the sample is incomplete).
fn drop_duplicates(
    sample_id: &str,
    layout: Layout,
    rows: Vec<Located>,
    out: &mut Assembled,
) -> (Vec<Located>, i32, bool) {
    let mut kept: Vec<Located> = Vec::with_capacity(rows.len());
    let mut dropped = 0;
    let mut differs = false;
    for located in rows {
        let row = &located.row;
        let earlier = kept.iter().find(|k| match layout {
            Layout::ItemRows => k.row.results.iter().any(|a| {
                row.results
                    .iter()
                    .any(|b| a.item_key() == b.item_key() && a.method == b.method && a.is_retest == b.is_retest)
            }),
            Layout::SampleRows | Layout::NetContent => k.file == located.file && k.row.is_retest() == row.is_retest(),
        });
        let Some(earlier) = earlier else {
            kept.push(located);
            continue;
        };
        dropped += 1;
        let reject = match layout {
            Layout::ItemRows => {
                let same = earlier.row.results.len() == row.results.len()
                    && earlier.row.results.iter().zip(&row.results).all(|(a, b)| a.same_measurement(b));
                if !same {
                    differs = true;
                }
                let (item, item_raw) = row
                    .results
                    .first()
                    .map_or((String::new(), String::new()), |r| (r.item.clone(), r.item_raw.clone()));
                let message = format!(
                    "item `{item}` of sample `{sample_id}` already appears on line {}; the first row is kept",
                    earlier.row.line
                );
                located.reject(sample_id, Field::Item, item_raw, Rule::ItemDuplicate, message)
            }
            Layout::SampleRows | Layout::NetContent => {
                // Equal in what they say, however they are written (units, area spellings).
                let same_results = earlier.row.results.len() == row.results.len()
                    && earlier.row.results.iter().zip(&row.results).all(|(a, b)| a.same_measurement(b));
                if !(earlier.row.sample.agrees_with(&row.sample) && same_results) {
                    differs = true;
                }
                let message = format!(
                    "sample `{sample_id}` already appears on line {} of this file; the first row is kept",
                    earlier.row.line
                );
                located.reject(sample_id, Field::SampleId, row.sample_id.clone(), Rule::SampleDuplicate, message)
            }
        };
        out.rejects.push(reject);
    }
    (kept, dropped, differs)
}

/// The verdict of a sample from its rows, and which of their results a later one replaced
/// (indexed like the rows' results, flattened in row order).
///
/// - Per item, the results of the highest round count: a re-test over the original, a
///   confirmation over a screening. In `sample_rows` and `net_content`, a re-test row replaces
///   every original result.
/// - `item_rows` and `net_content`: the sample fails when a counting result fails; it is
///   pending when one is pending or the sample is `incomplete`; else it passes.
/// - `sample_rows`: the listed failing items decide when one fails or is pending; otherwise
///   the reported verdict of the deciding row does. A sample reported as failing whose listed
///   items all pass on their values passes (and is flagged `verdict_conflict`); one reported
///   as failing without any listed item fails (flagged `failing_items_missing`).
pub fn decide(layout: Layout, rows: &[&Row], incomplete: bool) -> (Verdict, Vec<bool>, Vec<Rule>) {
    decide_by(layout, rows, incomplete, |r| r.verdict)
}

/// [`decide`] on the results' verdicts after measurement uncertainty: the sample's
/// `verdict_after_uncertainty`.
pub fn decide_after_uncertainty(layout: Layout, rows: &[&Row], incomplete: bool) -> Verdict {
    decide_by(layout, rows, incomplete, |r| r.evaluation.verdict()).0
}

fn decide_by(
    layout: Layout,
    rows: &[&Row],
    incomplete: bool,
    verdict_of: impl Fn(&ResultFields) -> Verdict,
) -> (Verdict, Vec<bool>, Vec<Rule>) {
    // A result's round: a re-test (its row, or its result group, is one) over the original,
    // a confirmation over a screening.
    let rank = |_row: &Row, result: &ResultFields| {
        u8::from(result.is_retest) * 2 + u8::from(result.method == Some(Method::Confirmation))
    };
    let any_retest = rows.iter().any(|r| r.is_retest());
    // Each result's item key, made once; a sample has few items, so a list serves.
    let keys: Vec<Vec<std::borrow::Cow<'_, str>>> =
        rows.iter().map(|row| row.results.iter().map(ResultFields::item_key).collect()).collect();
    let mut best: Vec<(&str, u8)> = Vec::new();
    for (row, keys) in rows.iter().zip(&keys) {
        for (result, key) in row.results.iter().zip(keys) {
            let rank = rank(row, result);
            match best.iter_mut().find(|(k, _)| *k == key.as_ref()) {
                Some(slot) => slot.1 = slot.1.max(rank),
                None => best.push((key, rank)),
            }
        }
    }
    let best_of = |key: &str| best.iter().find(|(k, _)| *k == key).map_or(0, |(_, rank)| *rank);
    let mut superseded = Vec::new();
    let mut counting: Vec<&ResultFields> = Vec::new();
    for (row, keys) in rows.iter().zip(&keys) {
        for (result, key) in row.results.iter().zip(keys) {
            let replaced = match layout {
                Layout::ItemRows => rank(row, result) < best_of(key),
                Layout::SampleRows | Layout::NetContent => any_retest && !row.is_retest(),
            };
            superseded.push(replaced);
            if !replaced {
                counting.push(result);
            }
        }
    }
    let mut flags = Vec::new();
    if counting.iter().any(|r| r.method == Some(Method::Screening) && r.verdict == Verdict::Pending) {
        flags.push(Rule::ConfirmationMissing);
    }
    let from_results = judge_sample(counting.iter().map(|r| verdict_of(r)), incomplete);
    let verdict = match layout {
        Layout::ItemRows | Layout::NetContent => from_results,
        Layout::SampleRows => {
            let deciding = rows.iter().rev().find(|r| r.is_retest() == any_retest).or(rows.last());
            let reported = deciding.and_then(|r| r.sample.reported_verdict);
            match (from_results, reported) {
                (Verdict::Fail | Verdict::Pending, _) => from_results,
                (_, Some(Verdict::Fail)) if counting.is_empty() => {
                    flags.push(Rule::FailingItemsMissing);
                    Verdict::Fail
                }
                (_, Some(reported)) if counting.is_empty() => reported,
                (_, _) => from_results,
            }
        }
    };
    // Not judged: the source says it does not judge (the sample's verdict, or every waiting
    // item's), and what waits does so only for want of a limit: nothing will decide it.
    let reported_not_judged = rows.iter().any(|r| r.sample.reported_verdict == Some(Verdict::NotJudged));
    let waiting: Vec<&&ResultFields> = counting.iter().filter(|r| verdict_of(r) == Verdict::Pending).collect();
    let not_judged = verdict == Verdict::Pending
        && !incomplete
        && !waiting.is_empty()
        && waiting.iter().all(|r| r.flags.contains(&Rule::LimitMissing))
        && (reported_not_judged || waiting.iter().all(|r| r.reported_verdict == Some(Verdict::NotJudged)));
    let verdict = if not_judged { Verdict::NotJudged } else { verdict };
    (verdict, superseded, flags)
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
    use zhijian_model::ResultType;

    fn result(item: &str, verdict: Verdict, method: Option<Method>) -> ResultFields {
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

    fn row(mut results: Vec<ResultFields>, retest: bool, reported: Option<Verdict>) -> Row {
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

    use Method::{Confirmation, Screening};
    use Verdict::{Fail, Pass, Pending};

    #[test]
    fn confirmations_and_retests_replace_what_came_before() {
        // A screening positive alone: pending, and says a confirmation is missing.
        let screened = row(
            vec![result("克伦特罗", Pending, Some(Screening)), result("沙丁胺醇", Pass, Some(Screening))],
            false,
            None,
        );
        let (verdict, superseded, flags) = decide(Layout::ItemRows, &[&screened], false);
        assert_eq!((verdict, superseded, flags), (Pending, vec![false, false], vec![Rule::ConfirmationMissing]));
        // Its negative confirmation clears it; a positive one fails the sample.
        for (confirmation, expected) in [(Pass, Pass), (Fail, Fail)] {
            let confirmed = row(vec![result("克伦特罗", confirmation, Some(Confirmation))], false, None);
            let (verdict, superseded, flags) = decide(Layout::ItemRows, &[&screened, &confirmed], false);
            assert_eq!((verdict, superseded, flags), (expected, vec![true, false, false], vec![]));
        }
        // A re-test of one item replaces that item only.
        let original = row(vec![result("铅", Fail, None), result("镉", Pass, None)], false, None);
        let retest = row(vec![result("铅", Pass, None)], true, None);
        let (verdict, superseded, _) = decide(Layout::ItemRows, &[&original, &retest], false);
        assert_eq!((verdict, superseded), (Pass, vec![true, false, false]));
    }

    #[test]
    fn one_row_per_sample_verdicts() {
        let listed = |verdict| row(vec![result("多菌灵", verdict, None)], false, Some(Fail));
        // Reported fail, nothing listed: fail, flagged.
        let bare = row(vec![], false, Some(Fail));
        assert_eq!(decide(Layout::SampleRows, &[&bare], false).0, Fail);
        assert_eq!(decide(Layout::SampleRows, &[&bare], false).2, vec![Rule::FailingItemsMissing]);
        // Reported fail, the listed item complies on its values: pass (the caller flags the conflict).
        assert_eq!(decide(Layout::SampleRows, &[&listed(Pass)], false).0, Pass);
        assert_eq!(decide(Layout::SampleRows, &[&listed(Fail)], false).0, Fail);
        // Reported pass, nothing listed: pass.
        assert_eq!(decide(Layout::SampleRows, &[&row(vec![], false, Some(Pass))], false).0, Pass);
        // A re-test row replaces the whole original.
        let retest = row(vec![], true, Some(Pass));
        let (verdict, superseded, _) = decide(Layout::SampleRows, &[&listed(Fail), &retest], false);
        assert_eq!((verdict, superseded), (Pass, vec![true]));
    }

    #[test]
    fn later_deliveries_sort_after_the_file_they_correct() {
        let mut files = ["d/2013Q3_v2.csv", "d/2013Q3-更正.csv", "d/2013Q3.csv", "d/2013Q2.csv"];
        files.sort_by_key(|f| delivery_order(f));
        assert_eq!(files, ["d/2013Q2.csv", "d/2013Q3.csv", "d/2013Q3-更正.csv", "d/2013Q3_v2.csv"]);
        // Numbers as numbers, not as text.
        let mut files = ["d/2013Q3_v10.csv", "d/2013Q3_v9.csv", "d/2013Q3_v2.csv", "d/2013Q3.csv"];
        files.sort_by_key(|f| delivery_order(f));
        assert_eq!(files, ["d/2013Q3.csv", "d/2013Q3_v2.csv", "d/2013Q3_v9.csv", "d/2013Q3_v10.csv"]);
        let mut files = ["d/抽检10月.csv", "d/抽检9月.csv", "d/抽检１２月.csv", "d/抽检1月.csv"];
        files.sort_by_key(|f| delivery_order(f));
        assert_eq!(files, ["d/抽检1月.csv", "d/抽检9月.csv", "d/抽检10月.csv", "d/抽检１２月.csv"]);
    }

    #[test]
    fn a_worksheet_is_ordered_by_its_workbook() {
        // The sheet `5.1` does not make `2013.xlsx#5` the stem: the correction workbook stays
        // after the workbook it corrects, whatever its sheets are called.
        let first = delivery_order("../drop/2013.xlsx#5.1");
        let correction = delivery_order("../drop/2013-更正.xlsx#1");
        assert!(first < correction);
        // A `#` in a CSV's own name is part of its stem.
        assert!(delivery_order("a#2.csv") < delivery_order("a#10.csv"));
    }

    #[test]
    fn natural_order_is_total_and_consistent() {
        use std::cmp::Ordering;
        let mut texts: Vec<&str> =
            "0 00 1 01 9 10 v9 v10 v09 v va v-1 a1b a01b a1c ab a １０ 9月 １０月 月 Z z9 z10a _ \
             x99999999999999999999999 x100000000000000000000000"
                .split_whitespace()
                .collect();
        texts.push("");
        for &a in &texts {
            assert_eq!(natural_cmp(a, a), Ordering::Equal, "{a}");
            for &b in &texts {
                assert_eq!(natural_cmp(a, b), natural_cmp(b, a).reverse(), "{a} {b}");
                assert_eq!(natural_cmp(a, b) == Ordering::Equal, a == b, "{a} {b}");
                for &c in &texts {
                    if natural_cmp(a, b) == Ordering::Less && natural_cmp(b, c) == Ordering::Less {
                        assert_eq!(natural_cmp(a, c), Ordering::Less, "{a} < {b} < {c}");
                    }
                }
            }
        }
        assert_eq!(natural_cmp("x99999999999999999999999", "x100000000000000000000000"), Ordering::Less);
    }

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
