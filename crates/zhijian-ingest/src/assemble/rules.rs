//! The rules on one sample's rows before its verdict: the latest delivery wins, the sample
//! fields agree, repeated rows are dropped.

use std::sync::Arc;

use zhijian_model::Rule;
use zhijian_pipeline::{Field, Layout};

use super::{Assembled, Located, delivery_order};

/// What [`latest_delivery`] kept of a sample's rows.
pub(super) struct Delivery {
    /// The rows of the latest delivering file.
    pub(super) kept: Vec<Located>,
    /// The files it replaced, in delivery order.
    pub(super) replaced: Vec<String>,
    /// A replaced file had a test item the latest one lacks.
    pub(super) drops_items: bool,
}

/// Keeps the rows of the latest delivering file; the others go to rejects.
pub(super) fn latest_delivery(sample_id: &str, rows: Vec<Located>, out: &mut Assembled) -> Delivery {
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
pub(super) fn fields_agree(sample_id: &str, rows: &[Located], out: &mut Assembled) -> bool {
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
pub(super) fn drop_duplicates(
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
