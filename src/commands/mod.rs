//! One module per command, each with the `execute` the dispatch in `main` calls.

pub(crate) mod check;
pub(crate) mod generate;
pub(crate) mod query;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod validate;
