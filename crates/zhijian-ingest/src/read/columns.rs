//! A file's header mapped onto the source's fields, and the cells of a record read through it.

use std::collections::HashMap;

use zhijian_pipeline::{ColumnMap, Field};
use zhijian_seeds::normalise_key;

use super::{RawRecord, ReadError, Table};

/// Where each mapped field sits in a file's header.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ColumnIndex {
    positions: HashMap<Field, (usize, String)>,
    /// Each field's column by the field's number, made at the first lookup: `get` runs for
    /// every cell read, and an array index is much cheaper than hashing.
    #[serde(skip)]
    slots: std::sync::OnceLock<Vec<Option<usize>>>,
    /// The source's result groups in this file, in pipeline order; empty without groups.
    #[serde(default)]
    pub groups: Vec<crate::groups::GroupIndex>,
}

impl ColumnIndex {
    /// Maps the header onto the fields of `columns`: for each field, the first of its aliases
    /// that the header has (width, case and spaces folded), matching a column's whole header
    /// (`检测结果/检验结论`) first, then its bottom part (`检验结论`). Fails when a field of
    /// `required` has no column.
    pub fn new(table: &Table, columns: &ColumnMap, required: &[Field]) -> Result<ColumnIndex, ReadError> {
        let header = &table.header;
        let keys: Vec<String> = header.iter().map(|h| normalise_key(h)).collect();
        let leaves: Vec<String> = table.header_leaves.iter().map(|h| normalise_key(h)).collect();
        let mut positions = HashMap::new();
        let mut missing = Vec::new();
        for field in Field::ALL {
            let aliases = columns.aliases(*field);
            let found = aliases.iter().find_map(|alias| {
                let key = normalise_key(alias);
                keys.iter().position(|k| *k == key).or_else(|| leaves.iter().position(|k| *k == key))
            });
            match found {
                Some(i) => {
                    positions.insert(*field, (i, header[i].clone()));
                }
                None if required.contains(field) => missing.push((*field, aliases.to_vec())),
                None => {}
            }
        }
        if missing.is_empty() {
            Ok(ColumnIndex { positions, slots: std::sync::OnceLock::new(), groups: Vec::new() })
        } else {
            Err(ReadError::MissingColumns {
                missing,
                found: header.iter().filter(|h| !h.is_empty()).cloned().collect(),
            })
        }
    }

    /// The columns of `source` in `table`: its own fields (those [`Source::required_fields`]
    /// names must be there) and its result groups'.
    ///
    /// [`Source::required_fields`]: zhijian_pipeline::Source::required_fields
    pub fn for_source(table: &Table, source: &zhijian_pipeline::Source) -> Result<ColumnIndex, ReadError> {
        let mut index = ColumnIndex::new(table, &source.columns, &source.required_fields())?;
        index.groups = crate::groups::GroupIndex::new(table, &source.result_groups)?;
        Ok(index)
    }

    /// The trimmed cell of `field` in `record`; `None` when unmapped, absent or empty.
    pub fn get<'r>(&self, record: &'r RawRecord, field: Field) -> Option<&'r str> {
        let slots = self.slots.get_or_init(|| {
            let mut slots = vec![None; Field::ALL.len()];
            for (field, (i, _)) in &self.positions {
                slots[*field as usize] = Some(*i);
            }
            slots
        });
        let cell = record.field((*slots.get(field as usize)?)?)?.trim();
        (!cell.is_empty()).then_some(cell)
    }

    /// The field mapped to column `index` (from 0) and its header; the first by field order
    /// when one column feeds two fields.
    pub fn field_at(&self, index: usize) -> Option<(Field, &str)> {
        Field::ALL
            .iter()
            .find_map(|field| self.positions.get(field).filter(|(i, _)| *i == index).map(|(_, h)| (*field, h.as_str())))
    }

    /// The header a field was found under.
    pub fn header(&self, field: Field) -> Option<&str> {
        self.positions.get(&field).map(|(_, h)| h.as_str())
    }
}
