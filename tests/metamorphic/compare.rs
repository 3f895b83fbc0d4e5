//! The outputs of a run, keyed by what does not depend on how the input was written (never a
//! file name, line or raw text), and their differences, first few per table.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use arrow_array::{Array, RecordBatch};

use crate::reference::Units;

/// How many differing keys a report shows per table.
const SHOWN: usize = 12;

/// Relative tolerance of numbers compared.
const TOLERANCE: f64 = 1e-9;

/// The columns of `table_dir` as text ("" for null), row by row.
fn read(table_dir: &Path, columns: &[&str]) -> Vec<Vec<String>> {
    let batches: Vec<RecordBatch> = zhijian_store::read_table(table_dir, Some(columns)).unwrap();
    let mut out = Vec::new();
    for batch in &batches {
        let arrays: Vec<&dyn Array> = columns
            .iter()
            .map(|c| {
                let i =
                    batch.schema().index_of(c).unwrap_or_else(|_| panic!("no column `{c}` in {}", table_dir.display()));
                batch.column(i).as_ref()
            })
            .collect();
        for row in 0..batch.num_rows() {
            out.push(arrays.iter().map(|a| cell(*a, row)).collect());
        }
    }
    out
}

/// A cell as text; a list's items sorted, since their order follows the rows', which a shuffle
/// may change.
fn cell(column: &dyn Array, row: usize) -> String {
    if matches!(column.data_type(), arrow_schema::DataType::List(_)) {
        let mut items = crate::common::list_items(column, row);
        items.sort();
        return items.join(",");
    }
    crate::common::cell(column, row)
}

/// The sample columns compared besides the key.
const SAMPLE_COLUMNS: &[&str] = &[
    "verdict",
    "original_verdict",
    "reported_verdict",
    "is_retest",
    "city_code",
    "county_code",
    "reporting_unit_code",
    "sampling_date",
    "report_date",
    "failing_items",
    "flags",
    "result_count",
    "rejected_rows",
];

/// The result columns holding numbers in the result's `unit`, compared in their dimension's
/// base unit so that a result of an item without a canonical unit may change its unit.
const RESULT_QUANTITIES: &[&str] = &["value", "lod", "loq", "limit_min", "limit_max", "declared_value"];

/// One result's facts.
#[derive(Debug, Clone)]
struct ResultFacts {
    words: Vec<(&'static str, String)>,
    /// The unit's dimension, then each quantity in its base unit.
    dimension: String,
    numbers: Vec<(&'static str, Option<f64>)>,
}

impl ResultFacts {
    fn sort_key(&self) -> String {
        let words: Vec<&str> = self.words.iter().map(|(_, w)| w.as_str()).collect();
        let numbers: Vec<String> =
            self.numbers.iter().map(|(_, n)| n.map_or("-".into(), |n| format!("{n:.6e}"))).collect();
        format!("{}|{}", words.join("|"), numbers.join("|"))
    }

    fn same(&self, other: &ResultFacts) -> bool {
        self.words == other.words
            && self.dimension == other.dimension
            && self.numbers.iter().zip(&other.numbers).all(|((_, a), (_, b))| match (a, b) {
                (Some(a), Some(b)) => close(*a, *b),
                (None, None) => true,
                _ => false,
            })
    }
}

impl fmt::Display for ResultFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> =
            self.words.iter().filter(|(_, w)| !w.is_empty()).map(|(c, w)| format!("{c}={w}")).collect();
        parts.extend(self.numbers.iter().filter_map(|(c, n)| n.map(|n| format!("{c}={n}"))));
        if !self.dimension.is_empty() {
            parts.push(format!("({} base)", self.dimension));
        }
        write!(f, "{}", parts.join(" "))
    }
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= TOLERANCE * a.abs().max(b.abs())
}

/// The tables of one run.
#[derive(Debug)]
pub(crate) struct Tables {
    samples: BTreeMap<String, Vec<(&'static str, String)>>,
    results: BTreeMap<String, Vec<ResultFacts>>,
    rejects: BTreeMap<String, usize>,
    pass_rates: BTreeMap<String, String>,
    attainment: BTreeMap<String, String>,
}

impl Tables {
    pub(crate) fn load(output: &Path, units: &Units) -> Tables {
        let mut columns = vec!["sample_key"];
        columns.extend_from_slice(SAMPLE_COLUMNS);
        let samples = read(&output.join("samples"), &columns)
            .into_iter()
            .map(|row| (row[0].clone(), SAMPLE_COLUMNS.iter().copied().zip(row.into_iter().skip(1)).collect()))
            .collect();

        const KEY: &[&str] = &["sample_key", "item", "method", "is_retest", "superseded"];
        const WORDS: &[&str] = &["verdict", "result_type", "qualitative", "limit_banned", "flags"];
        let mut columns: Vec<&str> = KEY.to_vec();
        columns.extend_from_slice(WORDS);
        columns.push("unit");
        columns.push("exceedance");
        columns.extend_from_slice(RESULT_QUANTITIES);
        let mut results: BTreeMap<String, Vec<ResultFacts>> = BTreeMap::new();
        for row in read(&output.join("results"), &columns) {
            let (key, rest) = row.split_at(KEY.len());
            let (words, rest) = rest.split_at(WORDS.len());
            let (dimension, factor) = match units.resolve(&rest[0]) {
                Some(u) => (u.dimension.clone(), u.factor),
                None => (rest[0].clone(), 1.0),
            };
            let number = |text: &str| (!text.is_empty()).then(|| text.parse::<f64>().unwrap());
            let mut numbers = vec![("exceedance", number(&rest[1]))];
            numbers.extend(RESULT_QUANTITIES.iter().zip(&rest[2..]).map(|(c, v)| (*c, number(v).map(|n| n * factor))));
            let facts =
                ResultFacts { words: WORDS.iter().copied().zip(words.iter().cloned()).collect(), dimension, numbers };
            results.entry(key.join(" | ")).or_default().push(facts);
        }
        for facts in results.values_mut() {
            facts.sort_by_cached_key(ResultFacts::sort_key);
        }

        let mut rejects = BTreeMap::new();
        for row in read(&output.join("rejects"), &["source", "sample_id", "item", "field", "rule", "severity"]) {
            *rejects.entry(row.join(" | ")).or_default() += 1;
        }

        let keyed = |table: &str, key: &[&str], rest: &[&str]| -> BTreeMap<String, String> {
            let columns: Vec<&str> = key.iter().chain(rest).copied().collect();
            read(&output.join(table), &columns)
                .into_iter()
                .map(|row| {
                    let shown: Vec<String> =
                        rest.iter().zip(&row[key.len()..]).map(|(c, v)| format!("{c}={v}")).collect();
                    (row[..key.len()].join(" | "), shown.join(" "))
                })
                .collect()
        };
        let pass_rates = keyed(
            "pass_rates",
            &["period_type", "period", "area_level", "area_code", "programme", "category"],
            &[
                "tested",
                "passed",
                "failed",
                "pending",
                "pass_rate",
                "wilson_low",
                "wilson_high",
                "area_name",
                "period_start",
            ],
        );
        let attainment = keyed(
            "attainment",
            &["programme", "area_level", "area_code"],
            &["target", "achieved", "expected", "ratio", "completion", "status", "unit"],
        );
        Tables { samples, results, rejects, pass_rates, attainment }
    }

    /// What differs from `before` to `self`.
    pub(crate) fn differences(&self, before: &Tables) -> Report {
        let show_sample = |v: &Vec<(&str, String)>| {
            v.iter().filter(|(_, x)| !x.is_empty()).map(|(c, x)| format!("{c}={x}")).collect::<Vec<_>>().join(" ")
        };
        let sample_diff = |a: &Vec<(&str, String)>, b: &Vec<(&str, String)>| -> Option<String> {
            let moved: Vec<String> = a
                .iter()
                .zip(b)
                .filter(|((_, x), (_, y))| x != y)
                .map(|((c, x), (_, y))| format!("{c} `{x}` → `{y}`"))
                .collect();
            (!moved.is_empty()).then(|| moved.join(", "))
        };
        let result_diff = |a: &Vec<ResultFacts>, b: &Vec<ResultFacts>| -> Option<String> {
            let same = a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y));
            (!same).then(|| {
                let list = |v: &Vec<ResultFacts>| v.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("; ");
                format!("{} → {}", list(a), list(b))
            })
        };
        let text_diff = |a: &String, b: &String| (a != b).then(|| format!("{a} → {b}"));
        let count_diff = |a: &usize, b: &usize| (a != b).then(|| format!("{a} row(s) → {b} row(s)"));
        Report {
            sections: vec![
                section("samples", &before.samples, &self.samples, sample_diff, show_sample),
                section("results", &before.results, &self.results, result_diff, |v| {
                    v.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("; ")
                }),
                section(
                    "rejects (source | sample_id | item | field | rule | severity)",
                    &before.rejects,
                    &self.rejects,
                    count_diff,
                    |n| format!("{n} row(s)"),
                ),
                section("pass_rates", &before.pass_rates, &self.pass_rates, text_diff, String::clone),
                section("attainment", &before.attainment, &self.attainment, text_diff, String::clone),
            ],
        }
    }

    /// Samples per verdict, for messages.
    pub(crate) fn verdict_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for facts in self.samples.values() {
            *counts.entry(facts[0].1.clone()).or_default() += 1;
        }
        counts
    }
}

fn section<V>(
    table: &'static str,
    before: &BTreeMap<String, V>,
    after: &BTreeMap<String, V>,
    differ: impl Fn(&V, &V) -> Option<String>,
    show: impl Fn(&V) -> String,
) -> Section {
    let mut lines = Vec::new();
    let mut differing = 0;
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in &keys {
        let line = match (before.get(*key), after.get(*key)) {
            (Some(a), Some(b)) => differ(a, b).map(|d| format!("{key}: {d}")),
            (Some(a), None) => Some(format!("{key}: gone (was {})", show(a))),
            (None, Some(b)) => Some(format!("{key}: new ({})", show(b))),
            (None, None) => None,
        };
        if let Some(line) = line {
            differing += 1;
            if lines.len() < SHOWN {
                lines.push(line);
            }
        }
    }
    Section { table, keys: keys.len(), differing, lines }
}

/// The differences of one table.
#[derive(Debug)]
pub(crate) struct Section {
    table: &'static str,
    keys: usize,
    differing: usize,
    lines: Vec<String>,
}

/// The differences between two runs' tables.
#[derive(Debug)]
pub(crate) struct Report {
    sections: Vec<Section>,
}

impl Report {
    pub(crate) fn is_empty(&self) -> bool {
        self.sections.iter().all(|s| s.differing == 0)
    }

    /// How many keys of `table` differ.
    pub(crate) fn differing(&self, table: &str) -> usize {
        self.sections.iter().filter(|s| s.table.starts_with(table)).map(|s| s.differing).sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.sections {
            if s.differing == 0 {
                writeln!(f, "{}: all {} keys agree", s.table, s.keys)?;
                continue;
            }
            writeln!(
                f,
                "{}: {} of {} keys differ (before → after){}",
                s.table,
                s.differing,
                s.keys,
                if s.differing > s.lines.len() { format!(", first {}", s.lines.len()) } else { String::new() }
            )?;
            for line in &s.lines {
                writeln!(f, "  {line}")?;
            }
        }
        Ok(())
    }
}
