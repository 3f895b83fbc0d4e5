//! Areas (GB/T 2260) and the aliases sources use for them.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::SeedError;
use crate::normalise::normalise_key;
use crate::read::{read_rows, row_error};

/// The level of an area in the seed table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    /// The province.
    Province,
    /// A prefecture-level city (or Jiyuan).
    City,
    /// A county-level unit.
    County,
}

/// One area.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Area {
    /// Six-digit GB/T 2260 code.
    pub code: String,
    /// Official name, `郑州市`.
    pub name: String,
    /// Province, city or county.
    pub kind: AreaKind,
    /// The code of the enclosing area; `None` for the province.
    pub parent: Option<String>,
    /// One of the counties under direct provincial administration.
    pub directly_administered: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaRow {
    code: String,
    name: String,
    level: AreaKind,
    parent_code: String,
    directly_administered: bool,
    #[allow(dead_code)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasRow {
    alias: String,
    code: String,
    #[allow(dead_code)]
    note: String,
}

/// The area table with its alias index.
#[derive(Debug, Clone, Default)]
pub struct AreaTable {
    areas: Vec<Area>,
    by_code: HashMap<String, usize>,
    /// (kind, normalised alias) → index; `None` marks an ambiguous derived alias.
    aliases: HashMap<(AreaKind, String), Option<usize>>,
    /// (city code, normalised name, code or short name of one of its counties) → the first
    /// county in file order with it: [`AreaTable::resolve_county`] inside a city, one lookup.
    inside: HashMap<(String, String), usize>,
}

const AREAS: &str = "areas.csv";
const ALIASES: &str = "area_aliases.csv";

impl AreaTable {
    pub(crate) fn load(dir: &Path, errors: &mut Vec<SeedError>) -> AreaTable {
        let mut table = AreaTable::default();
        let rows = read_rows::<AreaRow>(dir, AREAS, errors);
        for row in &rows {
            let r = &row.value;
            if r.code.len() != 6 || !r.code.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(row_error(dir, AREAS, row.line, "code", &r.code, "expected a 6-digit GB/T 2260 code"));
                continue;
            }
            if table.by_code.contains_key(&r.code) {
                errors.push(row_error(dir, AREAS, row.line, "code", &r.code, "duplicate code"));
                continue;
            }
            let parent = (!r.parent_code.is_empty()).then(|| r.parent_code.clone());
            table.by_code.insert(r.code.clone(), table.areas.len());
            table.areas.push(Area {
                code: r.code.clone(),
                name: r.name.clone(),
                kind: r.level,
                parent,
                directly_administered: r.directly_administered,
            });
        }
        // Parents exist and sit one level up; exactly one province.
        let provinces = table.areas.iter().filter(|a| a.kind == AreaKind::Province).count();
        if provinces != 1 {
            errors.push(crate::read::file_error(
                &dir.join(AREAS),
                format!("expected exactly one province, found {provinces}"),
            ));
        }
        for (area, row) in table.areas.iter().zip(rows.iter().filter(|r| table.by_code.contains_key(&r.value.code))) {
            let expected_parent = match area.kind {
                AreaKind::Province => None,
                AreaKind::City => Some(AreaKind::Province),
                AreaKind::County => Some(AreaKind::City),
            };
            match (&area.parent, expected_parent) {
                (None, None) => {}
                (Some(parent), Some(kind)) => match table.get(parent) {
                    Some(p) if p.kind == kind => {}
                    Some(_) => errors.push(row_error(
                        dir,
                        AREAS,
                        row.line,
                        "parent_code",
                        parent,
                        "the parent is not one level up",
                    )),
                    None => {
                        errors.push(row_error(dir, AREAS, row.line, "parent_code", parent, "no area has this code"))
                    }
                },
                (Some(parent), None) => {
                    errors.push(row_error(dir, AREAS, row.line, "parent_code", parent, "a province has no parent"))
                }
                (None, Some(_)) => errors.push(row_error(
                    dir,
                    AREAS,
                    row.line,
                    "parent_code",
                    "",
                    "expected the code of the enclosing area",
                )),
            }
            if area.directly_administered && area.kind != AreaKind::County {
                errors.push(row_error(
                    dir,
                    AREAS,
                    row.line,
                    "directly_administered",
                    "true",
                    "only a county can be directly administered",
                ));
            }
        }
        // Derived aliases: the code, the name, the name without its 省/市/县/区 suffix, and a
        // city's 4-digit code prefix.
        for index in 0..table.areas.len() {
            let area = &table.areas[index];
            let mut derived = vec![area.code.clone(), area.name.clone()];
            if let Some(stem) = area.name.strip_suffix(['省', '市', '县', '区'])
                && stem.chars().count() >= 2
            {
                derived.push(stem.to_string());
            }
            if area.kind == AreaKind::City {
                derived.push(area.code[..4].to_string());
            }
            let kind = area.kind;
            for alias in derived {
                table
                    .aliases
                    .entry((kind, normalise_key(&alias)))
                    .and_modify(|slot| {
                        if *slot != Some(index) {
                            *slot = None;
                        }
                    })
                    .or_insert(Some(index));
            }
        }
        for (index, area) in table.areas.iter().enumerate() {
            let Some(parent) = area.parent.as_deref().filter(|_| area.kind == AreaKind::County) else { continue };
            let stem = area.name.strip_suffix(['市', '县', '区']).filter(|s| s.chars().count() >= 2);
            for key in [Some(normalise_key(&area.name)), Some(area.code.clone()), stem.map(normalise_key)]
                .into_iter()
                .flatten()
            {
                table.inside.entry((parent.to_string(), key)).or_insert(index);
            }
        }
        // Explicit aliases win over derived ones.
        for row in read_rows::<AliasRow>(dir, ALIASES, errors) {
            let r = row.value;
            match table.by_code.get(&r.code) {
                Some(&index) => {
                    let key = (table.areas[index].kind, normalise_key(&r.alias));
                    table.aliases.insert(key, Some(index));
                }
                None => errors.push(row_error(dir, ALIASES, row.line, "code", &r.code, "no area has this code")),
            }
        }
        table
    }

    /// The area with this exact code.
    pub fn get(&self, code: &str) -> Option<&Area> {
        self.by_code.get(code).map(|&i| &self.areas[i])
    }

    /// Every area, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Area> {
        self.areas.iter()
    }

    /// The province of the table.
    pub fn province(&self) -> Option<&Area> {
        self.areas.iter().find(|a| a.kind == AreaKind::Province)
    }

    fn resolve(&self, kind: AreaKind, text: &str) -> Option<&Area> {
        let key = normalise_key(text);
        match self.aliases.get(&(kind, key)) {
            Some(Some(index)) => Some(&self.areas[*index]),
            _ => None,
        }
    }

    /// Whether `text` names the province (name, short name, code, alias).
    pub fn is_province(&self, text: &str) -> bool {
        self.resolve(AreaKind::Province, text).is_some()
    }

    /// The city-level unit named by `text`.
    pub fn resolve_city(&self, text: &str) -> Option<&Area> {
        self.resolve(AreaKind::City, text)
    }

    /// The county named by `text`, preferring one inside `city` when a city is given.
    pub fn resolve_county(&self, text: &str, city: Option<&str>) -> Option<&Area> {
        if let Some(city) = city
            && let Some(&index) = self.inside.get(&(city.to_string(), normalise_key(text)))
        {
            return Some(&self.areas[index]);
        }
        self.resolve(AreaKind::County, text)
    }

    /// The unit that reports to the province for an area: a directly administered county
    /// reports on its own, any other county through its city.
    pub fn reporting_unit<'a>(&'a self, area: &'a Area) -> &'a Area {
        match area.kind {
            AreaKind::County if !area.directly_administered => {
                area.parent.as_deref().and_then(|p| self.get(p)).unwrap_or(area)
            }
            _ => area,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> AreaTable {
        let mut errors = Vec::new();
        let table = AreaTable::load(Path::new("../../seeds"), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        table
    }

    #[test]
    fn city_spellings_resolve_to_one_code() {
        let t = table();
        for spelling in ["郑州市", "郑州", "Zhengzhou", "zhengzhou", "410100", "4101", " 郑州市　"] {
            assert_eq!(t.resolve_city(spelling).map(|a| a.code.as_str()), Some("410100"), "{spelling}");
        }
        assert_eq!(t.resolve_city("郑洲市"), None);
        assert_eq!(t.resolve_city("济源示范区").map(|a| a.code.as_str()), Some("419001"));
    }

    #[test]
    fn counties_and_reporting_units() {
        let t = table();
        let changyuan = t.resolve_county("长垣市", None).unwrap();
        assert_eq!(changyuan.code, "410728");
        assert!(changyuan.directly_administered);
        assert_eq!(t.reporting_unit(changyuan).code, "410728");
        let jinshui = t.resolve_county("金水区", Some("410100")).unwrap();
        assert_eq!(t.reporting_unit(jinshui).code, "410100");
        assert_eq!(t.resolve_county("新乡县", Some("410700")).unwrap().code, "410721");
        assert_eq!(t.iter().filter(|a| a.directly_administered).count(), 10);
        assert!(t.is_province("河南省") && t.is_province("Henan") && !t.is_province("湖北省"));
    }

    /// The seeds hold Henan's whole 2013 division list: 17 prefecture-level cities and 济源,
    /// 158 county-level units, each inside the city its code names; the later renames resolve
    /// to the 2013 unit by name and by new code.
    #[test]
    fn every_county_level_unit_of_2013() {
        let t = table();
        let cities: Vec<&Area> = t.iter().filter(|a| a.kind == AreaKind::City).collect();
        let counties: Vec<&Area> = t.iter().filter(|a| a.kind == AreaKind::County).collect();
        assert_eq!((cities.len(), counties.len()), (18, 158));
        for county in &counties {
            let parent = county.parent.as_deref().unwrap();
            assert_eq!(&county.code[..4], &parent[..4], "{} {}", county.code, county.name);
            assert_eq!(t.get(parent).map(|c| c.kind), Some(AreaKind::City), "{}", county.code);
        }
        for (later, code) in [
            ("祥符区", "410224"),
            ("410212", "410224"),
            ("陕州区", "411222"),
            ("建安区", "411023"),
            ("411003", "411023"),
            ("淮阳区", "411626"),
            ("偃师区", "410381"),
            ("孟津区", "410322"),
            ("410783", "410728"),
        ] {
            assert_eq!(t.resolve_county(later, None).map(|a| a.code.as_str()), Some(code), "{later}");
        }
        // A short name two cities' counties could share resolves only inside its city.
        assert_eq!(t.resolve_county("安阳", Some("410500")).map(|a| a.code.as_str()), Some("410522"));
        assert_eq!(t.resolve_city("安阳").map(|a| a.code.as_str()), Some("410500"));
    }
}
