//! The reference tables zhijian judges and normalises with, kept as CSV files in `seeds/`
//! (dbt's sense of seeds): areas and their aliases, the category trees of each programme, analytes and
//! their limits, units, programmes, targets and net-content sampling plans.
//!
//! [`Seeds::load`] reads a seeds folder, checks every table (unique keys, parents that exist,
//! known units, codes from the code lists) and reports every problem at once, each naming file
//! and line. The lookups normalise what source files write before matching: `郑州市`, `郑州`,
//! `Zhengzhou`, `410100` and `4101` all name the same city.
//!
//! ```
//! # fn main() -> Result<(), zhijian_seeds::SeedErrors> {
//! let seeds = zhijian_seeds::Seeds::load(std::path::Path::new("../../seeds"))?;
//! let city = seeds.areas.resolve_city("Zhengzhou").unwrap();
//! assert_eq!(city.code, "410100");
//! let mg = seeds.units.resolve("ug/kg").unwrap();
//! assert_eq!(mg.symbol, "μg/kg");
//! # Ok(())
//! # }
//! ```

mod analytes;
mod areas;
mod categories;
mod error;
mod net_content;
mod normalise;
mod read;
mod targets;
mod uncertainty;
mod units;

use std::path::Path;

pub use analytes::{Analyte, AnalyteTable, Limit, LimitTable};
pub use areas::{Area, AreaKind, AreaTable};
pub use categories::{Category, CategoryPath, CategoryTree};
pub use error::{SeedError, SeedErrors};
pub use net_content::{NetContentPlan, NetContentPlans};
pub use normalise::{normalise_key, normalise_text};
pub use targets::{ProgrammeInfo, Target};
pub use uncertainty::{DefaultUncertainty, UncertaintyTable};
pub use units::{Canonical, Quantity, Unit, UnitTable};

/// Every reference table, loaded and checked.
#[derive(Debug, Clone)]
pub struct Seeds {
    /// `areas.csv` and `area_aliases.csv`.
    pub areas: AreaTable,
    /// `categories.csv`.
    pub categories: CategoryTree,
    /// `units.csv`.
    pub units: UnitTable,
    /// `analytes.csv`.
    pub analytes: AnalyteTable,
    /// `limits.csv`.
    pub limits: LimitTable,
    /// `programmes.csv`.
    pub programmes: Vec<ProgrammeInfo>,
    /// `targets.csv`.
    pub targets: Vec<Target>,
    /// `net_content_plans.csv`.
    pub net_content_plans: NetContentPlans,
    /// `uncertainty.csv`: default expanded uncertainties by analyte or group (optional).
    pub uncertainty: UncertaintyTable,
}

impl Seeds {
    /// Loads and checks every table of the folder `dir`. Returns every problem found, not
    /// only the first.
    pub fn load(dir: &Path) -> Result<Seeds, SeedErrors> {
        let mut errors = Vec::new();
        let units = UnitTable::load(dir, &mut errors);
        let areas = AreaTable::load(dir, &mut errors);
        let categories = CategoryTree::load(dir, &mut errors);
        let analytes = AnalyteTable::load(dir, &units, &mut errors);
        let limits = LimitTable::load(dir, &analytes, &categories, &units, &mut errors);
        let programmes = targets::load_programmes(dir, &mut errors);
        let targets = targets::load_targets(dir, &areas, &mut errors);
        let net_content_plans = NetContentPlans::load(dir, &mut errors);
        let uncertainty = UncertaintyTable::load(dir, &analytes, &mut errors);
        if errors.is_empty() {
            Ok(Seeds {
                areas,
                categories,
                units,
                analytes,
                limits,
                programmes,
                targets,
                net_content_plans,
                uncertainty,
            })
        } else {
            Err(SeedErrors(errors))
        }
    }

    /// The Chinese name of a programme, or its code when `programmes.csv` lacks it.
    pub fn programme_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.programmes.iter().find(|p| p.code.as_str() == code).map_or(code, |p| p.name.as_str())
    }
}
