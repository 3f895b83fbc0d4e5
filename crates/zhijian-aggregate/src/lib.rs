//! Pass rates and target attainment, computed from the `samples` Parquet files.
//!
//! [`aggregate`] reads the samples table in one pass, files in parallel with rayon, and counts
//! every sample into each cell it belongs to: three periods (month, quarter, year) × four area
//! levels (province, city, reporting unit, county when known) × its top-level category and
//! `all`. [`PassRateRow`] carries tested, passed, failed, pending, the pass rate
//! passed / (passed + failed) and its 95% Wilson score interval. [`attainment`] compares the
//! year's counts with the targets, pro-rata to the as-of date.
//!
//! ```
//! let (low, high) = zhijian_aggregate::wilson_interval(9, 10).unwrap();
//! assert!((low - 0.5958).abs() < 1e-4 && (high - 0.9821).abs() < 1e-4);
//! assert_eq!(zhijian_aggregate::wilson_interval(0, 0), None);
//! ```

mod attainment;
mod cube;
mod write;

pub use attainment::{AttainmentRow, Status, TargetSpec, attainment};
pub use cube::{ALL_CATEGORIES, Achieved, AchievedKey, Aggregates, CubeOptions, PassRateRow, UNCLASSIFIED, aggregate};
pub use write::{attainment_batch, pass_rates_batch, write_attainment, write_pass_rates};

/// A problem reading the samples table.
#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    /// The files could not be read.
    #[error(transparent)]
    Store(#[from] zhijian_store::StoreError),
    /// A column is missing or of another type than the samples schema says.
    #[error("`{}`: column `{column}` is missing or not of type {expected}", path.display())]
    Column {
        /// The file.
        path: std::path::PathBuf,
        /// The column.
        column: &'static str,
        /// Its type in the schema.
        expected: &'static str,
    },
    /// Building an output batch failed.
    #[error("building table `{table}`: {source}")]
    Arrow {
        /// The table.
        table: &'static str,
        /// Arrow's message.
        source: arrow_schema::ArrowError,
    },
}

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval of `passed` out of `judged` samples; `None` when none was
/// judged.
pub fn wilson_interval(passed: u64, judged: u64) -> Option<(f64, f64)> {
    if judged == 0 {
        return None;
    }
    let n = judged as f64;
    let p = passed as f64 / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_worked_values() {
        // Worked independently (Python, same formula): p = 0.9, n = 10 → (0.595850, 0.982124).
        let (low, high) = wilson_interval(9, 10).unwrap();
        assert!((low - 0.595_850).abs() < 1e-6, "{low}");
        assert!((high - 0.982_123).abs() < 1e-6, "{high}");
        // All passed: the upper bound is 1 and the lower bound below 1.
        let (low, high) = wilson_interval(30, 30).unwrap();
        assert!((high - 1.0).abs() < 1e-12);
        assert!((low - 0.886_487).abs() < 1e-6, "{low}");
        let (low, high) = wilson_interval(0, 5).unwrap();
        assert_eq!(low, 0.0);
        assert!((high - 0.434_482).abs() < 1e-6, "{high}");
    }
}
