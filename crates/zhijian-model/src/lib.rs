//! The canonical vocabulary of zhijian: the tables it writes, the enums their columns hold, and
//! the validation rules whose codes appear in `rejects`.
//!
//! Nothing here does I/O. The other crates meet through these definitions: ingest fills the
//! [`samples_schema`], [`results_schema`] and [`rejects_schema`] tables, aggregate reads them
//! back from Parquet and writes [`pass_rates_schema`] and [`attainment_schema`] from the typed
//! rows of [`tables`], which the checks, the report and the run read back.
//!
//! ```
//! use zhijian_model::{Verdict, samples_schema};
//!
//! assert_eq!("fail".parse::<Verdict>().unwrap(), Verdict::Fail);
//! let schema = samples_schema();
//! assert!(schema.field_with_name("sample_key").is_ok());
//! ```

pub mod checks;
mod enums;
mod period;
mod rules;
mod schema;
pub mod tables;
pub mod text;

pub use enums::{
    AreaLevel, AttainmentStatus, Evaluation, Method, ParseEnumError, PeriodType, Programme, ResultType, Severity,
    Stage, TargetUnit, Verdict,
};
pub use period::Period;
pub use rules::Rule;
pub use schema::{
    SCHEMA_VERSION, SCHEMA_VERSION_KEY, TABLES, attainment_schema, pass_rates_schema, rejects_schema, results_schema,
    samples_schema, schema_for,
};

/// The partition column written into the directory names of partitioned tables (`year=2013`).
pub const PARTITION_COLUMN: &str = "year";
