//! Rows → samples: grouping by sample id, the sample-level rules, and sample verdicts.

use std::collections::HashMap;

use zhijian_model::{Programme, Rule, Verdict};

use crate::judge::judge_sample;
use crate::normalise::{Reject, ResultFields, Row, SampleFields};

/// One file's normalised rows, in file order.
#[derive(Debug)]
pub struct FileRows {
    /// The file as shown in outputs.
    pub file: String,
    /// Accepted rows and rejects, one per data record.
    pub outcomes: Vec<Result<Row, Box<Reject>>>,
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
    /// Normalised sample fields (from its first row; all rows agree).
    pub fields: SampleFields,
    /// zhijian's verdict.
    pub verdict: Verdict,
    /// The reported verdict disagrees with `verdict`.
    pub verdict_conflict: bool,
    /// Canonical names of failing items, in source order.
    pub failing_items: Vec<String>,
    /// Accepted results.
    pub result_count: i32,
    /// Item rows that went to rejects.
    pub rejected_rows: i32,
    /// Warnings on the sample.
    pub flags: Vec<Rule>,
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
    /// The sample's key.
    pub sample_key: String,
    /// The programme.
    pub programme: Programme,
    /// The sample's sampling date.
    pub sampling_date: chrono::NaiveDate,
    /// The result.
    pub fields: ResultFields,
    /// File of the row.
    pub source_file: String,
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
    /// One per accepted row, grouped by sample in order of first appearance.
    pub results: Vec<ResultRecord>,
    /// One per rejected row, in file order.
    pub rejects: Vec<Reject>,
}

struct Located {
    file: String,
    row: Row,
}

impl Located {
    /// Rejects this row for a sample-level rule.
    fn reject(
        &self,
        sample_id: &str,
        field: zhijian_pipeline::Field,
        value: String,
        rule: Rule,
        message: String,
    ) -> Reject {
        let row = &self.row;
        Reject {
            file: self.file.clone(),
            record: row.record,
            line: row.line,
            sample_id: Some(sample_id.to_string()),
            item: Some(row.result.item.clone()),
            field: Some(field),
            column: row.columns.header(field).map(str::to_string),
            value: Some(value),
            rule,
            message,
            raw_record: row.raw_record.clone(),
        }
    }
}

/// Groups a source's rows into samples and applies the sample-level rules:
/// - `sample_fields_disagree`: when the sample fields differ between rows of one sample, every
///   row of it is rejected (which row is right cannot be told);
/// - `item_duplicate`: a second row for the same item is rejected; when its result differs
///   from the first, the sample is also incomplete.
///
/// A sample fails when any result fails; it is pending when a result is pending or any of its
/// rows was rejected for another reason than an identical duplicate.
pub fn assemble(programme: Programme, files: Vec<FileRows>) -> Assembled {
    let mut out = Assembled::default();
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<Located>> = HashMap::new();
    // Rows of a sample rejected before grouping, by sample id: they make it incomplete.
    let mut early_rejects: HashMap<String, i32> = HashMap::new();
    for file in files {
        for outcome in file.outcomes {
            match outcome {
                Ok(row) => {
                    let group = groups.entry(row.sample_id.clone()).or_insert_with(|| {
                        order.push(row.sample_id.clone());
                        Vec::new()
                    });
                    group.push(Located { file: file.file.clone(), row });
                }
                Err(reject) => {
                    if let Some(id) = &reject.sample_id {
                        *early_rejects.entry(id.clone()).or_default() += 1;
                    }
                    out.rejects.push(*reject);
                }
            }
        }
    }
    for sample_id in order {
        let Some(rows) = groups.remove(&sample_id) else { continue };
        let early = early_rejects.get(&sample_id).copied().unwrap_or(0);
        assemble_sample(programme, sample_id, rows, early, &mut out);
    }
    out.rejects.sort_by(|a, b| (&a.file, a.record).cmp(&(&b.file, b.record)));
    out
}

fn assemble_sample(
    programme: Programme,
    sample_id: String,
    rows: Vec<Located>,
    early_rejects: i32,
    out: &mut Assembled,
) {
    let first = &rows[0];
    let reference = first.row.sample.comparable();
    // Sample fields must agree on every row.
    let disagreement = rows.iter().skip(1).find_map(|other| {
        let theirs = other.row.sample.comparable();
        reference
            .iter()
            .zip(theirs.iter())
            .find(|(a, b)| a.1 != b.1)
            .map(|(a, b)| (other, a.0, a.1.clone(), b.1.clone()))
    });
    if let Some((other, field, first_value, other_value)) = disagreement {
        for located in &rows {
            let (here, there, there_line) = if std::ptr::eq(located, other) {
                (&other_value, &first_value, first.row.line)
            } else {
                (&first_value, &other_value, other.row.line)
            };
            let message = format!(
                "sample `{sample_id}` has {} `{here}` here but `{there}` on line {there_line}; all its rows are rejected",
                field.as_str()
            );
            out.rejects.push(located.reject(&sample_id, field, here.clone(), Rule::SampleFieldsDisagree, message));
        }
        return;
    }

    // Duplicated items: keep the first.
    let mut seen: HashMap<String, (u64, String)> = HashMap::new();
    let mut kept: Vec<Located> = Vec::with_capacity(rows.len());
    let mut rejected_rows = early_rejects;
    let mut incomplete = early_rejects > 0;
    for located in rows {
        let key = located.row.result.item_key();
        match seen.get(&key) {
            Some((line, raw_result)) => {
                let row = &located.row;
                if *raw_result != row.result.raw_result {
                    incomplete = true;
                }
                rejected_rows += 1;
                let message = format!(
                    "item `{}` of sample `{sample_id}` already appears on line {line}; the first row is kept",
                    row.result.item
                );
                let value = row.result.item_raw.clone();
                out.rejects.push(located.reject(
                    &sample_id,
                    zhijian_pipeline::Field::Item,
                    value,
                    Rule::ItemDuplicate,
                    message,
                ));
            }
            None => {
                seen.insert(key, (located.row.line, located.row.result.raw_result.clone()));
                kept.push(located);
            }
        }
    }

    let verdict = judge_sample(kept.iter().map(|l| l.row.result.verdict), incomplete);
    let first = &kept[0];
    let fields = first.row.sample.clone();
    let mut flags: Vec<Rule> = kept.iter().flat_map(|l| l.row.sample_flags.iter().copied()).collect();
    let verdict_conflict = fields.reported_verdict.is_some_and(|r| verdict != Verdict::Pending && r != verdict);
    if verdict_conflict {
        flags.push(Rule::VerdictConflict);
    }
    if incomplete {
        flags.push(Rule::SampleIncomplete);
    }
    flags.sort();
    flags.dedup();
    let sample_key = format!("{}:{sample_id}", programme.as_str());
    let failing_items =
        kept.iter().filter(|l| l.row.result.verdict == Verdict::Fail).map(|l| l.row.result.item.clone()).collect();
    out.samples.push(SampleRecord {
        sample_key: sample_key.clone(),
        programme,
        source_sample_id: sample_id,
        verdict,
        verdict_conflict,
        failing_items,
        result_count: kept.len() as i32,
        rejected_rows,
        flags,
        source_file: first.file.clone(),
        source_record: first.row.record,
        source_line: first.row.line,
        fields,
    });
    let sampling_date = out.samples.last().map(|s| s.fields.sampling_date);
    for located in kept {
        let row = located.row;
        out.results.push(ResultRecord {
            sample_key: sample_key.clone(),
            programme,
            sampling_date: sampling_date.unwrap_or(row.sample.sampling_date),
            fields: row.result,
            source_file: located.file,
            source_record: row.record,
            source_line: row.line,
        });
    }
}
