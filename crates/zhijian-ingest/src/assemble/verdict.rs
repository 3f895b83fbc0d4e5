//! A sample's verdict from its rows: which results count, and what they decide.

use zhijian_model::{Method, Rule, Verdict};
use zhijian_pipeline::Layout;

use crate::judge::judge_sample;
use crate::normalise::{ResultFields, Row};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::tests::{result, row};

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
}
