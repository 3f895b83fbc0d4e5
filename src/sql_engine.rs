//! The engine SQL checks run on: polars through zhijian-query, when the `sql` feature is on.

use std::sync::Arc;

use zhijian_check::SqlEngine;

#[cfg(feature = "sql")]
struct PolarsSql;

#[cfg(feature = "sql")]
impl SqlEngine for PolarsSql {
    fn failures(&self, output: &std::path::Path, query: &str, keep: usize) -> Result<zhijian_check::TextRows, String> {
        zhijian_query::query_text(output, query, keep).map_err(|e| e.to_string())
    }
}

/// The engine for SQL checks; none in a build without the `sql` feature.
pub(crate) fn sql_engine() -> Option<Arc<dyn SqlEngine>> {
    #[cfg(feature = "sql")]
    return Some(Arc::new(PolarsSql));
    #[cfg(not(feature = "sql"))]
    None
}
