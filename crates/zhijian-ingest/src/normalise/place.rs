//! Where a sample was taken: the city and county cells resolved to GB/T 2260 units.
//!
//! A county-level unit may stand in the city column (the ten directly administered counties
//! report to the province, so agencies write them where a city goes); a county the seeds do
//! not know under a known city keeps the sample for its city (`county_unknown`).

use super::*;

/// The resolved place of a row.
pub(super) struct Place {
    pub(super) city: Area,
    pub(super) county: Option<Area>,
    pub(super) reporting_unit_code: String,
    /// The county cell names a county the seeds do not know.
    pub(super) county_unknown: bool,
}

impl<'a> FileNormaliser<'a> {
    /// The place of `record`, or the reject of its province, city or county cell.
    pub(super) fn place(&self, at: At<'_>) -> Result<Place, Box<Reject>> {
        let record = at.record;
        let ctx = self.context;
        let get = |field: Field| self.columns.get(record, field);
        let required = |field: Field| self.required(at, field);
        let areas = &ctx.seeds.areas;
        // For messages only: not formatted for every row.
        let province = || areas.province().map(|p| format!("{} {}", p.code, p.name)).unwrap_or_default();
        if let Some(text) = get(Field::Province)
            && !areas.is_province(text)
        {
            return Err(self.reject(
                at,
                Field::Province,
                Some(text),
                Rule::AreaOutsideProvince,
                format!("province `{text}` is not the pipeline's province {}", province()),
            ));
        }
        let city_text = required(Field::City)?;
        // A county-level unit in the city column: the ten directly administered counties
        // report to the province, so agencies write them where a city goes (所在市 = 兰考县). It
        // stands for its parent city and for itself as the county.
        let (city, county_in_city_column) = match areas.resolve_city(city_text) {
            Some(city) => (city.clone(), None),
            None => match areas
                .resolve_county(city_text, None)
                .and_then(|county| Some((areas.get(county.parent.as_deref()?)?, county)))
            {
                Some((city, county)) => (city.clone(), Some(county.clone())),
                None => {
                    let code = normalise_text(city_text);
                    let prefix = areas.province().map_or("", |p| &p.code[..2]);
                    let outside =
                        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with(prefix);
                    let (rule, message) = if outside {
                        (
                            Rule::AreaOutsideProvince,
                            format!("city code `{city_text}` lies outside the pipeline's province {}", province()),
                        )
                    } else {
                        (
                            Rule::AreaUnknown,
                            format!(
                                "unknown city `{city_text}`: not a name, code or alias in seeds/areas.csv or seeds/area_aliases.csv"
                            ),
                        )
                    };
                    return Err(self.reject(at, Field::City, Some(city_text), rule, message));
                }
            },
        };
        let mut county_unknown = false;
        let county = match (get(Field::County), county_in_city_column) {
            (None, named) => named,
            (Some(text), Some(named)) => match areas.resolve_county(text, Some(&city.code)) {
                // Both columns name the same county.
                Some(county) if county.code == named.code => Some(named),
                _ => {
                    return Err(self.reject(
                        at,
                        Field::County,
                        Some(text),
                        Rule::AreaMismatch,
                        format!(
                            "county `{text}` is not {} {}, the county-level unit the city column names (`{city_text}`)",
                            named.code, named.name
                        ),
                    ));
                }
            },
            (Some(text), None) => match areas.resolve_county(text, Some(&city.code)) {
                Some(county) if county.parent.as_deref() == Some(city.code.as_str()) => Some(county.clone()),
                Some(county) => {
                    return Err(self.reject(
                        at,
                        Field::County,
                        Some(text),
                        Rule::AreaMismatch,
                        format!(
                            "county `{text}` ({} {}) does not lie in city {} {}",
                            county.code, county.name, city.code, city.name
                        ),
                    ));
                }
                // Henan has about 158 county-level units and exports name ones a seed list may
                // lack: the sample still counts for its city and the province, flagged.
                None => {
                    county_unknown = true;
                    None
                }
            },
        };
        let reporting_unit_code = areas.reporting_unit(county.as_ref().unwrap_or(&city)).code.clone();
        Ok(Place { city, county, reporting_unit_code, county_unknown })
    }
}
