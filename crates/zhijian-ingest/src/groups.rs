//! Result groups: the cells of one row that make one result, when a row carries several (a
//! screening and its confirmation, a test and its re-test, one column per analyte).
//!
//! A source declares them in `[[sources.result_groups]]` ([`zhijian_pipeline::ResultGroup`]);
//! here each group's headers are found in a file's header once, so that reading a group's cell
//! is an index, as for the source's own columns.

use zhijian_pipeline::{Field, ResultGroup};
use zhijian_seeds::normalise_key;

use crate::read::{RawRecord, ReadError, Table};

/// Where a result group's fields sit in one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupIndex {
    /// The group's name, written to `results.result_group`.
    pub name: String,
    /// Each field the group maps, with the columns of its headers that the file has (position
    /// and header), in the order the pipeline lists the headers.
    columns: Vec<(Field, Vec<(usize, String)>)>,
    /// Each field the group fixes, with its value.
    values: Vec<(Field, String)>,
}

impl GroupIndex {
    /// Finds every group's headers in `table`'s header, matched like the source's columns
    /// (whole header first, then its bottom part; width, case and spaces folded). Fails when
    /// a group's `result` has none of its headers in the file.
    pub fn new(table: &Table, groups: &[ResultGroup]) -> Result<Vec<GroupIndex>, ReadError> {
        let keys: Vec<String> = table.header.iter().map(|h| normalise_key(h)).collect();
        let leaves: Vec<String> = table.header_leaves.iter().map(|h| normalise_key(h)).collect();
        let mut missing = Vec::new();
        let mut out = Vec::with_capacity(groups.len());
        for group in groups {
            let mut columns = Vec::new();
            for (field, headers) in group.columns.iter() {
                let mut found: Vec<(usize, String)> = Vec::new();
                for header in headers {
                    let key = normalise_key(header);
                    let at = keys.iter().position(|k| *k == key).or_else(|| leaves.iter().position(|k| *k == key));
                    if let Some(at) = at
                        && !found.iter().any(|(i, _)| *i == at)
                    {
                        found.push((at, table.header[at].clone()));
                    }
                }
                if found.is_empty() && field == Field::Result {
                    missing.push((field, headers.to_vec()));
                }
                columns.push((field, found));
            }
            out.push(GroupIndex { name: group.name.clone(), columns, values: group.values.clone() });
        }
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(ReadError::MissingColumns {
                missing,
                found: table.header.iter().filter(|h| !h.is_empty()).cloned().collect(),
            })
        }
    }

    /// Whether the group maps or fixes `field`: then the source's own column does not count.
    pub fn owns(&self, field: Field) -> bool {
        self.columns.iter().any(|(f, _)| *f == field) || self.values.iter().any(|(f, _)| *f == field)
    }

    /// The group's trimmed cell of `field` in `record`: the first non-empty cell among its
    /// columns, else its fixed value; `None` when the group does not own the field or has
    /// nothing for it.
    pub fn get<'r>(&'r self, record: &'r RawRecord, field: Field) -> Option<&'r str> {
        let cell = self
            .columns
            .iter()
            .filter(|(f, _)| *f == field)
            .flat_map(|(_, columns)| columns)
            .filter_map(|(i, _)| record.field(*i))
            .map(str::trim)
            .find(|cell| !cell.is_empty());
        cell.or_else(|| {
            let (_, value) = self.values.iter().find(|(f, _)| *f == field)?;
            Some(value.trim()).filter(|v| !v.is_empty())
        })
    }

    /// The header of the group's first column of `field` that holds a cell in `record`, else
    /// the first one the file has: for messages.
    pub fn header(&self, record: &RawRecord, field: Field) -> Option<&str> {
        let (_, columns) = self.columns.iter().find(|(f, _)| *f == field)?;
        let filled = columns.iter().find(|(i, _)| record.field(*i).is_some_and(|c| !c.trim().is_empty()));
        filled.or(columns.first()).map(|(_, h)| h.as_str())
    }
}
