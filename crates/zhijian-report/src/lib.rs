//! The quality-status report the plan asks for at province, city and county level: one
//! self-contained `report.html` (Chinese, SVG charts, no network) and the same figures as
//! Markdown tables in `report.md`, for CI summaries and e-mail.
//!
//! [`Report::build`] reads the published tables (`pass_rates`, `attainment`, `samples`,
//! `results`, `rejects`) of one output folder and keeps every figure as it is in those tables;
//! [`Report::html`] and [`Report::markdown`] only format them (percent with one decimal, dates
//! as `2013年7月`). Each chart's marks carry their exact values in `data-` attributes, so a
//! test can compare the drawing with the tables.
//!
//! ```
//! assert_eq!(zhijian_report::period_label("2013-Q3"), Some("2013年第三季度".to_string()));
//! assert_eq!(zhijian_report::percent(Some(0.92096)), "92.1%");
//! ```

mod format;
mod read;
mod render;
mod svg;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use zhijian_model::AreaLevel;
use zhijian_model::tables::{ALL_CATEGORIES as ALL, PassRateRow};

pub use format::{percent, period_label};

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The output folder lacks a table.
    #[error("no table `{table}` in `{}`; run `zhijian run` first", output.display())]
    MissingTable {
        /// The table.
        table: &'static str,
        /// The folder.
        output: PathBuf,
    },
    /// The period is not `2013`, `2013-Q3` or `2013-07`.
    #[error("expected a period such as 2013, 2013-Q3 or 2013-07, found `{0}`")]
    Period(String),
    /// Reading the tables failed.
    #[error(transparent)]
    Store(#[from] zhijian_store::StoreError),
    /// A table does not hold what its schema says.
    #[error(transparent)]
    Table(#[from] zhijian_model::tables::TableError),
}

/// What the report is about, from the pipeline and its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// `2013`, `2013-Q3` or `2013-07`.
    pub period: String,
    /// The run's as-of date.
    pub as_of: NaiveDate,
    /// The province's code and name.
    pub province: (String, String),
    /// Programme codes and their Chinese names, in the order the report shows them.
    pub programmes: Vec<(String, String)>,
    /// Pass-rate thresholds drawn as a line, by programme (from the pipeline's checks).
    pub thresholds: Vec<(String, f64)>,
    /// The directly administered counties and their parent cities' codes.
    pub direct_counties: Vec<(String, String)>,
}

/// A pass-rate cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// Area code, category, or programme code, depending on the figure.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Samples.
    pub tested: i64,
    /// Passed.
    pub passed: i64,
    /// Failed.
    pub failed: i64,
    /// Pending.
    pub pending: i64,
    /// Samples the source does not judge and no limit judges.
    pub not_judged: i64,
    /// passed / (passed + failed).
    pub pass_rate: Option<f64>,
    /// 95% Wilson interval.
    pub interval: Option<(f64, f64)>,
}

/// A target row.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Area code.
    pub code: String,
    /// Area name.
    pub name: String,
    /// samples, tests or kinds.
    pub unit: String,
    /// The year's target.
    pub target: i64,
    /// Achieved by the as-of date.
    pub achieved: i64,
    /// The pro-rata share due by the as-of date.
    pub expected: f64,
    /// achieved / expected.
    pub ratio: Option<f64>,
    /// met, on_track or behind.
    pub status: String,
}

/// A failing sample, with the entity to report it to.
#[derive(Debug, Clone, PartialEq)]
pub struct FailingSample {
    /// The source's id.
    pub sample_id: String,
    /// Product.
    pub product: String,
    /// Sampled entity.
    pub entity: String,
    /// City name.
    pub city: String,
    /// Sampling date.
    pub date: Option<NaiveDate>,
    /// Failing items.
    pub items: Vec<String>,
}

/// One programme's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Programme code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The threshold line, if the checks set one.
    pub threshold: Option<f64>,
    /// The province for the period.
    pub province: Option<Rate>,
    /// Each city, directly administered counties inside.
    pub cities: Vec<Rate>,
    /// Each directly administered county beside its parent city (reporting units).
    pub counties: Vec<(Rate, Rate)>,
    /// Targets of the year: the province and the areas the seeds give targets for.
    pub targets: Vec<Target>,
    /// Top-level categories, most failures first.
    pub categories: Vec<Rate>,
    /// Test items by failing results in the period, most first.
    pub items: Vec<(String, i64)>,
    /// Samples that failed in the period.
    pub failing: Vec<FailingSample>,
}

/// Monthly pass rates: (`2013-07`, rate), null where no sample was judged.
pub type MonthlyRates = Vec<(String, Option<f64>)>;

/// A quality-status report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// What it is about.
    pub options: ReportOptions,
    /// One per programme with samples or a target.
    pub sections: Vec<Section>,
    /// Monthly province-wide pass rate per programme, the period's year up to its end.
    pub trend: Vec<(String, MonthlyRates)>,
    /// Rejected rows by rule (with severity), most first.
    pub rejects_by_rule: Vec<(String, String, i64)>,
    /// Rejected rows by source, most first.
    pub rejects_by_source: Vec<(String, i64)>,
}

/// The first and last day of a period label.
fn period_range(period: &str) -> Option<(NaiveDate, NaiveDate)> {
    zhijian_model::Period::parse(period).map(|p| p.range())
}

/// The figures of a cell, `key` naming it (its area code, or its category).
fn rate(r: &PassRateRow, key: &str) -> Rate {
    Rate {
        key: key.to_string(),
        name: r.area_name.clone(),
        tested: r.tested as i64,
        passed: r.passed as i64,
        failed: r.failed as i64,
        pending: r.pending as i64,
        not_judged: r.not_judged as i64,
        pass_rate: r.pass_rate(),
        interval: r.wilson(),
    }
}

impl Report {
    /// Reads the tables of `output` and gathers the figures for `options.period`.
    pub fn build(output: &Path, options: ReportOptions) -> Result<Report, ReportError> {
        let (start, end) = period_range(&options.period).ok_or_else(|| ReportError::Period(options.period.clone()))?;
        let year = start.year().to_string();
        // The period's cells and the province's monthly trend; not the whole cube.
        let cells = read::pass_rates_where(
            output,
            &[&[("period", options.period.as_str())], &[("period_type", "month"), ("area_level", "province")]],
        )?;
        // The targets of the period's year.
        let targets = read::attainment(output, start.year())?;
        // Only failing samples and results are listed: a few percent of the rows.
        let samples = read::read_where(
            output,
            "samples",
            &[
                "programme",
                "source_sample_id",
                "product_name",
                "entity_name",
                "city_name",
                "sampling_date",
                "verdict",
                "failing_items",
            ],
            Some(&[&[("verdict", "fail")]]),
        )?;
        let results = read::read_where(
            output,
            "results",
            &["programme", "sampling_date", "item", "verdict", "superseded"],
            Some(&[&[("verdict", "fail")]]),
        )?;
        let rejects = read::read(output, "rejects", &["source", "rule", "severity"])?;
        let in_period = |d: Option<NaiveDate>| d.is_some_and(|d| d >= start && d <= end);
        // (period, area level, programme, category, area code) → cell.
        let index: std::collections::HashMap<(&str, AreaLevel, &str, &str, &str), &PassRateRow> = cells
            .iter()
            .map(|r| {
                ((r.period.as_str(), r.area_level, r.programme.as_str(), r.category.as_str(), r.area_code.as_str()), r)
            })
            .collect();
        let lookup = |period: &str, level: AreaLevel, programme: &str, code: &str| {
            index.get(&(period, level, programme, ALL, code)).copied()
        };
        let cell = |r: &&PassRateRow, level: AreaLevel, programme: &str| {
            r.period == options.period && r.area_level == level && r.programme == programme
        };

        let mut sections = Vec::new();
        for (code, name) in &options.programmes {
            let province =
                lookup(&options.period, AreaLevel::Province, code, &options.province.0).map(|r| rate(r, &r.area_code));
            let mut cities: Vec<Rate> = cells
                .iter()
                .filter(|r| cell(r, AreaLevel::City, code) && r.category == ALL)
                .map(|r| rate(r, &r.area_code))
                .collect();
            cities.sort_by(|a, b| a.key.cmp(&b.key));
            let unit = |unit_code: &str| {
                cells
                    .iter()
                    .find(|r| cell(r, AreaLevel::ReportingUnit, code) && r.category == ALL && r.area_code == unit_code)
                    .map(|r| rate(r, &r.area_code))
            };
            let counties: Vec<(Rate, Rate)> = options
                .direct_counties
                .iter()
                .filter_map(|(county, parent)| Some((unit(county)?, unit(parent)?)))
                .collect();
            let mut categories: Vec<Rate> = cells
                .iter()
                .filter(|r| cell(r, AreaLevel::Province, code) && r.category != ALL)
                .map(|r| Rate { name: r.category.clone(), ..rate(r, &r.category) })
                .collect();
            categories.sort_by(|a, b| b.failed.cmp(&a.failed).then(a.key.cmp(&b.key)));
            let mut target_rows: Vec<Target> = targets
                .iter()
                .filter(|t| {
                    t.target.programme == *code
                        && matches!(t.target.area_level, AreaLevel::Province | AreaLevel::ReportingUnit)
                })
                .map(|t| Target {
                    code: t.target.area_code.clone(),
                    name: t.target.area_name.clone(),
                    unit: t.target.unit.as_str().to_string(),
                    target: t.target.target,
                    achieved: t.achieved,
                    expected: t.expected,
                    ratio: t.ratio,
                    status: t.status.as_str().to_string(),
                })
                .collect();
            // The province first, then the areas by code.
            target_rows
                .sort_by(|a, b| (a.code != options.province.0, &a.code).cmp(&(b.code != options.province.0, &b.code)));
            let mut items: BTreeMap<String, i64> = BTreeMap::new();
            for r in results.iter().filter(|r| {
                r.text("programme") == code
                    && r.text("verdict") == "fail"
                    && !r.flag("superseded")
                    && in_period(r.date("sampling_date"))
            }) {
                *items.entry(r.text("item").to_string()).or_default() += 1;
            }
            let mut items: Vec<(String, i64)> = items.into_iter().collect();
            items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut failing: Vec<FailingSample> = samples
                .iter()
                .filter(|s| {
                    s.text("programme") == code && s.text("verdict") == "fail" && in_period(s.date("sampling_date"))
                })
                .map(|s| FailingSample {
                    sample_id: s.text("source_sample_id").to_string(),
                    product: s.text("product_name").to_string(),
                    entity: s.text("entity_name").to_string(),
                    city: s.text("city_name").to_string(),
                    date: s.date("sampling_date"),
                    items: s.list("failing_items").to_vec(),
                })
                .collect();
            failing.sort_by(|a, b| (a.date, &a.sample_id).cmp(&(b.date, &b.sample_id)));
            if province.is_none() && target_rows.is_empty() {
                continue;
            }
            sections.push(Section {
                code: code.clone(),
                name: name.clone(),
                threshold: options.thresholds.iter().find(|(p, _)| p == code).map(|(_, t)| *t),
                province,
                cities,
                counties,
                targets: target_rows,
                categories,
                items,
                failing,
            });
        }

        // Months of the period's year up to the period's end.
        let months: Vec<String> = (1..=end.month()).map(|m| format!("{year}-{m:02}")).collect();
        let trend = options
            .programmes
            .iter()
            .filter(|(code, _)| sections.iter().any(|s| &s.code == code && s.province.is_some()))
            .map(|(code, _)| {
                let points = months
                    .iter()
                    .map(|month| {
                        let value = lookup(month, AreaLevel::Province, code, &options.province.0)
                            .and_then(PassRateRow::pass_rate);
                        (month.clone(), value)
                    })
                    .collect();
                (code.clone(), points)
            })
            .collect();

        let mut by_rule: BTreeMap<(String, String), i64> = BTreeMap::new();
        let mut by_source: BTreeMap<String, i64> = BTreeMap::new();
        for r in &rejects {
            *by_rule.entry((r.text("rule").to_string(), r.text("severity").to_string())).or_default() += 1;
            *by_source.entry(r.text("source").to_string()).or_default() += 1;
        }
        let mut rejects_by_rule: Vec<(String, String, i64)> =
            by_rule.into_iter().map(|((r, s), n)| (r, s, n)).collect();
        rejects_by_rule.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        let mut rejects_by_source: Vec<(String, i64)> = by_source.into_iter().collect();
        rejects_by_source.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(Report { options, sections, trend, rejects_by_rule, rejects_by_source })
    }

    /// The report as one self-contained HTML page.
    pub fn html(&self) -> String {
        render::html(self)
    }

    /// The same figures as Markdown tables.
    pub fn markdown(&self) -> String {
        render::markdown(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_their_days() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(period_range("2013"), Some((d(2013, 1, 1), d(2013, 12, 31))));
        assert_eq!(period_range("2013-Q3"), Some((d(2013, 7, 1), d(2013, 9, 30))));
        assert_eq!(period_range("2013-02"), Some((d(2013, 2, 1), d(2013, 2, 28))));
        assert_eq!(period_range("2013-Q5"), None);
        assert_eq!(period_range("13"), None);
    }
}
