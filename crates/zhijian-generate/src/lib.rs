//! Synthetic drops in the shapes of zhijian's sources, for benchmarks and scale tests.
//!
//! [`generate`] writes, into one folder, CSV files for all six programmes of the plan (UTF-8, or
//! GB18030 as real exports are: [`Encoding`]) with the same headers as the bundled pipeline's
//! sources (the food agency's item rows, the livestock bureau's screening and confirmation rows,
//! the agri-inputs spot checks with declared values, the agri-products and consumer-products
//! one-row-per-sample sheets with packed failing items, the net-content checks with every
//! measured unit in one cell), a `pipeline.toml` that reads them (declaring the files'
//! encoding), a copy of the seeds, and `expected.json`: what zhijian must find, fixed as the rows
//! are written. The encoding changes the files' bytes, never the rows they hold: the truth is the
//! same in either, and a UTF-8 drop is byte for byte what it was before GB18030 drops.
//!
//! The drop is deterministic: the same options give the same bytes. Cities are drawn by
//! population; failure rates are a few percent and vary by city and category; dates come in
//! the formats agencies use. A small share of samples carries the messes of real deliveries:
//! an impossible date or an unknown city on every row of a sample (all its rows rejected), or
//! a test row delivered twice (the copy rejected as `item_duplicate`).
//!
//! Every entity and producer is invented and named so (示例, 样例); places are real. A food
//! sample's entity has one unified social credit code, the same on all its samples, that
//! passes the GB 32100 check ([`is_valid_credit_code`]).
//!
//! ```
//! let mut rng = zhijian_generate::Rng::new(7);
//! let a = rng.next_u64();
//! assert_eq!(zhijian_generate::Rng::new(7).next_u64(), a);
//! assert!(rng.f64() < 1.0);
//! ```

mod catalogue;
mod credit_code;
mod encode;

pub use credit_code::{
    ALPHABET as CREDIT_CODE_ALPHABET, credit_code_check, invented_credit_code, is_valid_credit_code,
    organisation_code_check,
};
pub use encode::Encoding;

use std::collections::BTreeMap;
use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration, NaiveDate};

use crate::catalogue::{Catalogue, Item, Limit};
use crate::encode::Encoded;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Samples across all programmes.
    pub samples: u64,
    /// Seed of the random draws.
    pub seed: u64,
    /// The folder to write; created, and refused when it holds anything.
    pub out: PathBuf,
    /// The seeds folder to copy and draw areas from.
    pub seeds: PathBuf,
    /// At most this many data rows per CSV file (a sample's rows stay in one file).
    pub rows_per_file: u64,
    /// Share of samples with a mess that rejects rows.
    pub mess_rate: f64,
    /// The CSV files' encoding, declared in the generated pipeline ([`Encoding::default`] is
    /// UTF-8).
    pub encoding: Encoding,
}

/// Why a drop could not be written.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The output folder exists and is not empty.
    #[error("`{}` already holds files; generate into a new or empty folder", .0.display())]
    NotEmpty(PathBuf),
    /// A file could not be read or written.
    #[error("`{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The seeds' areas could not be read.
    #[error("`{}`: {message}", path.display())]
    Seeds {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> GenerateError + '_ {
    move |source| GenerateError::Io { path: path.to_path_buf(), source }
}

/// A small, fast, portable generator (SplitMix64): the same seed gives the same drop on every
/// machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [low, high).
    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.f64()
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// An index drawn by `weights` (cumulative, ascending, last = total).
    fn weighted(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let x = self.f64() * total;
        cumulative.partition_point(|&c| c <= x).min(cumulative.len().saturating_sub(1))
    }
}

fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    weights
        .into_iter()
        .map(|w| {
            sum += w;
            sum
        })
        .collect()
}

/// A city with its counties, as the seeds list them.
#[derive(Debug, Clone)]
struct City {
    code: String,
    name: String,
    counties: Vec<String>,
    /// Its samples fail this many times the programme's base rate.
    risk: f64,
}

/// 2013 resident population of Henan's cities, in 10,000s (statistical yearbook, rounded);
/// cities are drawn in proportion. An area the table lacks weighs 300.
const POPULATION: &[(&str, f64)] = &[
    ("410100", 919.0),
    ("410200", 465.0),
    ("410300", 662.0),
    ("410400", 493.0),
    ("410500", 509.0),
    ("410600", 160.0),
    ("410700", 567.0),
    ("410800", 352.0),
    ("410900", 360.0),
    ("411000", 430.0),
    ("411100", 258.0),
    ("411200", 224.0),
    ("411300", 1005.0),
    ("411400", 728.0),
    ("411500", 640.0),
    ("411600", 882.0),
    ("411700", 696.0),
    ("419001", 72.0),
];

fn read_cities(seeds: &Path, rng: &mut Rng) -> Result<Vec<City>, GenerateError> {
    let path = seeds.join("areas.csv");
    let seeds_err = |message: String| GenerateError::Seeds { path: path.clone(), message };
    let mut reader = csv::Reader::from_path(&path).map_err(|e| seeds_err(e.to_string()))?;
    let mut cities: Vec<City> = Vec::new();
    let mut counties: Vec<(String, String)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| seeds_err(e.to_string()))?;
        let (code, name, level, parent) = (&record[0], &record[1], &record[2], &record[3]);
        match level {
            "city" => cities.push(City { code: code.into(), name: name.into(), counties: Vec::new(), risk: 1.0 }),
            "county" => counties.push((parent.to_string(), name.to_string())),
            _ => {}
        }
    }
    for (parent, name) in counties {
        if let Some(city) = cities.iter_mut().find(|c| c.code == parent) {
            city.counties.push(name);
        }
    }
    if cities.is_empty() {
        return Err(seeds_err("no city-level areas".into()));
    }
    for city in &mut cities {
        city.risk = rng.range(0.5, 1.8);
    }
    Ok(cities)
}

/// What zhijian must find in the drop.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Expected {
    /// The options' seed.
    pub seed: u64,
    /// Data rows in all files.
    pub rows: u64,
    /// Per programme.
    pub programmes: BTreeMap<String, ProgrammeTruth>,
    /// Rejected rows per rule.
    pub rejected_rows: BTreeMap<String, u64>,
    /// Data rows per file, by file name relative to the drop.
    pub files: BTreeMap<String, u64>,
}

/// One programme's truth.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProgrammeTruth {
    /// Samples zhijian accepts.
    pub samples: u64,
    /// Of which pass.
    pub passed: u64,
    /// Of which fail.
    pub failed: u64,
    /// Accepted results (tests).
    pub results: u64,
}

/// One sample drawn: the fields every layout shares.
struct Drawn {
    id: String,
    city_text: String,
    county: String,
    date: NaiveDate,
    date_text: String,
    entity: String,
    /// The entity's credit code: one per entity, whatever sample it is drawn for.
    entity_credit_code: String,
    fail: bool,
    mess: Mess,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mess {
    None,
    /// Every row's date is impossible: all rows `date_invalid`.
    BadDate,
    /// Every row names a city that does not exist: all rows `area_unknown`.
    UnknownCity,
    /// One test row is delivered twice: the copy is `item_duplicate`.
    DuplicateRow,
}

/// Writes one programme's CSV files, starting a new file past `rows_per_file`.
struct Sink {
    folder: PathBuf,
    prefix: String,
    header: Vec<&'static str>,
    rows_per_file: u64,
    encoding: Encoding,
    part: usize,
    rows_in_part: u64,
    writer: Option<csv::Writer<Encoded<BufWriter<fs::File>>>>,
    files: Vec<(String, u64)>,
}

impl Sink {
    fn new(out: &Path, programme: &str, header: Vec<&'static str>, options: &Options) -> Sink {
        Sink {
            folder: out.join(programme.replace('_', "-")),
            prefix: programme.replace('_', "-"),
            header,
            rows_per_file: options.rows_per_file.max(1),
            encoding: options.encoding,
            part: 0,
            rows_in_part: 0,
            writer: None,
            files: Vec::new(),
        }
    }

    /// Writes one sample's rows, in a new file when the current one is full.
    fn sample(&mut self, rows: &[Vec<String>]) -> Result<(), GenerateError> {
        if self.writer.is_none() || self.rows_in_part + rows.len() as u64 > self.rows_per_file && self.rows_in_part > 0
        {
            self.finish()?;
            self.part += 1;
            fs::create_dir_all(&self.folder).map_err(io_err(&self.folder))?;
            let name = format!("{}-{:03}.csv", self.prefix, self.part);
            let path = self.folder.join(&name);
            let file = fs::File::create(&path).map_err(io_err(&path))?;
            let encoded = Encoded::new(BufWriter::with_capacity(1 << 20, file), self.encoding);
            let mut writer = csv::Writer::from_writer(encoded);
            writer.write_record(&self.header).map_err(|e| GenerateError::Io { path, source: e.into() })?;
            self.writer = Some(writer);
            self.files.push((format!("{}/{name}", self.prefix), 0));
            self.rows_in_part = 0;
        }
        let path = self.folder.clone();
        if let Some(writer) = &mut self.writer {
            for row in rows {
                writer.write_record(row).map_err(|e| GenerateError::Io { path: path.clone(), source: e.into() })?;
            }
        }
        self.rows_in_part += rows.len() as u64;
        if let Some(last) = self.files.last_mut() {
            last.1 += rows.len() as u64;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), GenerateError> {
        if let Some(writer) = self.writer.take() {
            let inner = writer.into_inner().map_err(|e| GenerateError::Io {
                path: self.folder.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
            let buffered = inner.finish().map_err(io_err(&self.folder))?;
            buffered
                .into_inner()
                .map_err(|e| GenerateError::Io { path: self.folder.clone(), source: e.into_error() })?;
        }
        Ok(())
    }
}

/// The programmes, their share of samples and base failure rate.
const PROGRAMMES: &[(&str, f64, f64)] = &[
    ("food", 0.60, 0.035),
    ("agri_products", 0.14, 0.025),
    ("livestock", 0.14, 0.012),
    ("agri_inputs", 0.04, 0.07),
    ("consumer_products", 0.04, 0.10),
    ("net_content", 0.04, 0.05),
];

/// The year the drop covers; the generated pipeline's as-of date is its last day.
const YEAR: i32 = 2013;

/// Writes a drop (see the crate docs) and returns what zhijian must find in it.
pub fn generate(options: &Options) -> Result<Expected, GenerateError> {
    if options.out.is_dir() && fs::read_dir(&options.out).map_err(io_err(&options.out))?.next().is_some() {
        return Err(GenerateError::NotEmpty(options.out.clone()));
    }
    fs::create_dir_all(&options.out).map_err(io_err(&options.out))?;
    let mut rng = Rng::new(options.seed);
    let cities = read_cities(&options.seeds, &mut rng)?;
    let weights = cumulative(
        cities.iter().map(|c| POPULATION.iter().find(|(code, _)| *code == c.code).map_or(300.0, |(_, w)| *w)),
    );
    let catalogue = Catalogue::new();
    let mut expected = Expected { seed: options.seed, ..Expected::default() };
    let shares = cumulative(PROGRAMMES.iter().map(|p| p.1));
    // Each programme draws from its own stream, so its rows do not depend on the others'.
    let mut counts = [0u64; 6];
    for _ in 0..options.samples {
        counts[rng.weighted(&shares)] += 1;
    }
    for (index, &(programme, _, base_rate)) in PROGRAMMES.iter().enumerate() {
        let mut rng = Rng::new(options.seed.wrapping_mul(31).wrapping_add(index as u64 + 1));
        let mut sink = Sink::new(&options.out, programme, catalogue.header(programme), options);
        let truth = expected.programmes.entry(programme.to_string()).or_default();
        for n in 0..counts[index] {
            let city = &cities[rng.weighted(&weights)];
            let category = catalogue.pick(programme, &mut rng);
            let fail_rate = (base_rate * city.risk * category.risk).min(0.5);
            let drawn = draw(programme, n, city, fail_rate, options.mess_rate, &mut rng);
            let rows = catalogue.rows(programme, category, &drawn, &mut rng);
            let written: Vec<Vec<String>> = rows.rows;
            match drawn.mess {
                Mess::BadDate => {
                    *expected.rejected_rows.entry("date_invalid".into()).or_default() += written.len() as u64
                }
                Mess::UnknownCity => {
                    *expected.rejected_rows.entry("area_unknown".into()).or_default() += written.len() as u64;
                }
                Mess::DuplicateRow if catalogue::programme_has_items(programme) => {
                    *expected.rejected_rows.entry("item_duplicate".into()).or_default() += 1;
                }
                Mess::DuplicateRow => {}
                Mess::None => {}
            }
            if matches!(drawn.mess, Mess::None | Mess::DuplicateRow) {
                truth.samples += 1;
                truth.results += rows.results;
                if drawn.fail {
                    truth.failed += 1;
                } else {
                    truth.passed += 1;
                }
            }
            expected.rows += written.len() as u64;
            sink.sample(&written)?;
        }
        sink.finish()?;
        expected.files.extend(sink.files);
    }
    write_pipeline(options)?;
    copy_seeds(options)?;
    let path = options.out.join("expected.json");
    let json = serde_json::to_string_pretty(&expected)
        .map_err(|e| GenerateError::Io { path: path.clone(), source: std::io::Error::other(e.to_string()) })?;
    fs::write(&path, json + "\n").map_err(io_err(&path))?;
    Ok(expected)
}

fn draw(programme: &str, n: u64, city: &City, fail_rate: f64, mess_rate: f64, rng: &mut Rng) -> Drawn {
    let prefix = match programme {
        "food" => "SC",
        "agri_products" => "NY",
        "livestock" => "XM",
        "agri_inputs" => "NZ",
        "consumer_products" => "FX",
        _ => "JL",
    };
    let start = NaiveDate::from_ymd_opt(YEAR, 1, 2).unwrap_or_default();
    // Sampling until the start of December, so reports fall within the year.
    let date = start + Duration::days(rng.below(333) as i64);
    let mess = if rng.chance(mess_rate) {
        [Mess::BadDate, Mess::UnknownCity, Mess::DuplicateRow][rng.below(3)]
    } else {
        Mess::None
    };
    let date_text = if mess == Mess::BadDate {
        format!("{YEAR}-{:02}-{}", date.month(), 30 + rng.below(3) + if date.month() == 2 { 0 } else { 2 })
    } else {
        format_date(date, rng)
    };
    let city_text = match mess {
        Mess::UnknownCity => "火星市".to_string(),
        _ if rng.chance(0.05) => city.code.clone(),
        _ => city.name.clone(),
    };
    let county =
        if city.counties.is_empty() { String::new() } else { city.counties[rng.below(city.counties.len())].clone() };
    // Invented, and named so; (city, number, kind) is the entity, and gives its credit code.
    let kinds = ["样例商行", "示例超市", "示例食品有限公司", "样例农贸市场", "示例经营部", "样例养殖场"];
    let (number, kind) = (rng.below(400), rng.below(kinds.len()));
    let entity = format!("{}第{}{}", city.name, number + 1, kinds[kind]);
    let individual = kinds[kind].ends_with("商行") || kinds[kind].ends_with("经营部");
    let entity_credit_code =
        invented_credit_code(if individual { '2' } else { '1' }, &city.code, (number * kinds.len() + kind) as u64)
            .unwrap_or_default();
    Drawn {
        id: format!("{prefix}{YEAR}{:08}", n + 1),
        city_text,
        county,
        date,
        date_text,
        entity,
        entity_credit_code,
        fail: rng.chance(fail_rate),
        mess,
    }
}

/// A date as agencies write it: mostly ISO, sometimes with slashes, in Chinese, or compact.
fn format_date(date: NaiveDate, rng: &mut Rng) -> String {
    let (y, m, d) = (date.year(), date.month(), date.day());
    match rng.below(20) {
        0..=13 => format!("{y}-{m:02}-{d:02}"),
        14..=16 => format!("{y}/{m:02}/{d:02}"),
        17..=18 => format!("{y}年{m}月{d}日"),
        _ => format!("{y}{m:02}{d:02}"),
    }
}

/// A number as a lab writes it: up to four significant decimals, no trailing zeros.
fn number(value: f64) -> String {
    let text = if value >= 100.0 {
        format!("{value:.1}")
    } else if value >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    };
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    if text == "0" { "0.0001".into() } else { text }
}

/// A measured value for `item`: inside its limit when `pass`, outside otherwise.
fn measured(item: &Item, pass: bool, rng: &mut Rng) -> Option<f64> {
    match (item.limit, pass) {
        (Limit::Max(limit), true) => (!rng.chance(0.3)).then(|| limit * rng.range(0.02, 0.8)),
        (Limit::Max(limit), false) => Some(limit * rng.range(1.3, 4.0)),
        (Limit::Min(limit), true) => Some(limit * rng.range(1.05, 1.4)),
        (Limit::Min(limit), false) => Some(limit * rng.range(0.5, 0.9)),
        (Limit::Banned, true) => None,
        (Limit::Banned, false) => Some(rng.range(0.05, 3.0)),
        (Limit::Qualitative, _) => None,
    }
}

fn write_pipeline(options: &Options) -> Result<(), GenerateError> {
    let path = options.out.join("pipeline.toml");
    let text = catalogue::pipeline_toml(options.samples, options.seed, options.encoding);
    fs::write(&path, text).map_err(io_err(&path))
}

fn copy_seeds(options: &Options) -> Result<(), GenerateError> {
    let target = options.out.join("seeds");
    fs::create_dir_all(&target).map_err(io_err(&target))?;
    let mut names: Vec<PathBuf> = fs::read_dir(&options.seeds)
        .map_err(io_err(&options.seeds))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    names.sort();
    for path in names {
        let Some(name) = path.file_name() else { continue };
        let to = target.join(name);
        fs::copy(&path, &to).map_err(io_err(&to))?;
    }
    Ok(())
}

/// A sample's rows and how many results zhijian accepts from them.
struct SampleRows {
    rows: Vec<Vec<String>>,
    results: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds() -> PathBuf {
        // At run time, so a test binary built from another checkout of the same sources
        // still finds this one's seeds.
        let dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
        dir.join("../../seeds")
    }

    fn options(out: &Path, samples: u64) -> Options {
        Options {
            samples,
            seed: 42,
            out: out.to_path_buf(),
            seeds: seeds(),
            rows_per_file: 500,
            mess_rate: 0.02,
            encoding: Encoding::Utf8,
        }
    }

    #[test]
    fn same_seed_same_bytes() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let ea = generate(&options(&a.path().join("d"), 300)).unwrap();
        let eb = generate(&options(&b.path().join("d"), 300)).unwrap();
        assert_eq!(ea, eb);
        for name in ea.files.keys() {
            let x = fs::read(a.path().join("d").join(name)).unwrap();
            let y = fs::read(b.path().join("d").join(name)).unwrap();
            assert_eq!(x, y, "{name}");
        }
        let c = tempfile::tempdir().unwrap();
        let other = generate(&Options { seed: 43, ..options(&c.path().join("d"), 300) }).unwrap();
        assert_ne!(other, ea);
    }

    #[test]
    fn a_gb18030_drop_holds_the_text_of_the_utf8_drop() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let utf8 = generate(&options(&a.path().join("d"), 300)).unwrap();
        let gb18030 = generate(&Options { encoding: Encoding::Gb18030, ..options(&b.path().join("d"), 300) }).unwrap();
        assert_eq!(utf8, gb18030);
        for name in utf8.files.keys() {
            let text = fs::read_to_string(a.path().join("d").join(name)).unwrap();
            let bytes = fs::read(b.path().join("d").join(name)).unwrap();
            assert!(std::str::from_utf8(&bytes).is_err(), "{name} is UTF-8");
            let (decoded, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
            assert!(!had_errors, "{name}");
            assert!(decoded == text, "{name} decodes to other text");
        }
        let pipeline = |dir: &Path| fs::read_to_string(dir.join("d/pipeline.toml")).unwrap();
        let (utf8_pipeline, gb18030_pipeline) = (pipeline(a.path()), pipeline(b.path()));
        assert_eq!(utf8_pipeline.matches("encoding = \"utf-8\"\n").count(), 6);
        assert_eq!(gb18030_pipeline.matches("encoding = \"gb18030\"\n").count(), 6);
        assert_eq!(
            utf8_pipeline.replace("utf-8", "gb18030").lines().skip(2).collect::<Vec<_>>(),
            gb18030_pipeline.lines().skip(2).collect::<Vec<_>>()
        );
    }

    #[test]
    fn files_split_and_counts_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let expected = generate(&options(&dir.path().join("d"), 400)).unwrap();
        let samples: u64 = expected.programmes.values().map(|p| p.samples).sum();
        let rejected_whole: u64 = expected.rejected_rows.get("date_invalid").copied().unwrap_or(0);
        assert!(samples <= 400 && samples > 350, "{samples}");
        assert!(rejected_whole > 0 || expected.rejected_rows.contains_key("area_unknown"));
        assert_eq!(expected.files.values().sum::<u64>(), expected.rows);
        assert!(expected.files.len() > 6, "{:?}", expected.files);
        for (name, rows) in &expected.files {
            assert!(*rows <= 500, "{name}: {rows}");
            let text = fs::read_to_string(dir.path().join("d").join(name)).unwrap();
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            assert_eq!(reader.records().count() as u64, *rows, "{name}");
        }
        assert!(expected.programmes.values().all(|p| p.failed > 0 || p.samples < 30));
    }

    #[test]
    fn every_food_entity_has_one_valid_credit_code() {
        let dir = tempfile::tempdir().unwrap();
        let expected = generate(&options(&dir.path().join("d"), 3_000)).unwrap();
        let mut code_of: BTreeMap<String, String> = BTreeMap::new();
        let mut entity_of: BTreeMap<String, String> = BTreeMap::new();
        let mut samples_of: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for name in expected.files.keys().filter(|n| n.starts_with("food/")) {
            let mut reader = csv::Reader::from_path(dir.path().join("d").join(name)).unwrap();
            let header = reader.headers().unwrap().clone();
            let column = |title: &str| header.iter().position(|h| h == title).unwrap();
            let (id, entity, code) = (column("抽样编号"), column("被抽样单位名称"), column("统一社会信用代码"));
            for record in reader.records() {
                let record = record.unwrap();
                let (entity, code) = (record[entity].to_string(), record[code].to_string());
                assert!(is_valid_credit_code(&code), "{entity}: `{code}`");
                assert!(entity.contains("示例") || entity.contains("样例"), "{entity}");
                assert_eq!(code_of.entry(entity.clone()).or_insert_with(|| code.clone()), &code, "{entity}");
                assert_eq!(entity_of.entry(code).or_insert_with(|| entity.clone()), &entity);
                samples_of.entry(entity).or_default().insert(record[id].to_string());
            }
        }
        // Some entities are sampled more than once, under the same code.
        assert!(code_of.len() > 100, "{} entities", code_of.len());
        assert!(samples_of.values().any(|ids| ids.len() > 1));
    }

    #[test]
    fn refuses_a_folder_with_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("x"), "").unwrap();
        assert!(matches!(generate(&options(dir.path(), 10)), Err(GenerateError::NotEmpty(_))));
    }

    #[test]
    fn numbers_read_like_a_lab_report() {
        assert_eq!(number(0.05), "0.05");
        assert_eq!(number(12.345), "12.35");
        assert_eq!(number(1234.56), "1234.6");
        assert_eq!(number(0.00001), "0.0001");
    }
}
