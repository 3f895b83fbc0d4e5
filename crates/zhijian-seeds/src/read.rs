//! Reading one seed CSV into typed rows, with line numbers.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::SeedError;

/// A row of a seed file with the line it came from.
pub(crate) struct Row<T> {
    pub line: u64,
    pub value: T,
}

/// Reads `dir/name` as UTF-8 CSV with headers into `T`. Problems are pushed to `errors`; rows
/// that fail to deserialise are skipped.
pub(crate) fn read_rows<T: DeserializeOwned>(dir: &Path, name: &str, errors: &mut Vec<SeedError>) -> Vec<Row<T>> {
    let path = dir.join(name);
    let mut reader = match csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(&path) {
        Ok(reader) => reader,
        Err(err) => {
            errors.push(file_error(&path, format!("cannot read: {err}")));
            return Vec::new();
        }
    };
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(err) => {
            errors.push(file_error(&path, format!("cannot read the header: {err}")));
            return Vec::new();
        }
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                errors.push(SeedError { file: path.clone(), line, field: None, value: None, message: err.to_string() });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        match record.deserialize::<T>(Some(&headers)) {
            Ok(value) => rows.push(Row { line, value }),
            Err(err) => {
                let field = match err.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => {
                        err.field().and_then(|i| headers.get(i as usize)).map(str::to_string)
                    }
                    _ => None,
                };
                let value = field
                    .as_ref()
                    .and_then(|f| headers.iter().position(|h| h == f))
                    .and_then(|i| record.get(i))
                    .map(str::to_string);
                let message = match err.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => err.kind().to_string(),
                    _ => err.to_string(),
                };
                errors.push(SeedError { file: path.clone(), line, field, value, message });
            }
        }
    }
    rows
}

pub(crate) fn file_error(path: &Path, message: String) -> SeedError {
    SeedError { file: path.to_path_buf(), line: 0, field: None, value: None, message }
}

/// Builds an error at a row.
pub(crate) fn row_error(
    dir: &Path,
    name: &str,
    line: u64,
    field: &str,
    value: &str,
    message: impl Into<String>,
) -> SeedError {
    SeedError {
        file: dir.join(name),
        line,
        field: Some(field.to_string()),
        value: Some(value.to_string()),
        message: message.into(),
    }
}

/// Splits a `|`-separated alias list, dropping empty entries.
pub(crate) fn split_aliases(aliases: &str) -> impl Iterator<Item = &str> {
    aliases.split('|').map(str::trim).filter(|a| !a.is_empty())
}
