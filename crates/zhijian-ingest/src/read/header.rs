//! Finding a file's header (at a fixed line, or searched for among the first rows) and
//! composing a header of several rows.

use zhijian_pipeline::Source;

use super::{ColumnIndex, ReadError, Table};

/// How many rows `header_row = "auto"` searches for the header: it must start on one of the
/// first 50 rows (worksheet rows 1–50; the first 50 non-empty lines of delimited text).
pub const HEADER_SEARCH_ROWS: usize = 50;

/// Where a table's header is.
#[derive(Debug, Clone, Copy)]
pub enum HeaderSearch<'s> {
    /// Its first row, from 1 (a line of delimited text, a worksheet row): `header_row = 3`.
    At(usize),
    /// `header_row = "auto"`: the first of the first [`HEADER_SEARCH_ROWS`] rows where a header
    /// (of `header_rows` rows, from there down) has a column for every field the source
    /// requires, as [`ColumnIndex::for_source`] maps it.
    Auto(&'s Source),
}

impl<'s> HeaderSearch<'s> {
    /// Where the header of `source`'s files is.
    pub fn of(source: &'s Source) -> HeaderSearch<'s> {
        match source.format.header().0 {
            zhijian_pipeline::HeaderRow::Fixed(row) => HeaderSearch::At(row),
            zhijian_pipeline::HeaderRow::Auto => HeaderSearch::Auto(source),
        }
    }
}

/// The first of `rows` (a table's first rows, top to bottom: each one's line from 1 and its
/// trimmed cells) that starts a header of `header_rows` rows mapping every field `source`
/// requires; only the first [`HEADER_SEARCH_ROWS`] rows may start it. `fill_right` composes
/// the header as delimited text leaves a merged cell (see [`compose_header`]).
pub fn find_header(
    rows: &[(u64, Vec<String>)],
    header_rows: usize,
    fill_right: bool,
    source: &Source,
) -> Result<usize, ReadError> {
    let span = header_rows.max(1);
    // The closest miss, for the error: the fewest fields without a column.
    let mut closest: Option<(usize, u64, ReadError)> = None;
    for start in 0..rows.len().min(HEADER_SEARCH_ROWS) {
        let Some(candidate) = rows.get(start..start + span) else { break };
        let lines: Vec<Vec<String>> = candidate.iter().map(|(_, cells)| cells.clone()).collect();
        let (header, header_leaves) = compose_header(&lines, fill_right);
        if header.iter().all(String::is_empty) {
            continue;
        }
        let table = Table { header, header_leaves, ..Table::default() };
        match ColumnIndex::for_source(&table, source) {
            Ok(_) => return Ok(start),
            Err(err) => {
                let missing = match &err {
                    ReadError::MissingColumns { missing, .. } => missing.len(),
                    _ => usize::MAX,
                };
                if closest.as_ref().is_none_or(|(fewest, _, _)| missing < *fewest) {
                    closest = Some((missing, candidate[0].0, err));
                }
            }
        }
    }
    let required = source.required_fields();
    Err(ReadError::HeaderNotFound {
        searched: HEADER_SEARCH_ROWS,
        sought: required.iter().map(|f| (*f, source.columns.aliases(*f).to_vec())).collect(),
        closest: closest.map(|(_, line, err)| (line, Box::new(err))),
    })
}

/// Composes a header from its rows (top to bottom): each column's non-empty texts, without
/// repeats, joined with `/`. An empty cell in an upper row takes the text on its left, as a
/// merged group header exported to CSV leaves it (`检测结果,,`).
pub fn compose_header(rows: &[Vec<String>], fill_right: bool) -> (Vec<String>, Vec<String>) {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut filled: Vec<Vec<String>> = rows.to_vec();
    if fill_right {
        let last = filled.len().saturating_sub(1);
        for row in filled.iter_mut().take(last) {
            let mut left = String::new();
            row.resize(width, String::new());
            for cell in row.iter_mut() {
                if cell.trim().is_empty() {
                    cell.clone_from(&left);
                } else {
                    left = cell.trim().to_string();
                }
            }
        }
    }
    let mut header = Vec::with_capacity(width);
    let mut leaves = Vec::with_capacity(width);
    for column in 0..width {
        let mut parts: Vec<String> = Vec::new();
        for row in &filled {
            let text = row.get(column).map_or("", |c| c.trim()).replace(['\n', '\r'], "");
            if !text.is_empty() && parts.last() != Some(&text) {
                parts.push(text);
            }
        }
        leaves.push(parts.last().cloned().unwrap_or_default());
        header.push(parts.join("/"));
    }
    (header, leaves)
}
