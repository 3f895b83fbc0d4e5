//! Programmes and their targets.

use std::path::Path;

use serde::Deserialize;
use zhijian_model::{AreaLevel, Programme, TargetUnit};

use crate::SeedError;
use crate::areas::{AreaKind, AreaTable};
use crate::read::{read_rows, row_error};

/// A programme's names, from `programmes.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeInfo {
    /// The programme.
    pub code: Programme,
    /// Chinese name.
    pub name: String,
    /// Item of the 2013 plan.
    pub plan_item: u32,
    /// What its targets count.
    pub target_unit: TargetUnit,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgrammeRow {
    code: String,
    name: String,
    plan_item: u32,
    target_unit: String,
    #[allow(dead_code)]
    description: String,
}

/// One year's target for a programme in an area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Calendar year.
    pub year: i32,
    /// The programme.
    pub programme: Programme,
    /// The view the area belongs to.
    pub area_level: AreaLevel,
    /// GB/T 2260 code.
    pub area_code: String,
    /// How many.
    pub target: i64,
    /// Of what.
    pub unit: TargetUnit,
    /// An allocation made up for illustration, not an official figure.
    pub illustrative: bool,
    /// Where the figure comes from.
    pub basis: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetRow {
    year: i32,
    programme: String,
    area_level: String,
    area_code: String,
    target: i64,
    unit: String,
    illustrative: bool,
    basis: String,
}

pub(crate) fn load_programmes(dir: &Path, errors: &mut Vec<SeedError>) -> Vec<ProgrammeInfo> {
    const FILE: &str = "programmes.csv";
    let mut out: Vec<ProgrammeInfo> = Vec::new();
    for row in read_rows::<ProgrammeRow>(dir, FILE, errors) {
        let r = row.value;
        let code = match r.code.parse::<Programme>() {
            Ok(code) => code,
            Err(err) => {
                errors.push(row_error(dir, FILE, row.line, "code", &r.code, err.to_string()));
                continue;
            }
        };
        let target_unit = match r.target_unit.parse::<TargetUnit>() {
            Ok(unit) => unit,
            Err(err) => {
                errors.push(row_error(dir, FILE, row.line, "target_unit", &r.target_unit, err.to_string()));
                continue;
            }
        };
        if out.iter().any(|p| p.code == code) {
            errors.push(row_error(dir, FILE, row.line, "code", &r.code, "duplicate code"));
            continue;
        }
        out.push(ProgrammeInfo { code, name: r.name, plan_item: r.plan_item, target_unit });
    }
    out
}

pub(crate) fn load_targets(dir: &Path, areas: &AreaTable, errors: &mut Vec<SeedError>) -> Vec<Target> {
    const FILE: &str = "targets.csv";
    let mut out: Vec<Target> = Vec::new();
    for row in read_rows::<TargetRow>(dir, FILE, errors) {
        let r = row.value;
        let line = row.line;
        let programme = r
            .programme
            .parse::<Programme>()
            .map_err(|e| row_error(dir, FILE, line, "programme", &r.programme, e.to_string()));
        let area_level = r
            .area_level
            .parse::<AreaLevel>()
            .map_err(|e| row_error(dir, FILE, line, "area_level", &r.area_level, e.to_string()));
        let unit = r.unit.parse::<TargetUnit>().map_err(|e| row_error(dir, FILE, line, "unit", &r.unit, e.to_string()));
        let (programme, area_level, unit) = match (programme, area_level, unit) {
            (Ok(p), Ok(l), Ok(u)) => (p, l, u),
            (p, l, u) => {
                errors.extend([p.err(), l.err(), u.err()].into_iter().flatten());
                continue;
            }
        };
        let fits = match (area_level, areas.get(&r.area_code)) {
            (_, None) => Err("no area has this code (see areas.csv)"),
            (AreaLevel::Province, Some(a)) if a.kind != AreaKind::Province => Err("not a province"),
            (AreaLevel::City, Some(a)) if a.kind != AreaKind::City => Err("not a city-level unit"),
            (AreaLevel::County, Some(a)) if a.kind != AreaKind::County => Err("not a county"),
            (AreaLevel::ReportingUnit, Some(a)) if !(a.kind == AreaKind::City || a.directly_administered) => {
                Err("a reporting unit is a city-level unit or a directly administered county")
            }
            _ => Ok(()),
        };
        if let Err(message) = fits {
            errors.push(row_error(dir, FILE, line, "area_code", &r.area_code, message));
            continue;
        }
        if r.target < 0 {
            errors.push(row_error(dir, FILE, line, "target", &r.target.to_string(), "expected a count ≥ 0"));
            continue;
        }
        if out.iter().any(|t| {
            t.year == r.year && t.programme == programme && t.area_level == area_level && t.area_code == r.area_code
        }) {
            errors.push(row_error(
                dir,
                FILE,
                line,
                "area_code",
                &r.area_code,
                "a target for this year, programme and area is already given",
            ));
            continue;
        }
        out.push(Target {
            year: r.year,
            programme,
            area_level,
            area_code: r.area_code,
            target: r.target,
            unit,
            illustrative: r.illustrative,
            basis: r.basis,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::Seeds;
    use std::path::Path;
    use zhijian_model::{AreaLevel, Programme};

    #[test]
    fn bundled_targets_allocate_the_province_figure() {
        let seeds = Seeds::load(Path::new("../../seeds")).unwrap();
        let food: Vec<_> = seeds.targets.iter().filter(|t| t.programme == Programme::Food).collect();
        let province: i64 = food.iter().filter(|t| t.area_level == AreaLevel::Province).map(|t| t.target).sum();
        let units: i64 = food.iter().filter(|t| t.area_level == AreaLevel::ReportingUnit).map(|t| t.target).sum();
        assert_eq!(province, 25_000);
        assert_eq!(units, 25_000);
        assert_eq!(food.iter().filter(|t| t.area_level == AreaLevel::ReportingUnit).count(), 28);
    }

    #[test]
    fn every_problem_is_reported_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir("../../seeds").unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
        let areas = dir.path().join("areas.csv");
        let text = std::fs::read_to_string(&areas)
            .unwrap()
            .replace("410105,金水区,county,410100", "410105,金水区,county,410199");
        std::fs::write(&areas, text).unwrap();
        let limits = dir.path().join("limits.csv");
        let text = std::fs::read_to_string(&limits)
            .unwrap()
            .replace("lead,01,粮食加工品,,0.2,mg/kg", "lead,01,粮食加工品,,0.2,mg/kgg");
        std::fs::write(&limits, text).unwrap();
        let errors = Seeds::load(dir.path()).unwrap_err().0;
        let rendered: Vec<String> =
            errors.iter().map(|e| e.to_string().replace(&dir.path().display().to_string(), "SEEDS")).collect();
        assert_eq!(
            rendered,
            [
                "SEEDS/areas.csv:7: field `parent_code`, value `410199`: no area has this code",
                "SEEDS/limits.csv:2: field `unit`, value `mg/kgg`: unknown unit (see units.csv)",
            ]
        );
    }
}
