//! Metamorphic tests: a transformation of the input files that keeps their meaning (another
//! unit, another spelling of an area, another encoding, row or column order, header alias, date
//! style, the same rows in two files) must not change a verdict. Each test rewrites every
//! delimited-text source of two drops — the bundled pipeline's sample data (food, livestock,
//! consumer products, net content) and a generated drop of 20,000 samples — runs zhijian on the
//! copy, and compares with the run on the original. The workbook tests rewrite the bundled
//! workbooks instead (agri products' `.xlsx`, agri inputs' 1904-system `.xls`, each written
//! back as an `.xlsx`; see `metamorphic/excel.rs`): dates in other forms and the other date
//! system, rows in another order, the data sheet behind another, numbers stored as text. The
//! comparison:
//!
//! - every sample's verdict (and its original verdict, areas, dates, failing items, flags,
//!   counts), by `sample_key`;
//! - every result's verdict, type, flags and numbers (value, LOD, LOQ, limits and declared
//!   value in their dimension's base unit, exceedance), within a relative 1e-9, by sample key,
//!   item, method, re-test and superseded;
//! - the whole `pass_rates` and `attainment` tables;
//! - the rejects as a multiset of (source, sample id, item, field, rule, severity): never a file
//!   name, line, value or raw text, which a transformation may change.
//!
//! A failure lists, per table, the first keys that moved with their values before and after;
//! `the_comparison_reports_a_change_of_meaning` (and `…_in_a_workbook`) shows that it can fail.
//! With `ZHIJIAN_METAMORPHIC_KEEP=1` (and `--no-capture`) each transformed drop and its outputs
//! stay in the temporary folder, and stderr says where.
//!
//! The baselines are built once per binary and kept under the temporary folder (see
//! `metamorphic/drops.rs`), so the tests of one run share them whatever process runs them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "metamorphic/book.rs"]
mod book;
mod common;
#[path = "metamorphic/compare.rs"]
mod compare;
#[path = "metamorphic/drops.rs"]
mod drops;
#[path = "metamorphic/excel.rs"]
mod excel;
#[path = "metamorphic/numbers.rs"]
mod numbers;
#[path = "metamorphic/reference.rs"]
mod reference;
#[path = "metamorphic/sheet.rs"]
mod sheet;
#[path = "metamorphic/transform.rs"]
mod transform;

use std::sync::OnceLock;

use drops::{Baseline, bundled, generated};
use excel::{
    DateForm, DateSystems, ExcelDates, NumbersAsText, ResultsTimesThousand, SavedAgain, SheetMoved, ShuffledRows,
    SystemSwappedUnshifted,
};
use transform::{
    AreaSpellings, Composite, DateStyle, Dates, Env, HeaderAliases, HeaderSpellings, Identity, Reencode,
    ReorderColumns, RescaleLimits, RescaleResults, SHAPES, Scientific, ShuffleRows, Split, TimesThousand,
    Transformation, UnitChoice, WithDetectionLimits,
};

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let seeds = common::repo().join("seeds");
        Env {
            units: reference::Units::load(&seeds),
            areas: reference::Areas::load(&seeds),
            henan: zhijian_pipeline::Pipeline::load(&common::repo().join("pipelines/henan-2013.toml")).unwrap(),
        }
    })
}

/// Applies each transformation to `baseline` and panics with every report that shows a
/// difference.
fn assert_keeps_meaning(baseline: &Baseline, transformations: &[&dyn Transformation]) {
    let mut failures = Vec::new();
    for transformation in transformations {
        let outcome = baseline.check(env(), *transformation);
        assert!(
            !outcome.changes.files.is_empty(),
            "{}: `{}` changed no file; the test would prove nothing",
            baseline.name,
            transformation.name()
        );
        eprintln!(
            "{}: `{}` rewrote {} file(s){}",
            baseline.name,
            transformation.name(),
            outcome.changes.files.len(),
            if outcome.changes.edits.is_empty() {
                String::new()
            } else {
                format!(", pipeline edits {}", outcome.changes.edits.join(", "))
            }
        );
        if !outcome.report.is_empty() {
            failures.push(format!(
                "{} drop, `{}` (files {}):\n{}",
                baseline.name,
                transformation.name(),
                outcome.changes.files.join(", "),
                outcome.report
            ));
        }
    }
    assert!(failures.is_empty(), "a transformation that keeps the meaning moved outputs:\n\n{}", failures.join("\n"));
}

/// Tests on both drops with one transformation (or several, run one after the other).
macro_rules! keeps_meaning {
    ($(#[$meta:meta])* $bundled:ident, $generated:ident, [$($transformation:expr),+ $(,)?]) => {
        $(#[$meta])*
        #[test]
        fn $bundled() {
            assert_keeps_meaning(&bundled(env()), &[$(&$transformation),+]);
        }

        $(#[$meta])*
        #[test]
        fn $generated() {
            assert_keeps_meaning(&generated(env()), &[$(&$transformation),+]);
        }
    };
}

#[test]
fn writing_the_files_again_unchanged_changes_nothing() {
    let outcome = bundled(env()).check(env(), &Identity);
    assert!(outcome.report.is_empty(), "{}", outcome.report);
}

#[test]
fn the_comparison_reports_a_change_of_meaning() {
    let baseline = bundled(env());
    let outcome = baseline.check(env(), &TimesThousand);
    let report = outcome.report.to_string();
    assert!(!outcome.report.is_empty(), "results × 1000 went unnoticed");
    assert!(outcome.report.differing("samples") > 10, "{report}");
    assert!(outcome.report.differing("results") > 100, "{report}");
    assert!(outcome.report.differing("pass_rates") > 0, "{report}");
    assert!(report.contains("verdict `pass` → `fail`"), "{report}");
    let (before, after) = (baseline.tables.verdict_counts(), outcome.tables.verdict_counts());
    assert!(after["fail"] > before["fail"], "{before:?} → {after:?}");
}

keeps_meaning!(
    /// Results (and limits without a unit column of their own) in another unit of the same
    /// dimension, the decimal point moved in the text: `0.0489` mg/kg → `48.9` μg/kg. This
    /// fails when a result is judged on the number as written rather than in the analyte's
    /// canonical unit. The unit of a row follows from its text, so a row delivered twice stays
    /// two equal rows.
    results_in_another_unit_keep_their_verdicts,
    results_in_another_unit_keep_their_verdicts_in_a_generated_drop,
    [RescaleResults { choice: UnitChoice::ByContent }]
);

#[test]
fn detection_limits_in_another_unit_keep_their_verdicts() {
    // The sample data write non-detects without a limit: given one first, `未检出(<0.01)`
    // mg/kg becomes `未检出(<10)` μg/kg.
    let (_dir, baseline) = bundled(env()).prepared(env(), &WithDetectionLimits);
    assert_keeps_meaning(&baseline, &[&RescaleResults { choice: UnitChoice::ByContent }, &Scientific]);
}

#[test]
fn detection_limits_in_another_unit_keep_their_verdicts_in_a_generated_drop() {
    let (_dir, baseline) = generated(env()).prepared(env(), &WithDetectionLimits);
    assert_keeps_meaning(&baseline, &[&RescaleResults { choice: UnitChoice::ByContent }]);
}

keeps_meaning!(
    /// Units picked row after row: a row delivered twice comes once in mg/kg and once in
    /// μg/kg, the same quantity, so its copy is still a duplicate of it.
    a_row_delivered_twice_in_two_units_is_still_the_same_row,
    a_row_delivered_twice_in_two_units_is_still_the_same_row_in_a_generated_drop,
    [RescaleResults { choice: UnitChoice::ByPosition }]
);

keeps_meaning!(
    /// Limits with a unit column (or unit) of their own rescaled independently of the results.
    limits_in_another_unit_keep_their_verdicts,
    limits_in_another_unit_keep_their_verdicts_in_a_generated_drop,
    [RescaleLimits]
);

keeps_meaning!(
    /// Every number of every value cell in scientific notation: `10330` → `1.033e+04`.
    numbers_in_scientific_notation_keep_their_verdicts,
    numbers_in_scientific_notation_keep_their_verdicts_in_a_generated_drop,
    [Scientific]
);

keeps_meaning!(
    /// Provinces, cities and counties as code, name, short name, 4-digit prefix or pinyin.
    other_area_spellings_keep_their_verdicts,
    other_area_spellings_keep_their_verdicts_in_a_generated_drop,
    [AreaSpellings]
);

#[test]
fn re_encoded_files_keep_their_verdicts() {
    // Eight runs: every file in every shape (UTF-8 or GB18030, BOM or not, CRLF or LF).
    let shapes: Vec<Reencode> = (0..SHAPES.len()).map(|offset| Reencode { offset }).collect();
    let transformations: Vec<&dyn Transformation> = shapes.iter().map(|t| t as &dyn Transformation).collect();
    assert_keeps_meaning(&bundled(env()), &transformations);
}

#[test]
fn re_encoded_files_keep_their_verdicts_in_a_generated_drop() {
    // The files of a source take the shapes in turn.
    assert_keeps_meaning(&generated(env()), &[&Reencode { offset: 0 }]);
}

keeps_meaning!(
    /// Data rows in a seeded random order.
    shuffled_rows_keep_their_verdicts,
    shuffled_rows_keep_their_verdicts_in_a_generated_drop,
    [ShuffleRows { seed: 2013 }]
);

keeps_meaning!(
    /// Columns in a seeded random order.
    reordered_columns_keep_their_verdicts,
    reordered_columns_keep_their_verdicts_in_a_generated_drop,
    [ReorderColumns { seed: 2013 }]
);

keeps_meaning!(
    /// Headers renamed to other aliases of their field in the pipeline file.
    header_aliases_keep_their_verdicts,
    header_aliases_keep_their_verdicts_in_a_generated_drop,
    [HeaderAliases]
);

keeps_meaning!(
    /// Headers with an inner ideographic space and full-width ASCII, which matching folds.
    header_spellings_keep_their_verdicts,
    header_spellings_keep_their_verdicts_in_a_generated_drop,
    [HeaderSpellings]
);

#[test]
fn every_date_style_keeps_the_verdicts() {
    let styles: Vec<Dates> = DateStyle::ACCEPTED.iter().map(|&s| Dates { style: Some(s) }).collect();
    let transformations: Vec<&dyn Transformation> = styles.iter().map(|t| t as &dyn Transformation).collect();
    assert_keeps_meaning(&bundled(env()), &transformations);
}

#[test]
fn every_date_style_keeps_the_verdicts_in_a_generated_drop() {
    // The styles in turn, row by row: the rows of one sample differ in style.
    assert_keeps_meaning(&generated(env()), &[&Dates { style: None }]);
}

keeps_meaning!(
    /// Compact timestamps `201307051230`.
    compact_timestamps_keep_the_verdicts,
    compact_timestamps_keep_the_verdicts_in_a_generated_drop,
    [Dates { style: Some(DateStyle::CompactTimestamp) }]
);

keeps_meaning!(
    /// Each file split in two whose names sort where it did, each sample whole in one part.
    split_files_keep_their_verdicts,
    split_files_keep_their_verdicts_in_a_generated_drop,
    [Split]
);

/// Every transformation at once, in an order where each still finds its columns.
fn everything() -> Composite {
    Composite(vec![
        Box::new(RescaleResults { choice: UnitChoice::ByContent }),
        Box::new(RescaleLimits),
        Box::new(Scientific),
        Box::new(AreaSpellings),
        Box::new(Dates { style: None }),
        Box::new(ShuffleRows { seed: 7 }),
        Box::new(Split),
        Box::new(ReorderColumns { seed: 7 }),
        Box::new(HeaderSpellings),
        Box::new(HeaderAliases),
        Box::new(Reencode { offset: 3 }),
    ])
}

keeps_meaning!(
    /// All of the above on the same files: units, notation, areas, dates, order, files,
    /// columns, headers and bytes.
    everything_at_once_keeps_the_verdicts,
    everything_at_once_keeps_the_verdicts_in_a_generated_drop,
    [everything()]
);

#[test]
fn the_xls_saved_as_xlsx_keeps_its_verdicts() {
    // Both workbooks written again as .xlsx, each in its own date system (the .xls in 1904):
    // what every workbook test starts from.
    let outcome = bundled(env()).check(env(), &SavedAgain { systems: DateSystems::Kept });
    assert!(outcome.changes.edits.iter().any(|e| e.contains("AsXlsx")), "{:?}", outcome.changes.edits);
    assert!(outcome.report.is_empty(), "{}", outcome.report);
}

/// The workbook tests: the bundled drop, whose workbooks they rewrite.
macro_rules! workbooks_keep_meaning {
    ($(#[$meta:meta])* $name:ident, [$($transformation:expr),+ $(,)?]) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            assert_keeps_meaning(&bundled(env()), &[$(&$transformation),+]);
        }
    };
}

workbooks_keep_meaning!(
    /// The .xls's 1904 workbook in the 1900 system and the .xlsx's 1900 one in 1904, every
    /// serial moved by 1,462 days (date cells, `=DATE()` formulas' cached values, bare serial
    /// numbers in the date column).
    workbooks_in_the_other_date_system_keep_their_verdicts,
    [SavedAgain { systems: DateSystems::Swapped }]
);

workbooks_keep_meaning!(
    /// One date column mixing date cells in five number formats, bare serials, `=DATE()`
    /// formulas and text in three styles, row after row; then all date cells, all text.
    excel_dates_in_every_form_keep_their_verdicts,
    [
        ExcelDates { forms: &DateForm::ALL },
        ExcelDates { forms: &DateForm::CELLS },
        ExcelDates { forms: &DateForm::TEXTS },
    ]
);

workbooks_keep_meaning!(
    /// Every date a bare serial number (no date format) in workbooks of the 1900 system.
    excel_dates_as_serial_numbers_keep_their_verdicts,
    [Composite(vec![
        Box::new(SavedAgain { systems: DateSystems::All1900 }),
        Box::new(ExcelDates { forms: &[DateForm::Serial] }),
    ])]
);

workbooks_keep_meaning!(
    /// Every date a bare serial number in workbooks of the 1904 system, which say so in their
    /// `workbookPr`; no date cell is left to show it.
    /// (It found zhijian inferring the system from date cells only: serial 40070, 2013-09-15
    /// from 1904, read as 2009-09-14. The workbook's own setting now decides.)
    excel_dates_as_serial_numbers_in_a_1904_workbook_keep_their_verdicts,
    [Composite(vec![
        Box::new(SavedAgain { systems: DateSystems::All1904 }),
        Box::new(ExcelDates { forms: &[DateForm::Serial] }),
    ])]
);

workbooks_keep_meaning!(
    /// Data rows in a seeded random order, cities merged down runs anew.
    shuffled_workbook_rows_keep_their_verdicts,
    [ShuffledRows { seed: 2013 }]
);

workbooks_keep_meaning!(
    /// The data sheet last, a look-alike sheet of last year's first, selected by name.
    a_data_sheet_behind_a_look_alike_keeps_its_verdicts,
    [SheetMoved]
);

workbooks_keep_meaning!(
    /// Results, declared values and tolerances as text cells; then number cells, typed text
    /// and zero-padded text in turn in one column.
    numbers_stored_as_text_keep_their_verdicts,
    [NumbersAsText { mixed: false }, NumbersAsText { mixed: true }]
);

workbooks_keep_meaning!(
    /// All of the above on the same workbooks.
    every_workbook_transformation_at_once_keeps_the_verdicts,
    [Composite(vec![
        Box::new(SavedAgain { systems: DateSystems::Swapped }),
        Box::new(ExcelDates { forms: &DateForm::ALL }),
        Box::new(NumbersAsText { mixed: true }),
        Box::new(ShuffledRows { seed: 7 }),
        Box::new(SheetMoved),
    ])]
);

#[test]
fn the_comparison_reports_a_change_of_meaning_in_a_workbook() {
    let baseline = bundled(env());
    // The .xls's results × 1000: 水分 `1.2` % against `≤2.0` fails.
    let outcome = baseline.check(env(), &ResultsTimesThousand);
    let report = outcome.report.to_string();
    assert!(outcome.report.differing("samples") > 10, "{report}");
    assert!(outcome.report.differing("results") > 100, "{report}");
    assert!(outcome.report.differing("pass_rates") > 0, "{report}");
    assert!(report.contains("verdict `pass` → `fail`"), "{report}");
    // The other date system without moving the serials: every date four years off.
    let outcome = baseline.check(env(), &SystemSwappedUnshifted);
    let report = outcome.report.to_string();
    assert!(outcome.report.differing("samples") > 50, "{report}");
    assert!(report.contains("sampling_date `2013-"), "{report}");
}
