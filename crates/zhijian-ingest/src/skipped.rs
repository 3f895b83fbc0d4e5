//! Rows inside a table that are not data: blank separator rows and totals rows (合计, 小计).
//!
//! Offices break their data with an empty row between groups, and close it, or each printed
//! page, with a totals row: `合计 | | 共抽检120批次，不合格7批次`. Such a row is no record: it is
//! skipped, never rejected as `required_missing`, and never silently. Each input's entry in
//! the manifest counts blank rows (`rows_blank`) and totals rows (`rows_totals`) and lists
//! where they were (`skipped_rows`, [`SkippedRows`]). Neither count is part of `rows_read`, so
//! rows read = accepted + rejected + superseded holds as before.
//!
//! - A **totals row** has an empty sample id (or one that is itself a totals word), and a cell
//!   that holds a totals word of the source's vocabulary (`[sources.vocabulary] totals`, by
//!   default 合计, 总计, 小计, 共计, 累计, 本页小计, 本页合计, total, subtotal): the word
//!   alone, or followed by anything but a letter (`合计：`, `合 计`, `小计（本页）`,
//!   `合计120批次`; not `合计数`), width, case and spaces folded. A row that names a sample is
//!   data, whatever its other cells say. `totals = []` turns the rule off.
//! - A **blank row** has every cell empty or spaces; in delimited text an empty line is one
//!   too. The readers count them ([`crate::read::Table::blank_records`]); the runs of blank
//!   rows followed by another row are listed, those after the last row (a formatted area below
//!   the data) only counted.
//!
//! ```
//! use zhijian_ingest::skipped::TotalsWords;
//!
//! let words = TotalsWords::new(&["合计".to_string(), "本页小计".to_string()]);
//! assert!(words.holds("合 计："));
//! assert!(words.holds("本页小计(3页)"));
//! assert!(!words.holds("合计数"));
//! ```

use zhijian_pipeline::Field;
use zhijian_seeds::normalise_key;

use crate::read::{ColumnIndex, RawRecord};

/// Most entries of [`SkippedRows`] kept per input; the counts stay exact beyond it.
pub const MAX_LISTED: usize = 1000;

/// Most characters of a totals row's text kept in [`SkippedRows::raw_record`].
const RAW_RECORD_KEPT: usize = 256;

pub use zhijian_store::manifest::{SkippedKind, SkippedRows};

/// The totals words of a source, folded for matching.
#[derive(Debug, Clone, Default)]
pub struct TotalsWords {
    words: Vec<String>,
}

impl TotalsWords {
    /// The matcher of `words` (`[sources.vocabulary] totals`); empty words are ignored.
    pub fn new(words: &[String]) -> Self {
        let mut words: Vec<String> = words.iter().map(|w| normalise_key(w)).filter(|w| !w.is_empty()).collect();
        words.sort();
        words.dedup();
        TotalsWords { words }
    }

    /// Whether `cell` holds a totals word: the word alone, or followed by anything but a
    /// letter, width, case and spaces folded. Runs on every record's sample id, so it folds as
    /// it compares rather than building the folded text.
    pub fn holds(&self, cell: &str) -> bool {
        let folded = cell.chars().filter_map(fold);
        self.words.iter().any(|word| {
            let mut rest = folded.clone();
            // CJK ideographs are letters too: `合计数` is a word of its own.
            word.chars().all(|w| rest.next() == Some(w)) && rest.next().is_none_or(|c| !c.is_alphabetic())
        })
    }

    /// The cell that makes `record` a totals row, if it is one: its sample id is empty or a
    /// totals word, and a cell holds a totals word.
    pub fn totals_row<'r>(&self, record: &'r RawRecord, columns: &ColumnIndex) -> Option<&'r str> {
        if self.words.is_empty() || record.malformed().is_some() {
            return None;
        }
        if columns.get(record, Field::SampleId).is_some_and(|id| !self.holds(id)) {
            return None;
        }
        record.fields().map(str::trim).find(|cell| !cell.is_empty() && self.holds(cell))
    }
}

/// Takes the totals rows out of an input's records as they are read, numbers the others from 0
/// (`source_record`), and keeps what was skipped for the manifest.
#[derive(Debug)]
pub struct RowSkipper<'w> {
    words: &'w TotalsWords,
    next_record: u64,
    totals: u64,
    listed: Vec<SkippedRows>,
}

impl<'w> RowSkipper<'w> {
    /// A skipper of the totals rows `words` recognises.
    pub fn new(words: &'w TotalsWords) -> Self {
        RowSkipper { words, next_record: 0, totals: 0, listed: Vec::new() }
    }

    /// The data records of `records` (the next ones of the input, in order), renumbered.
    pub fn data(&mut self, mut records: Vec<RawRecord>, columns: &ColumnIndex) -> Vec<RawRecord> {
        records.retain_mut(|record| {
            if let Some(cell) = self.words.totals_row(record, columns) {
                tracing::debug!(line = record.line, cell, "skipping a totals row");
                self.totals += 1;
                if self.listed.len() < MAX_LISTED {
                    self.listed.push(SkippedRows {
                        first_line: record.line,
                        last_line: record.line,
                        kind: SkippedKind::Totals,
                        raw_record: Some(kept(&record.joined())),
                    });
                }
                return false;
            }
            record.record = self.next_record;
            self.next_record += 1;
            true
        });
        records
    }

    /// The totals rows skipped, and every skipped row to list: these and the runs of blank rows
    /// `blank_runs` (first and last line of each), in line order, at most [`MAX_LISTED`].
    pub fn finish(self, blank_runs: &[(u64, u64)]) -> (u64, Vec<SkippedRows>) {
        let mut listed = self.listed;
        listed.extend(blank_runs.iter().map(|&(first_line, last_line)| SkippedRows {
            first_line,
            last_line,
            kind: SkippedKind::Blank,
            raw_record: None,
        }));
        listed.sort_by_key(|s| (s.first_line, s.last_line));
        listed.truncate(MAX_LISTED);
        (self.totals, listed)
    }
}

/// One character as [`normalise_key`] folds it (full width to ASCII, lower case, the same
/// look-alikes); `None` for the spaces it drops.
fn fold(ch: char) -> Option<char> {
    let ch = match ch {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFF01 + 0x21).unwrap_or(ch),
        '\u{3000}' => ' ',
        _ => ch,
    };
    if ch.is_whitespace() {
        return None;
    }
    Some(match ch {
        'µ' => 'μ',
        '₀'..='₉' => char::from_u32(ch as u32 - '₀' as u32 + '0' as u32).unwrap_or(ch),
        '、' => ',',
        _ => ch.to_ascii_lowercase(),
    })
}

/// `text` cut to [`RAW_RECORD_KEPT`] characters, with `…` when cut.
fn kept(text: &str) -> String {
    match text.char_indices().nth(RAW_RECORD_KEPT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Table;

    fn words() -> TotalsWords {
        TotalsWords::new(&zhijian_pipeline::Vocabulary::default().totals)
    }

    #[test]
    fn folding_as_it_compares_is_normalise_key() {
        for text in ["合 计：", "ＴＯＴＡＬ　1", "µg₁、x", "Sub Total", "\t本页\n小计"] {
            assert_eq!(text.chars().filter_map(fold).collect::<String>(), normalise_key(text), "{text:?}");
        }
    }

    #[test]
    fn a_totals_word_alone_or_followed_by_no_letter() {
        let words = words();
        for cell in [
            "合计",
            "合 计",
            "合计：",
            "合计:",
            "总计（120批次）",
            "小计(本页)",
            "本页小计",
            "合计120批次",
            "ＴＯＴＡＬ",
            "Subtotal:",
        ] {
            assert!(words.holds(cell), "{cell}");
        }
        for cell in ["合计数", "共抽检120批次", "", "不合格", "totally", "小"] {
            assert!(!words.holds(cell), "{cell}");
        }
        assert!(!TotalsWords::new(&[String::new(), " ".to_string()]).holds("x"), "empty words match nothing");
    }

    fn columns() -> ColumnIndex {
        let header: Vec<String> = ["序号", "抽样编号", "样品名称"].iter().map(|h| h.to_string()).collect();
        let table = Table { header_leaves: header.clone(), header, ..Table::default() };
        ColumnIndex::new(&table, &crate::testing::source("").columns, &[Field::SampleId]).unwrap()
    }

    #[test]
    fn a_totals_row_names_no_sample() {
        let (words, columns) = (words(), columns());
        let row = |cells: &[&str]| RawRecord::new(0, 9, cells.iter().copied());
        assert_eq!(words.totals_row(&row(&["合计", "", "共抽检120批次"]), &columns), Some("合计"));
        assert_eq!(words.totals_row(&row(&["", "", "本页小计：3批"]), &columns), Some("本页小计：3批"));
        assert_eq!(words.totals_row(&row(&["", "总计", "120"]), &columns), Some("总计"), "the id cell says it");
        // A row that names a sample is data, even with a totals word in it.
        assert_eq!(words.totals_row(&row(&["合计", "S1", "面粉"]), &columns), None);
        // An empty id without a totals word is a record missing its id (`required_missing`).
        assert_eq!(words.totals_row(&row(&["3", "", "面粉"]), &columns), None);
        assert_eq!(TotalsWords::new(&[]).totals_row(&row(&["合计", "", ""]), &columns), None, "`totals = []`");
    }

    #[test]
    fn totals_rows_are_taken_out_and_listed_with_the_blank_runs() {
        let (words, columns) = (words(), columns());
        let mut skipper = RowSkipper::new(&words);
        let row = |record, line, cells: &[&str]| RawRecord::new(record, line, cells.iter().copied());
        let first = skipper.data(vec![row(0, 2, &["1", "S1", "面粉"]), row(1, 3, &["小计", "", "1批"])], &columns);
        let second = skipper.data(vec![row(2, 5, &["2", "S2", "大米"]), row(3, 6, &["合计", "", "2批"])], &columns);
        let kept: Vec<(u64, u64)> = first.iter().chain(&second).map(|r| (r.record, r.line)).collect();
        assert_eq!(kept, [(0, 2), (1, 5)], "records numbered from 0 among the data");
        let (totals, listed) = skipper.finish(&[(4, 4)]);
        assert_eq!(totals, 2);
        let lines: Vec<(u64, u64, SkippedKind)> = listed.iter().map(|s| (s.first_line, s.last_line, s.kind)).collect();
        assert_eq!(lines, [(3, 3, SkippedKind::Totals), (4, 4, SkippedKind::Blank), (6, 6, SkippedKind::Totals)]);
        assert_eq!(listed[2].raw_record.as_deref(), Some("合计||2批"));
        assert_eq!(kept_text(), format!("{}…", "长".repeat(RAW_RECORD_KEPT)));
    }

    fn kept_text() -> String {
        kept(&"长".repeat(RAW_RECORD_KEPT + 5))
    }

    #[test]
    fn the_list_is_bounded_and_the_count_exact() {
        let (words, columns) = (words(), columns());
        let mut skipper = RowSkipper::new(&words);
        let rows: Vec<RawRecord> =
            (0..MAX_LISTED as u64 + 10).map(|i| RawRecord::new(i, i + 2, ["合计", "", ""])).collect();
        assert!(skipper.data(rows, &columns).is_empty());
        let (totals, listed) = skipper.finish(&[(1, 1)]);
        assert_eq!((totals, listed.len()), (MAX_LISTED as u64 + 10, MAX_LISTED));
        assert_eq!(listed[0].kind, SkippedKind::Blank, "in line order before the cut");
    }
}
