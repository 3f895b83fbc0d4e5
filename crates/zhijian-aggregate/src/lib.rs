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

/// The 95% Wilson score interval (one definition, with the table, in the model).
pub use zhijian_model::tables::wilson_interval;
