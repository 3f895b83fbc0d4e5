//! Walking a parsed TOML document: its tables as sections, typed reads of their keys, and
//! every problem collected with its place, for the pipeline file and the checks files alike.

use std::ops::Range;
use std::path::Path;

use chrono::NaiveDate;
use toml_edit::{Item, TableLike, Value};

use crate::ConfigError;

/// Collects the problems of one file as its document is walked.
pub(crate) struct Walker<'a> {
    pub(crate) file: &'a Path,
    pub(crate) text: &'a str,
    pub(crate) errors: Vec<ConfigError>,
}

/// A table with the span to blame when one of its keys is missing.
pub(crate) struct Section<'t> {
    pub(crate) table: &'t dyn TableLike,
    pub(crate) span: Option<Range<usize>>,
    pub(crate) name: String,
}

impl Walker<'_> {
    pub(crate) fn error(&mut self, span: Option<Range<usize>>, message: String) {
        self.errors.push(ConfigError::at(self.file, self.text, span, message));
    }

    pub(crate) fn missing(&mut self, section: &Section<'_>, key: &str, what: &str) {
        self.error(section.span.clone(), format!("missing `{key}` in {}: {what}", section.name));
    }

    pub(crate) fn check_keys(&mut self, section: &Section<'_>, allowed: &[&str]) {
        for (key, _) in section.table.iter() {
            if !allowed.contains(&key) {
                let span = section.table.key(key).and_then(|k| k.span());
                self.error(
                    span,
                    format!("unknown key `{key}` in {}, expected one of: {}", section.name, allowed.join(", ")),
                );
            }
        }
    }

    pub(crate) fn section<'t>(&mut self, parent: &Section<'t>, key: &str) -> Option<Section<'t>> {
        match parent.table.get(key) {
            None => {
                self.missing(parent, key, "a table");
                None
            }
            Some(item) => self.as_section(item, &format!("[{key}]"), key),
        }
    }

    pub(crate) fn as_section<'t>(&mut self, item: &'t Item, name: &str, key: &str) -> Option<Section<'t>> {
        match item.as_table_like() {
            Some(table) => Some(Section { table, span: item.span(), name: name.to_string() }),
            None => {
                self.error(item.span(), format!("expected `{key}` to be a table"));
                None
            }
        }
    }

    pub(crate) fn string(
        &mut self,
        section: &Section<'_>,
        key: &str,
        required: bool,
    ) -> Option<(String, Range<usize>)> {
        match section.table.get(key) {
            None => {
                if required {
                    self.missing(section, key, "a string");
                }
                None
            }
            Some(item) => match item.as_str() {
                Some(s) => Some((s.to_string(), item.span().unwrap_or(0..0))),
                None => {
                    self.error(item.span(), format!("expected `{key}` to be a string"));
                    None
                }
            },
        }
    }

    /// A string or an array of strings.
    pub(crate) fn strings(&mut self, section: &Section<'_>, key: &str) -> Option<(Vec<String>, Range<usize>)> {
        let item = section.table.get(key)?;
        let span = item.span().unwrap_or(0..0);
        match item.as_value() {
            Some(Value::String(s)) => Some((vec![s.value().clone()], span)),
            Some(Value::Array(array)) => {
                let mut out = Vec::new();
                for value in array.iter() {
                    match value.as_str() {
                        Some(s) => out.push(s.to_string()),
                        None => {
                            self.error(value.span(), format!("expected `{key}` to hold strings only"));
                            return None;
                        }
                    }
                }
                Some((out, span))
            }
            _ => {
                self.error(item.span(), format!("expected `{key}` to be a string or an array of strings"));
                None
            }
        }
    }

    /// A TOML date (`2013-09-30`) or a string holding one; `Some(None)` when absent.
    pub(crate) fn date(&mut self, section: &Section<'_>, key: &str) -> Option<Option<NaiveDate>> {
        let Some(item) = section.table.get(key) else { return Some(None) };
        let text = match item.as_value() {
            Some(Value::Datetime(dt)) => dt.value().to_string(),
            Some(Value::String(s)) => s.value().clone(),
            _ => String::new(),
        };
        match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(date) => Some(Some(date)),
            Err(_) => {
                self.error(item.span(), format!("expected `{key}` to be a date like 2013-09-30"));
                None
            }
        }
    }
}
