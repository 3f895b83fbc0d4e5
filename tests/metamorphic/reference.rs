//! The reference tables the transformations need, read straight from `seeds/` with the csv
//! crate (not through zhijian's seeds crate, so that a bug there cannot hide itself): units with
//! their factors, and every spelling of an area that the documented rules accept.

use std::collections::HashMap;
use std::path::Path;

/// A lookup key as zhijian documents its matching: full-width ASCII folded, whitespace dropped,
/// ASCII lowercased, the micro sign folded into Greek mu.
pub(crate) fn key(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
            'µ' => 'μ',
            _ => c,
        })
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn records(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers.iter().zip(r.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()
        })
        .collect()
}

/// A unit of seeds/units.csv.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    /// Every way to write it: the symbol first, then its aliases.
    pub names: Vec<String>,
    /// Conversion happens within one dimension only.
    pub dimension: String,
    /// The factor to the dimension's base, as a power of ten (`None` when it is not one).
    pub exponent: Option<i32>,
    /// The factor itself.
    pub factor: f64,
}

/// seeds/units.csv.
#[derive(Debug)]
pub(crate) struct Units {
    units: Vec<Unit>,
    by_key: HashMap<String, usize>,
}

impl Units {
    pub(crate) fn load(seeds: &Path) -> Units {
        let mut units = Vec::new();
        let mut by_key = HashMap::new();
        for row in records(&seeds.join("units.csv")) {
            let mut names = vec![row["unit"].clone()];
            names.extend(row["aliases"].split('|').filter(|a| !a.is_empty()).map(str::to_string));
            let factor: f64 = row["factor"].parse().unwrap();
            let exponent = factor.log10().round() as i32;
            let exact = (10f64.powi(exponent) - factor).abs() <= 1e-12 * factor;
            for name in &names {
                by_key.insert(key(name), units.len());
            }
            units.push(Unit {
                names,
                dimension: row["dimension"].clone(),
                exponent: exact.then_some(exponent),
                factor,
            });
        }
        Units { units, by_key }
    }

    /// The unit written `text`.
    pub(crate) fn resolve(&self, text: &str) -> Option<&Unit> {
        self.by_key.get(&key(text)).map(|&i| &self.units[i])
    }

    /// The units a value in `unit` can be rewritten in by moving its decimal point: the same
    /// dimension, a power-of-ten factor, another factor than its own (so the digits move).
    pub(crate) fn rescalable(&self, unit: &Unit) -> Vec<&Unit> {
        if unit.exponent.is_none() {
            return Vec::new();
        }
        self.units
            .iter()
            .filter(|u| u.dimension == unit.dimension && u.exponent.is_some() && u.exponent != unit.exponent)
            .collect()
    }

    /// The base unit of `dimension` (factor 1): `g`, `mL`, `mg/kg`.
    pub(crate) fn base(&self, dimension: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.dimension == dimension && u.exponent == Some(0))
    }

    /// A unit text split off the end of `text` right after a digit (`0.12mg/kg`, `500mL`), as
    /// (number part, unit part); `None` when the text has no such unit.
    pub(crate) fn split_suffix<'t>(&self, text: &'t str) -> Option<(&'t str, &'t str)> {
        let trimmed = text.trim();
        trimmed.char_indices().skip(1).find_map(|(i, _)| {
            let (head, tail) = trimmed.split_at(i);
            (head.trim_end().ends_with(|c: char| c.is_ascii_digit()) && self.resolve(tail.trim()).is_some())
                .then_some((head.trim_end(), tail.trim()))
        })
    }
}

/// The level of an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Level {
    Province,
    City,
    County,
}

#[derive(Debug, Clone)]
struct Area {
    code: String,
    name: String,
    level: Level,
    parent: Option<String>,
    aliases: Vec<String>,
}

impl Area {
    /// The name without its 省/市/县/区 suffix, when two or more characters remain.
    fn stem(&self) -> Option<String> {
        let stem = self.name.strip_suffix(['省', '市', '县', '区'])?;
        (stem.chars().count() >= 2).then(|| stem.to_string())
    }
}

/// seeds/areas.csv and seeds/area_aliases.csv, resolved as README and DOMAIN.md describe: the
/// code, the name, the name without its suffix, a city's 4-digit code prefix and the explicit
/// aliases (which win over derived ones) all name an area; a derived spelling two areas of a
/// level share names neither.
#[derive(Debug)]
pub(crate) struct Areas {
    areas: Vec<Area>,
    index: HashMap<(Level, String), Option<usize>>,
}

impl Areas {
    pub(crate) fn load(seeds: &Path) -> Areas {
        let mut areas: Vec<Area> = records(&seeds.join("areas.csv"))
            .into_iter()
            .map(|r| Area {
                code: r["code"].clone(),
                name: r["name"].clone(),
                level: match r["level"].as_str() {
                    "province" => Level::Province,
                    "city" => Level::City,
                    _ => Level::County,
                },
                parent: Some(r["parent_code"].clone()).filter(|p| !p.is_empty()),
                aliases: Vec::new(),
            })
            .collect();
        let mut index: HashMap<(Level, String), Option<usize>> = HashMap::new();
        for (i, area) in areas.iter().enumerate() {
            let mut derived = vec![area.code.clone(), area.name.clone()];
            derived.extend(area.stem());
            if area.level == Level::City {
                derived.push(area.code[..4].to_string());
            }
            for spelling in derived {
                index
                    .entry((area.level, key(&spelling)))
                    .and_modify(|slot| {
                        if *slot != Some(i) {
                            *slot = None;
                        }
                    })
                    .or_insert(Some(i));
            }
        }
        for row in records(&seeds.join("area_aliases.csv")) {
            let Some(i) = areas.iter().position(|a| a.code == row["code"]) else { continue };
            index.insert((areas[i].level, key(&row["alias"])), Some(i));
            areas[i].aliases.push(row["alias"].clone());
        }
        Areas { areas, index }
    }

    fn lookup(&self, level: Level, text: &str) -> Option<usize> {
        self.index.get(&(level, key(text))).copied().flatten()
    }

    /// The province named `text`.
    pub(crate) fn province(&self, text: &str) -> Option<usize> {
        self.lookup(Level::Province, text)
    }

    /// The city-level unit named `text`.
    pub(crate) fn city(&self, text: &str) -> Option<usize> {
        self.lookup(Level::City, text)
    }

    /// The county named `text`: one inside `city` by name, code or stem first, else any.
    pub(crate) fn county(&self, text: &str, city: Option<usize>) -> Option<usize> {
        let wanted = key(text);
        if let Some(city) = city {
            let inside = self.areas.iter().position(|a| {
                a.level == Level::County
                    && a.parent.as_deref() == Some(self.areas[city].code.as_str())
                    && (key(&a.name) == wanted || a.code == wanted || a.stem().is_some_and(|s| key(&s) == wanted))
            });
            if inside.is_some() {
                return inside;
            }
        }
        self.lookup(Level::County, text)
    }

    /// Every spelling of area `index` that `resolve` maps back to it: code, name, stem, 4-digit
    /// prefix, aliases; in that order, without repeats.
    pub(crate) fn spellings(&self, index: usize, resolve: impl Fn(&str) -> Option<usize>) -> Vec<String> {
        let area = &self.areas[index];
        let mut all = vec![area.code.clone(), area.name.clone()];
        all.extend(area.stem());
        if area.level == Level::City {
            all.push(area.code[..4].to_string());
        }
        all.extend(area.aliases.iter().cloned());
        let mut out: Vec<String> = Vec::new();
        for spelling in all {
            if resolve(&spelling) == Some(index) && !out.contains(&spelling) {
                out.push(spelling);
            }
        }
        out
    }
}
