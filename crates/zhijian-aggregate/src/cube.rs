//! The pass-rate cube: one pass over the samples files, in parallel.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Int32Type};
use arrow_array::{Array, RecordBatch};
use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use zhijian_model::{AreaLevel, PeriodType};
use zhijian_store::{row_group_batches, row_group_count, table_files};

use crate::{AggregateError, wilson_interval};

/// The `category` value of the cells that cover a whole programme.
pub const ALL_CATEGORIES: &str = "all";
/// The `category` value for samples without a top-level category.
pub const UNCLASSIFIED: &str = "unclassified";

/// What the cube needs besides the samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CubeOptions {
    /// The province's code, the area of province-level cells.
    pub province_code: String,
    /// The province's name.
    pub province_name: String,
}

/// One cell of the cube.
#[derive(Debug, Clone, PartialEq)]
pub struct PassRateRow {
    /// Month, quarter or year.
    pub period_type: PeriodType,
    /// `2013-07`, `2013-Q3`, `2013`.
    pub period: String,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Area level.
    pub area_level: AreaLevel,
    /// Area code.
    pub area_code: String,
    /// Area name.
    pub area_name: String,
    /// Programme code.
    pub programme: String,
    /// Top-level category or `all`.
    pub category: String,
    /// passed + failed + pending.
    pub tested: u64,
    /// Passed samples.
    pub passed: u64,
    /// Failed samples.
    pub failed: u64,
    /// Pending samples.
    pub pending: u64,
}

impl PassRateRow {
    /// passed / (passed + failed).
    pub fn pass_rate(&self) -> Option<f64> {
        let judged = self.passed + self.failed;
        (judged > 0).then(|| self.passed as f64 / judged as f64)
    }

    /// The 95% Wilson interval of the pass rate.
    pub fn wilson(&self) -> Option<(f64, f64)> {
        wilson_interval(self.passed, self.passed + self.failed)
    }
}

/// The key of the attainment counts: (year, programme, area level, area code).
pub type AchievedKey = (i32, String, AreaLevel, String);

/// What a year's sampling achieved in one area.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Achieved {
    /// Samples.
    pub samples: u64,
    /// Tests (results).
    pub tests: u64,
    /// Distinct top-level categories.
    pub kinds: BTreeSet<String>,
}

/// The cube and the attainment counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aggregates {
    /// Cells, sorted by period start, period type, area level, area code, programme, category.
    pub pass_rates: Vec<PassRateRow>,
    /// Counts per year, programme and area.
    pub achieved: BTreeMap<AchievedKey, Achieved>,
    /// Samples read.
    pub samples_read: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CellKey {
    period_type: PeriodType,
    period_start: NaiveDate,
    level: AreaLevel,
    area: u32,
    programme: u32,
    category: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    passed: u64,
    failed: u64,
    pending: u64,
}

/// (year, programme id, level, area id).
type InternedAchievedKey = (i32, u32, AreaLevel, u32);
/// (samples, tests, category ids).
type InternedAchieved = (u64, u64, BTreeSet<u32>);

/// A thread's share: strings interned to small ids so the hot loop hashes only integers.
#[derive(Debug, Default)]
struct Partial {
    strings: Vec<String>,
    ids: HashMap<String, u32>,
    names: HashMap<u32, String>,
    cells: HashMap<CellKey, Counts>,
    achieved: HashMap<InternedAchievedKey, InternedAchieved>,
    samples: u64,
}

impl Partial {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(text.to_string());
        self.ids.insert(text.to_string(), id);
        id
    }

    fn add_batch(&mut self, path: &Path, batch: &RecordBatch, options: &CubeOptions) -> Result<(), AggregateError> {
        let text = |column: &'static str| {
            batch.column_by_name(column).and_then(|c| c.as_string_opt::<i32>()).ok_or(AggregateError::Column {
                path: path.to_path_buf(),
                column,
                expected: "Utf8",
            })
        };
        let programme = text("programme")?;
        let category = text("category_1")?;
        let city = text("city_code")?;
        let city_name = text("city_name")?;
        let county = text("county_code")?;
        let county_name = text("county_name")?;
        let unit = text("reporting_unit_code")?;
        let verdict = text("verdict")?;
        let dates = batch
            .column_by_name("sampling_date")
            .and_then(|c| c.as_primitive_opt::<Date32Type>())
            .ok_or(AggregateError::Column { path: path.to_path_buf(), column: "sampling_date", expected: "Date32" })?;
        let results = batch
            .column_by_name("result_count")
            .and_then(|c| c.as_primitive_opt::<Int32Type>())
            .ok_or(AggregateError::Column { path: path.to_path_buf(), column: "result_count", expected: "Int32" })?;
        let province = self.intern(&options.province_code);
        self.names.entry(province).or_insert_with(|| options.province_name.clone());
        let all = self.intern(ALL_CATEGORIES);
        let unclassified = self.intern(UNCLASSIFIED);
        for row in 0..batch.num_rows() {
            let Some(date) = dates.value_as_date(row) else { continue };
            let programme = self.intern(programme.value(row));
            let category = self.intern(if category.is_null(row) { UNCLASSIFIED } else { category.value(row) });
            let city_id = self.intern(city.value(row));
            self.names.entry(city_id).or_insert_with(|| city_name.value(row).to_string());
            let unit_id = self.intern(unit.value(row));
            let county_id = (!county.is_null(row)).then(|| {
                let id = self.intern(county.value(row));
                if !county_name.is_null(row) {
                    self.names.entry(id).or_insert_with(|| county_name.value(row).to_string());
                }
                id
            });
            // A reporting unit is its city, or a directly administered county.
            self.names.entry(unit_id).or_insert_with(|| {
                let name = if Some(unit_id) == county_id { county_name.value(row) } else { city_name.value(row) };
                name.to_string()
            });
            let counts = |c: &mut Counts| match verdict.value(row) {
                "pass" => c.passed += 1,
                "fail" => c.failed += 1,
                _ => c.pending += 1,
            };
            let areas = [
                (AreaLevel::Province, Some(province)),
                (AreaLevel::City, Some(city_id)),
                (AreaLevel::ReportingUnit, Some(unit_id)),
                (AreaLevel::County, county_id),
            ];
            for (period_type, period_start) in periods(date) {
                for (level, area) in areas {
                    let Some(area) = area else { continue };
                    for category in [category, all] {
                        let key = CellKey { period_type, period_start, level, area, programme, category };
                        counts(self.cells.entry(key).or_default());
                    }
                }
            }
            for (level, area) in areas {
                let Some(area) = area else { continue };
                let entry = self.achieved.entry((date.year(), programme, level, area)).or_default();
                entry.0 += 1;
                entry.1 += results.value(row).max(0) as u64;
                if category != unclassified {
                    entry.2.insert(category);
                }
            }
            self.samples += 1;
        }
        Ok(())
    }

    /// Adds another partial's counts into this one, translating its ids into this one's.
    /// Names seen first here win, so merging partials in task order keeps the result
    /// independent of the number of threads.
    fn merge(&mut self, other: Partial) {
        let ids: Vec<u32> = other.strings.iter().map(|text| self.intern(text)).collect();
        let id = |other_id: u32| ids[other_id as usize];
        for (key, counts) in other.cells {
            let key = CellKey { area: id(key.area), programme: id(key.programme), category: id(key.category), ..key };
            let mine = self.cells.entry(key).or_default();
            mine.passed += counts.passed;
            mine.failed += counts.failed;
            mine.pending += counts.pending;
        }
        for ((year, programme, level, area), (samples, tests, kinds)) in other.achieved {
            let mine = self.achieved.entry((year, id(programme), level, id(area))).or_default();
            mine.0 += samples;
            mine.1 += tests;
            mine.2.extend(kinds.into_iter().map(id));
        }
        for (other_id, name) in other.names {
            self.names.entry(id(other_id)).or_insert(name);
        }
        self.samples += other.samples;
    }
}

/// The month, quarter and year a date falls in, as (type, first day).
fn periods(date: NaiveDate) -> [(PeriodType, NaiveDate); 3] {
    let (y, m) = (date.year(), date.month());
    let first = |month| NaiveDate::from_ymd_opt(y, month, 1).unwrap_or(date);
    [(PeriodType::Month, first(m)), (PeriodType::Quarter, first((m - 1) / 3 * 3 + 1)), (PeriodType::Year, first(1))]
}

fn period_label(period_type: PeriodType, start: NaiveDate) -> String {
    match period_type {
        PeriodType::Month => start.format("%Y-%m").to_string(),
        PeriodType::Quarter => format!("{}-Q{}", start.year(), (start.month() - 1) / 3 + 1),
        PeriodType::Year => start.year().to_string(),
    }
}

/// Reads every file of the samples table at `samples_dir` and computes the cube and the
/// attainment counts. Files are read in parallel; the result does not depend on the order.
pub fn aggregate(samples_dir: &Path, options: &CubeOptions) -> Result<Aggregates, AggregateError> {
    const COLUMNS: &[&str] = &[
        "programme",
        "category_1",
        "city_code",
        "city_name",
        "county_code",
        "county_name",
        "reporting_unit_code",
        "verdict",
        "sampling_date",
        "result_count",
    ];
    let files: Vec<PathBuf> = if samples_dir.exists() { table_files(samples_dir)? } else { Vec::new() };
    // Row groups are the unit of work, so one large year file keeps every core busy. Each
    // thread folds a run of consecutive row groups into one partial (one partial per thread,
    // not per rayon split, so memory follows the cube, not the number of row groups), and the
    // partials merge in task order.
    let mut tasks: Vec<(&PathBuf, usize)> = Vec::new();
    for path in &files {
        tasks.extend((0..row_group_count(path)?).map(|group| (path, group)));
    }
    let per_thread = tasks.len().div_ceil(rayon::current_num_threads()).max(1);
    let partials = tasks
        .par_chunks(per_thread)
        .map(|run| -> Result<Partial, AggregateError> {
            let mut partial = Partial::default();
            // One reader per file of the run: its footer is parsed once, batches stream.
            for same_file in run.chunk_by(|a, b| a.0 == b.0) {
                let path = same_file[0].0;
                let groups = same_file.iter().map(|(_, group)| *group).collect();
                for batch in row_group_batches(path, Some(COLUMNS), Some(groups))? {
                    partial.add_batch(path, &batch?, options)?;
                }
            }
            Ok(partial)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut partials = partials.into_iter();
    let mut cube = partials.next().unwrap_or_default();
    for partial in partials {
        cube.merge(partial);
    }
    // The cells leave the map for a flat list, sorted in place (no merge buffer), and become
    // rows in that order: at the peak the cube is held as rows plus 48 bytes a cell.
    let mut cells: Vec<(CellKey, Counts)> = std::mem::take(&mut cube.cells).into_iter().collect();
    let strings = &cube.strings;
    let order = |k: &CellKey| {
        let s = |id: u32| strings[id as usize].as_str();
        (k.period_start, k.period_type, k.level, s(k.area), s(k.programme), s(k.category))
    };
    // Keys are unique, so an unstable sort gives one order.
    cells.sort_unstable_by(|(a, _), (b, _)| order(a).cmp(&order(b)));
    let text = |id: u32| cube.strings[id as usize].clone();
    let name = |id: u32| cube.names.get(&id).cloned().unwrap_or_else(|| text(id));
    let pass_rates: Vec<PassRateRow> = cells
        .into_iter()
        .map(|(key, c)| PassRateRow {
            period: period_label(key.period_type, key.period_start),
            period_type: key.period_type,
            period_start: key.period_start,
            area_level: key.level,
            area_name: name(key.area),
            area_code: text(key.area),
            programme: text(key.programme),
            category: text(key.category),
            tested: c.passed + c.failed + c.pending,
            passed: c.passed,
            failed: c.failed,
            pending: c.pending,
        })
        .collect();
    let achieved: BTreeMap<AchievedKey, Achieved> = cube
        .achieved
        .iter()
        .map(|((year, programme, level, area), (samples, tests, kinds))| {
            (
                (*year, text(*programme), *level, text(*area)),
                Achieved { samples: *samples, tests: *tests, kinds: kinds.iter().map(|k| text(*k)).collect() },
            )
        })
        .collect();
    tracing::info!(samples = cube.samples, cells = pass_rates.len(), files = files.len(), "aggregated");
    Ok(Aggregates { pass_rates, achieved, samples_read: cube.samples })
}
