//! The short per-city table `zhijian run` prints.

use std::fmt::Write as _;

use zhijian_aggregate::{ALL_CATEGORIES, AttainmentRow, PassRateRow};
use zhijian_model::{AreaLevel, PeriodType};
use zhijian_seeds::{AreaKind, Seeds};

/// One city's line: its samples and pass rate for the year (directly administered counties
/// inside it), and its target attainment (the city's own target plus its counties').
#[derive(Debug, Clone, PartialEq)]
pub struct CityLine {
    /// City code.
    pub code: String,
    /// City name.
    pub name: String,
    /// Samples tested.
    pub tested: u64,
    /// Pass rate.
    pub pass_rate: Option<f64>,
    /// 95% Wilson interval.
    pub wilson: Option<(f64, f64)>,
    /// Target, summed over the city and its directly administered counties; `None` without one.
    pub target: Option<i64>,
    /// Achieved against that target.
    pub achieved: i64,
    /// Pro-rata expectation.
    pub expected: f64,
}

/// A programme's lines.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgrammeSummary {
    /// Programme code.
    pub programme: String,
    /// Its Chinese name.
    pub name: String,
    /// The year.
    pub year: i32,
    /// One line per city of the seeds, in code order.
    pub cities: Vec<CityLine>,
    /// The province line.
    pub province: CityLine,
}

pub(crate) fn summarise(
    seeds: &Seeds,
    pass_rates: &[PassRateRow],
    attainment: &[AttainmentRow],
    year: i32,
) -> Vec<ProgrammeSummary> {
    let year_label = year.to_string();
    let yearly = |level: AreaLevel, code: &str, programme: &str| {
        pass_rates.iter().find(|r| {
            r.period_type == PeriodType::Year
                && r.period == year_label
                && r.area_level == level
                && r.area_code == code
                && r.programme == programme
                && r.category == ALL_CATEGORIES
        })
    };
    let mut programmes: Vec<String> = pass_rates.iter().map(|r| r.programme.clone()).collect();
    programmes.extend(
        attainment
            .iter()
            .filter(|a| a.target.year == year && a.target.unit == zhijian_model::TargetUnit::Samples)
            .map(|a| a.target.programme.clone()),
    );
    programmes.sort();
    programmes.dedup();
    let mut out = Vec::new();
    for programme in programmes {
        let line = |level: AreaLevel, code: &str, name: &str, target_areas: &[&str]| {
            let rates = yearly(level, code, &programme);
            let targets: Vec<&AttainmentRow> = attainment
                .iter()
                .filter(|a| {
                    a.target.year == year
                        && a.target.programme == programme
                        && target_areas.contains(&a.target.area_code.as_str())
                })
                .filter(|a| {
                    if level == AreaLevel::Province {
                        a.target.area_level == AreaLevel::Province
                    } else {
                        a.target.area_level != AreaLevel::Province
                    }
                })
                .collect();
            CityLine {
                code: code.to_string(),
                name: name.to_string(),
                tested: rates.map_or(0, |r| r.tested),
                pass_rate: rates.and_then(PassRateRow::pass_rate),
                wilson: rates.and_then(PassRateRow::wilson),
                target: (!targets.is_empty()).then(|| targets.iter().map(|a| a.target.target).sum()),
                achieved: targets.iter().map(|a| a.achieved).sum(),
                expected: targets.iter().map(|a| a.expected).sum(),
            }
        };
        let mut cities = Vec::new();
        for city in seeds.areas.iter().filter(|a| a.kind == AreaKind::City) {
            let mut areas = vec![city.code.as_str()];
            areas.extend(
                seeds
                    .areas
                    .iter()
                    .filter(|c| c.directly_administered && c.parent.as_deref() == Some(city.code.as_str()))
                    .map(|c| c.code.as_str()),
            );
            cities.push(line(AreaLevel::City, &city.code, &city.name, &areas));
        }
        let province = seeds.areas.province().map(|p| (p.code.clone(), p.name.clone())).unwrap_or_default();
        let province_line = line(AreaLevel::Province, &province.0, &province.1, &[province.0.as_str()]);
        out.push(ProgrammeSummary {
            name: seeds.programme_name(&programme).to_string(),
            programme,
            year,
            cities,
            province: province_line,
        });
    }
    out
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0))
}

/// Renders the summaries as plain text tables (names last, so wide characters do not break
/// the alignment).
pub fn render_summary(summaries: &[ProgrammeSummary]) -> String {
    let mut out = String::new();
    for summary in summaries {
        if summary.province.tested == 0 {
            let target = summary.province.target.map_or_else(
                || "no target".to_string(),
                |t| format!("target {t}, {:.0} expected by now", summary.province.expected),
            );
            let _ =
                writeln!(out, "{} {} ({}): no samples yet; {target}\n", summary.programme, summary.year, summary.name);
            continue;
        }
        let _ = writeln!(out, "{} {} ({})", summary.programme, summary.year, summary.name);
        let _ = writeln!(
            out,
            "{:<8} {:>7} {:>9} {:>15} {:>7} {:>8} {:>8} {:>7}  name",
            "area", "samples", "pass", "95% interval", "target", "achieved", "expected", "ratio"
        );
        for line in summary.cities.iter().chain(std::iter::once(&summary.province)) {
            let interval =
                line.wilson.map_or_else(|| "-".to_string(), |(l, h)| format!("{:.1}–{:.1}%", l * 100.0, h * 100.0));
            let (target, expected, ratio) = match line.target {
                Some(t) => {
                    let ratio = if line.expected > 0.0 {
                        format!("{:.2}", line.achieved as f64 / line.expected)
                    } else {
                        "-".to_string()
                    };
                    (t.to_string(), format!("{:.0}", line.expected), ratio)
                }
                None => ("-".to_string(), "-".to_string(), "-".to_string()),
            };
            let achieved = if line.target.is_some() { line.achieved.to_string() } else { "-".to_string() };
            let _ = writeln!(
                out,
                "{:<8} {:>7} {:>9} {:>15} {:>7} {:>8} {:>8} {:>7}  {}",
                line.code,
                line.tested,
                percent(line.pass_rate),
                interval,
                target,
                achieved,
                expected,
                ratio,
                line.name
            );
        }
        out.push('\n');
    }
    out
}
