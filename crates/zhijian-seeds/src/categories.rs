//! The category trees, one per programme, of up to four levels (food: 食品大类 / 亚类 / 次亚类 /
//! 细类; other programmes: the kinds of goods their plan item names).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::SeedError;
use crate::normalise::{normalise_key, normalise_text};
use crate::read::{read_rows, row_error, split_aliases};

/// One node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Dotted id, `32.01.01.01`.
    pub id: String,
    /// 1 to 4.
    pub level: u8,
    /// Canonical name.
    pub name: String,
    /// The parent's id; `None` at level 1.
    pub parent: Option<String>,
    /// The programme whose tree it belongs to.
    pub programme: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryRow {
    programme: String,
    id: String,
    level: u8,
    name: String,
    parent_id: String,
    aliases: String,
}

/// A source's four category names after normalisation.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CategoryPath {
    /// Level 1 to 4 names: canonical where the tree knows them, else as written.
    pub names: [Option<String>; 4],
    /// The id of the deepest level that the tree knows; `None` when not even level 1 is known.
    pub deepest_id: Option<String>,
    /// The first level (1 to 4) that the tree did not know, if any.
    pub unknown_level: Option<u8>,
}

/// The category tree with its name index.
#[derive(Debug, Clone, Default)]
pub struct CategoryTree {
    nodes: Vec<Category>,
    by_id: HashMap<String, usize>,
    /// (parent id, or `@programme` for level 1; normalised name or alias) → index.
    by_name: HashMap<(String, String), usize>,
}

const FILE: &str = "categories.csv";

impl CategoryTree {
    pub(crate) fn load(dir: &Path, errors: &mut Vec<SeedError>) -> CategoryTree {
        let mut tree = CategoryTree::default();
        for row in read_rows::<CategoryRow>(dir, FILE, errors) {
            let r = row.value;
            if !(1..=4).contains(&r.level) {
                errors.push(row_error(dir, FILE, row.line, "level", &r.level.to_string(), "expected 1 to 4"));
                continue;
            }
            if tree.by_id.contains_key(&r.id) {
                errors.push(row_error(dir, FILE, row.line, "id", &r.id, "duplicate id"));
                continue;
            }
            if r.programme.parse::<zhijian_model::Programme>().is_err() {
                errors.push(row_error(dir, FILE, row.line, "programme", &r.programme, "unknown programme code"));
                continue;
            }
            let parent = (!r.parent_id.is_empty()).then(|| r.parent_id.clone());
            match (&parent, r.level) {
                (None, 1) => {}
                (None, _) => {
                    errors.push(row_error(dir, FILE, row.line, "parent_id", "", "levels 2 to 4 need a parent"));
                    continue;
                }
                (Some(p), level) => match tree.by_id.get(p).map(|&i| &tree.nodes[i]) {
                    Some(node) if node.programme != r.programme => {
                        errors.push(row_error(
                            dir,
                            FILE,
                            row.line,
                            "parent_id",
                            p,
                            "the parent belongs to another programme",
                        ));
                        continue;
                    }
                    Some(node) if node.level + 1 == level => {}
                    Some(_) => {
                        errors.push(row_error(dir, FILE, row.line, "parent_id", p, "the parent is not one level up"));
                        continue;
                    }
                    None => {
                        errors.push(row_error(
                            dir,
                            FILE,
                            row.line,
                            "parent_id",
                            p,
                            "no earlier row has this id (parents come first)",
                        ));
                        continue;
                    }
                },
            }
            let index = tree.nodes.len();
            let scope = parent.clone().unwrap_or_else(|| format!("@{}", r.programme));
            for name in std::iter::once(r.name.as_str()).chain(split_aliases(&r.aliases)) {
                if tree.by_name.insert((scope.clone(), normalise_key(name)), index).is_some() {
                    errors.push(row_error(
                        dir,
                        FILE,
                        row.line,
                        "name",
                        name,
                        "the name is used twice under the same parent",
                    ));
                }
            }
            tree.by_id.insert(r.id.clone(), index);
            tree.nodes.push(Category {
                id: r.id,
                level: r.level,
                name: normalise_text(&r.name),
                parent,
                programme: r.programme,
            });
        }
        let top = tree.nodes.iter().filter(|c| c.level == 1).count();
        if !tree.nodes.is_empty() && top == 0 {
            errors.push(crate::read::file_error(&dir.join(FILE), "no level-1 category".to_string()));
        }
        tree
    }

    /// The node with this id.
    pub fn get(&self, id: &str) -> Option<&Category> {
        self.by_id.get(id).map(|&i| &self.nodes[i])
    }

    /// The level-1 categories of `programme`, in file order.
    pub fn top_level<'a>(&'a self, programme: &'a str) -> impl Iterator<Item = &'a Category> {
        self.nodes.iter().filter(move |c| c.level == 1 && c.programme == programme)
    }

    /// `id` and its ancestors, deepest first.
    pub fn ancestors<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Category> {
        let mut next = self.get(id);
        std::iter::from_fn(move || {
            let current = next?;
            next = current.parent.as_deref().and_then(|p| self.get(p));
            Some(current)
        })
    }

    /// Resolves the four names of a source record level by level in `programme`'s tree. Empty
    /// names are skipped; once a level is unknown, it and the levels below keep their text as
    /// written.
    pub fn resolve_path(&self, programme: &str, raw: [&str; 4]) -> CategoryPath {
        let mut path = CategoryPath::default();
        let mut parent: Option<String> = Some(format!("@{programme}"));
        for (level, text) in raw.iter().enumerate() {
            let text = normalise_text(text);
            if text.is_empty() {
                continue;
            }
            let found = parent.as_ref().and_then(|scope| self.by_name.get(&(scope.clone(), normalise_key(&text))));
            match found {
                Some(&index) => {
                    let node = &self.nodes[index];
                    path.names[level] = Some(node.name.clone());
                    path.deepest_id = Some(node.id.clone());
                    parent = Some(node.id.clone());
                }
                None => {
                    if path.unknown_level.is_none() {
                        path.unknown_level = Some(level as u8 + 1);
                    }
                    path.names[level] = Some(text);
                    parent = None;
                }
            }
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_and_walks_up() {
        let mut errors = Vec::new();
        let tree = CategoryTree::load(Path::new("../../seeds"), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(tree.top_level("food").count(), 34);
        let path = tree.resolve_path("food", ["食用农产品", "蔬菜", "叶菜类蔬菜", "韭菜"]);
        assert_eq!(path.deepest_id.as_deref(), Some("32.01.01.01"));
        assert_eq!(path.unknown_level, None);
        let ids: Vec<_> = tree.ancestors("32.01.01.01").map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["32.01.01.01", "32.01.01", "32.01", "32"]);
        let alias = tree.resolve_path("food", ["食用油", "", "", ""]);
        assert_eq!(alias.names[0].as_deref(), Some("食用油、油脂及其制品"));
        let unknown = tree.resolve_path("food", ["肉制品", "腌腊肉制品", "", ""]);
        assert_eq!(unknown.deepest_id.as_deref(), Some("04"));
        assert_eq!(unknown.unknown_level, Some(2));
        assert_eq!(unknown.names[1].as_deref(), Some("腌腊肉制品"));
    }
}
