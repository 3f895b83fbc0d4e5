//! The pass-rate cube: one pass over the samples files, in parallel.

use std::collections::{BTreeMap, BTreeSet};

// Keys of a few small integers: SipHash was a sixth of the aggregation.
use foldhash::{HashMap, HashMapExt, HashSet};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Int32Type};
use arrow_array::{Array, RecordBatch};
use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use zhijian_model::{AreaLevel, Period, PeriodType};
use zhijian_store::{row_group_batches, row_group_count, table_files};

use crate::AggregateError;

/// The `category` value of the cells that cover a whole programme.
pub use zhijian_model::tables::ALL_CATEGORIES;
/// The `category` value for samples without a top-level category.
pub const UNCLASSIFIED: &str = "unclassified";
/// The name suffix of a city's "county not given" cell at the county level (its code is the
/// city's): `郑州市（未注明县区）`.
pub(crate) const COUNTY_NOT_GIVEN: &str = "（未注明县区）";

/// What the cube needs besides the samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CubeOptions {
    /// The province's code, the area of province-level cells.
    pub province_code: String,
    /// The province's name.
    pub province_name: String,
}

/// One cell of the cube: typed with the table, in the model.
pub use zhijian_model::tables::PassRateRow;

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
    not_judged: u64,
    passed_after_uncertainty: u64,
    failed_after_uncertainty: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.pending += other.pending;
        self.not_judged += other.not_judged;
        self.passed_after_uncertainty += other.passed_after_uncertainty;
        self.failed_after_uncertainty += other.failed_after_uncertainty;
    }
}

/// The finest grain the samples are counted at, one map update per sample: the cube's cells
/// and the attainment counts are sums of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FineKey {
    month: NaiveDate,
    programme: u32,
    category: u32,
    city: u32,
    unit: u32,
    county: Option<u32>,
}

/// Attainment counts by ids: (year, programme, level, area) → (samples, tests, categories).
type InternedAchieved = HashMap<(i32, u32, AreaLevel, u32), (u64, u64, BTreeSet<u32>)>;

/// Counts of a fine key: verdicts and the results of its samples.
#[derive(Debug, Clone, Copy, Default)]
struct FineCounts {
    counts: Counts,
    tests: u64,
}

impl FineCounts {
    fn add(&mut self, other: &FineCounts) {
        self.counts.add(&other.counts);
        self.tests += other.tests;
    }

    fn samples(&self) -> u64 {
        self.counts.passed + self.counts.failed + self.counts.pending + self.counts.not_judged
    }
}

/// A thread's share: strings interned to small ids, so the hot loop hashes a few integers.
#[derive(Debug, Default)]
struct Partial {
    strings: Vec<String>,
    ids: HashMap<String, u32>,
    names: HashMap<u32, String>,
    fine: HashMap<FineKey, FineCounts>,
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

    fn add_batch(&mut self, path: &Path, batch: &RecordBatch) -> Result<(), AggregateError> {
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
        let after_uncertainty = text("verdict_after_uncertainty")?;
        let dates = batch
            .column_by_name("sampling_date")
            .and_then(|c| c.as_primitive_opt::<Date32Type>())
            .ok_or(AggregateError::Column { path: path.to_path_buf(), column: "sampling_date", expected: "Date32" })?;
        let results = batch
            .column_by_name("result_count")
            .and_then(|c| c.as_primitive_opt::<Int32Type>())
            .ok_or(AggregateError::Column { path: path.to_path_buf(), column: "result_count", expected: "Int32" })?;
        for row in 0..batch.num_rows() {
            let Some(date) = dates.value_as_date(row) else { continue };
            let key = FineKey {
                month: date.with_day(1).unwrap_or(date),
                programme: self.intern(programme.value(row)),
                category: self.intern(if category.is_null(row) { UNCLASSIFIED } else { category.value(row) }),
                city: self.intern(city.value(row)),
                unit: self.intern(unit.value(row)),
                county: (!county.is_null(row)).then(|| self.intern(county.value(row))),
            };
            let counts = match self.fine.entry(key) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => {
                    // A new key is the first sight of any new area: names are taken then, so
                    // each area keeps the name of its first row, as before.
                    let counts = entry.insert(FineCounts::default());
                    let county_text = (!county_name.is_null(row)).then(|| county_name.value(row));
                    self.names.entry(key.city).or_insert_with(|| city_name.value(row).to_string());
                    if let (Some(id), Some(name)) = (key.county, county_text) {
                        self.names.entry(id).or_insert_with(|| name.to_string());
                    }
                    // A reporting unit is its city, or a directly administered county.
                    let unit_name =
                        if Some(key.unit) == key.county { county_name.value(row) } else { city_name.value(row) };
                    self.names.entry(key.unit).or_insert_with(|| unit_name.to_string());
                    counts
                }
            };
            match verdict.value(row) {
                "pass" => counts.counts.passed += 1,
                "fail" => counts.counts.failed += 1,
                "not_judged" => counts.counts.not_judged += 1,
                _ => counts.counts.pending += 1,
            }
            match after_uncertainty.value(row) {
                "pass" => counts.counts.passed_after_uncertainty += 1,
                "fail" => counts.counts.failed_after_uncertainty += 1,
                _ => {}
            }
            counts.tests += results.value(row).max(0) as u64;
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
        for (key, counts) in other.fine {
            let key = FineKey {
                programme: id(key.programme),
                category: id(key.category),
                city: id(key.city),
                unit: id(key.unit),
                county: key.county.map(id),
                ..key
            };
            self.fine.entry(key).or_default().add(&counts);
        }
        for (other_id, name) in other.names {
            self.names.entry(id(other_id)).or_insert(name);
        }
        self.samples += other.samples;
    }

    /// The cube's cells and the attainment counts, summed from the fine counts.
    fn roll_up(&self, province: u32, all: u32, unclassified: u32) -> (HashMap<CellKey, Counts>, InternedAchieved) {
        // Each fine key reaches 24 cells, most shared with other keys.
        let mut cells: HashMap<CellKey, Counts> = HashMap::with_capacity(self.fine.len() * 2);
        let mut achieved = InternedAchieved::new();
        for (key, fine) in &self.fine {
            let areas = [
                (AreaLevel::Province, Some(province)),
                (AreaLevel::City, Some(key.city)),
                (AreaLevel::ReportingUnit, Some(key.unit)),
                (AreaLevel::County, key.county),
            ];
            // At the county level a sample without a county counts in its city's "county not
            // given" cell, which carries the city's code (never a county's), so the level adds
            // up to the province like the others.
            let cell_areas = [areas[0], areas[1], areas[2], (AreaLevel::County, Some(key.county.unwrap_or(key.city)))];
            for Period { kind: period_type, start: period_start } in Period::all_containing(key.month) {
                for (level, area) in cell_areas {
                    let Some(area) = area else { continue };
                    for category in [key.category, all] {
                        let cell =
                            CellKey { period_type, period_start, level, area, programme: key.programme, category };
                        cells.entry(cell).or_default().add(&fine.counts);
                    }
                }
            }
            for (level, area) in areas {
                let Some(area) = area else { continue };
                let entry = achieved.entry((key.month.year(), key.programme, level, area)).or_default();
                entry.0 += fine.samples();
                entry.1 += fine.tests;
                if key.category != unclassified {
                    entry.2.insert(key.category);
                }
            }
        }
        (cells, achieved)
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
        "verdict_after_uncertainty",
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
                    partial.add_batch(path, &batch?)?;
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
    let province = cube.intern(&options.province_code);
    cube.names.entry(province).or_insert_with(|| options.province_name.clone());
    let all = cube.intern(ALL_CATEGORIES);
    let unclassified = cube.intern(UNCLASSIFIED);
    let (cells, achieved) = cube.roll_up(province, all, unclassified);
    let cities: HashSet<u32> = cube.fine.keys().map(|k| k.city).collect();
    cube.fine = HashMap::new();
    // The cells leave the map for a flat list, sorted in place (no merge buffer), and become
    // rows in that order: at the peak the cube is held as rows plus 48 bytes a cell.
    let mut cells: Vec<(CellKey, Counts)> = cells.into_iter().collect();
    // Texts compare as their ranks among all interned texts (each is there once), so the sort
    // compares integers in the order of the texts.
    let mut by_text: Vec<u32> = (0..cube.strings.len() as u32).collect();
    by_text.sort_unstable_by(|&a, &b| cube.strings[a as usize].cmp(&cube.strings[b as usize]));
    let mut rank = vec![0u32; by_text.len()];
    for (position, &id) in by_text.iter().enumerate() {
        rank[id as usize] = position as u32;
    }
    let order = |k: &CellKey| {
        let r = |id: u32| rank[id as usize];
        (k.period_start, k.period_type, k.level, r(k.area), r(k.programme), r(k.category))
    };
    // Keys are unique, so an unstable sort gives one order.
    cells.sort_unstable_by_key(|(key, _)| order(key));
    let text = |id: u32| cube.strings[id as usize].clone();
    let name = |id: u32| cube.names.get(&id).cloned().unwrap_or_else(|| text(id));
    let pass_rates: Vec<PassRateRow> = cells
        .into_iter()
        .map(|(key, c)| PassRateRow {
            period: Period { start: key.period_start, kind: key.period_type }.label(),
            period_type: key.period_type,
            period_start: key.period_start,
            area_level: key.level,
            // At the county level only a city's own code is its "county not given" cell.
            area_name: if key.level == AreaLevel::County && cities.contains(&key.area) {
                format!("{}{COUNTY_NOT_GIVEN}", name(key.area))
            } else {
                name(key.area)
            },
            area_code: text(key.area),
            programme: text(key.programme),
            category: text(key.category),
            tested: c.passed + c.failed + c.pending + c.not_judged,
            passed: c.passed,
            failed: c.failed,
            pending: c.pending,
            not_judged: c.not_judged,
            passed_after_uncertainty: c.passed_after_uncertainty,
            failed_after_uncertainty: c.failed_after_uncertainty,
        })
        .collect();
    let achieved: BTreeMap<AchievedKey, Achieved> = achieved
        .into_iter()
        .map(|((year, programme, level, area), (samples, tests, kinds))| {
            (
                (year, text(programme), level, text(area)),
                Achieved { samples, tests, kinds: kinds.iter().map(|k| text(*k)).collect() },
            )
        })
        .collect();
    tracing::info!(samples = cube.samples, cells = pass_rates.len(), files = files.len(), "aggregated");
    Ok(Aggregates { pass_rates, achieved, samples_read: cube.samples })
}
