//! Which files a source reads: its patterns expanded over the drop folder.
//!
//! The folder a pattern starts in (its part before the first wildcard) is the operator's
//! and is taken as it is, links included. Below it nothing is followed: a symbolic link —
//! to a file, or to a folder a `*` or `**` would enter — is skipped and reported
//! ([`Listing::skipped`]), so a link cannot bring in a file from elsewhere, nor the same file
//! twice under two names. Names are matched whatever their bytes: a name that is not UTF-8
//! (a GBK name unpacked on a UTF-8 system) is matched on its lossy text and read like any
//! other, never left out. Files reached twice (overlapping patterns, `a/../a/x.csv`) are
//! listed once, by their real path.
//!
//! As in a shell, a wildcard does not match a name's leading `.`, and `**` does not enter
//! hidden folders: `*.csv` leaves out the `._export.csv` a Mac writes beside each file it
//! copies to a foreign disk, and `.DS_Store`; a pattern that writes the dot (`.*.csv`) takes
//! them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use zhijian_pipeline::Source;

use crate::IngestError;

/// The files of a source, and what its patterns matched but zhijian does not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Files to read, sorted, each once.
    pub files: Vec<PathBuf>,
    /// Symbolic links the patterns matched, with where they lead, sorted.
    pub skipped: Vec<(PathBuf, PathBuf)>,
}

/// One component of a pattern below its folder.
enum Part {
    /// `**`: any number of folders, none included.
    Folders,
    /// A name with wildcards.
    Pattern(glob::Pattern),
    /// A name without any (also `.` and `..`).
    Literal(OsString),
}

/// The files of `source`: every pattern expanded, sorted, each file once (see the module
/// docs). Fails when the folder a pattern starts in does not exist or a folder below it cannot
/// be listed.
pub fn list_source(source: &Source) -> Result<Listing, IngestError> {
    list_patterns(&source.name, &source.files)
}

fn list_patterns(source_name: &str, patterns: &[String]) -> Result<Listing, IngestError> {
    let mut listing = Listing::default();
    for pattern in patterns {
        let glob_error = |message: String| IngestError::Glob {
            source_name: source_name.to_string(),
            pattern: pattern.clone(),
            message,
        };
        let folder = literal_prefix(pattern);
        if !folder.as_os_str().is_empty() && !folder.is_dir() {
            return Err(IngestError::MissingFolder {
                source_name: source_name.to_string(),
                pattern: pattern.clone(),
                folder,
            });
        }
        let parts = Path::new(pattern)
            .components()
            .skip(folder.components().count())
            .map(|component| {
                let text = component.as_os_str().to_string_lossy();
                if text == "**" {
                    Ok(Part::Folders)
                } else if text.contains(['*', '?', '[']) {
                    glob::Pattern::new(&text).map(Part::Pattern).map_err(|e| glob_error(e.to_string()))
                } else {
                    Ok(Part::Literal(component.as_os_str().to_os_string()))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        walk(&folder, &parts, &mut listing)
            .map_err(|(path, err)| glob_error(format!("`{}`: {err}", path.display())))?;
    }
    // Each file once, by real path, keeping the first name it was found under.
    listing.files.sort();
    listing.files.dedup();
    let mut seen = std::collections::HashSet::new();
    listing.files.retain(|path| seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())));
    listing.skipped.sort();
    listing.skipped.dedup();
    Ok(listing)
}

/// The files of `source`, as [`list_source`] finds them.
pub fn source_files(source: &Source) -> Result<Vec<PathBuf>, IngestError> {
    Ok(list_source(source)?.files)
}

/// The folder part of a glob pattern before its first wildcard (never its last component).
pub(crate) fn literal_prefix(pattern: &str) -> PathBuf {
    let mut prefix = PathBuf::new();
    let path = Path::new(pattern);
    let components: Vec<_> = path.components().collect();
    for (i, component) in components.iter().enumerate() {
        let text = component.as_os_str().to_string_lossy();
        if text.contains(['*', '?', '[']) || i + 1 == components.len() {
            break;
        }
        prefix.push(component);
    }
    prefix
}

type WalkError = (PathBuf, std::io::Error);

/// Matches `parts` below `dir`, adding files and skipped links to `out`.
fn walk(dir: &Path, parts: &[Part], out: &mut Listing) -> Result<(), WalkError> {
    let Some((part, rest)) = parts.split_first() else { return Ok(()) };
    match part {
        Part::Literal(name) if name == ".." || name == "." => {
            let path = child(dir, name);
            if rest.is_empty() {
                return Ok(());
            }
            walk(&path, rest, out)
        }
        Part::Literal(name) => examine(&child(dir, name), rest, out),
        Part::Pattern(pattern) => {
            let options = glob::MatchOptions { require_literal_leading_dot: true, ..glob::MatchOptions::new() };
            for (path, name) in entries(dir)? {
                if pattern.matches_with(&name.to_string_lossy(), options) {
                    examine(&path, rest, out)?;
                }
            }
            Ok(())
        }
        Part::Folders => {
            // None: the rest of the pattern right here.
            if !rest.is_empty() {
                walk(dir, rest, out)?;
            }
            for (path, name) in entries(dir)? {
                if name.as_encoded_bytes().starts_with(b".") {
                    continue;
                }
                let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
                if meta.file_type().is_symlink() {
                    // `**` would enter a linked folder; a trailing `**` would take a linked file.
                    if rest.is_empty() || path.is_dir() {
                        skip(&path, out);
                    }
                } else if meta.is_dir() {
                    walk(&path, parts, out)?;
                } else if rest.is_empty() && meta.is_file() {
                    out.files.push(path);
                }
            }
            Ok(())
        }
    }
}

/// A path whose name matched: a file ends the pattern, a folder continues it.
fn examine(path: &Path, rest: &[Part], out: &mut Listing) -> Result<(), WalkError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return Ok(()) };
    if meta.file_type().is_symlink() {
        // Reported only where the link would have been used: as a file at the end of the
        // pattern, as a folder before it.
        if rest.is_empty() != path.is_dir() {
            skip(path, out);
        }
        return Ok(());
    }
    if rest.is_empty() {
        if meta.is_file() {
            out.files.push(path.to_path_buf());
        }
        Ok(())
    } else if meta.is_dir() {
        walk(path, rest, out)
    } else {
        Ok(())
    }
}

fn skip(path: &Path, out: &mut Listing) {
    let target = std::fs::read_link(path).unwrap_or_default();
    out.skipped.push((path.to_path_buf(), target));
}

/// The entries of `dir` ("" is the current folder), by path and name.
fn entries(dir: &Path) -> Result<Vec<(PathBuf, OsString)>, WalkError> {
    let listed = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let error = |err| (listed.to_path_buf(), err);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(listed).map_err(error)? {
        let name = entry.map_err(error)?.file_name();
        out.push((child(dir, &name), name));
    }
    Ok(out)
}

fn child(dir: &Path, name: &std::ffi::OsStr) -> PathBuf {
    if dir.as_os_str().is_empty() { PathBuf::from(name) } else { dir.join(name) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt as _;
    use std::os::unix::fs::symlink;

    fn list(patterns: &[String]) -> Listing {
        list_patterns("s", patterns).unwrap()
    }

    #[test]
    fn links_are_skipped_and_reported_and_other_names_are_all_read() {
        let dir = tempfile::tempdir().unwrap();
        let drop = dir.path().join("drop");
        std::fs::create_dir_all(drop.join("sub")).unwrap();
        std::fs::write(drop.join("a.csv"), "x").unwrap();
        std::fs::write(drop.join("sub/b.csv"), "x").unwrap();
        // A GBK name (更正) unpacked as bytes: not UTF-8.
        let gbk = std::ffi::OsStr::from_bytes(b"c-\xb8\xfc\xd5\xfd.csv");
        std::fs::write(drop.join(gbk), "x").unwrap();
        std::fs::write(dir.path().join("secret.csv"), "x").unwrap();
        symlink(dir.path().join("secret.csv"), drop.join("outside.csv")).unwrap();
        symlink("a.csv", drop.join("again.csv")).unwrap();
        symlink(dir.path(), drop.join("up")).unwrap();

        let top = list(&[format!("{}/*.csv", drop.display())]);
        assert_eq!(top.files, [drop.join("a.csv"), drop.join(gbk)]);
        assert_eq!(
            top.skipped,
            [
                (drop.join("again.csv"), PathBuf::from("a.csv")),
                (drop.join("outside.csv"), dir.path().join("secret.csv"))
            ]
        );
        let deep = list(&[format!("{}/**/*.csv", drop.display())]);
        assert_eq!(deep.files, [drop.join("a.csv"), drop.join(gbk), drop.join("sub/b.csv")]);
        assert!(deep.skipped.iter().any(|(link, _)| *link == drop.join("up")), "{:?}", deep.skipped);
        // Two patterns reaching one file list it once.
        let twice = list(&[format!("{}/*.csv", drop.display()), format!("{}/sub/../a.csv", drop.display())]);
        assert_eq!(twice.files.iter().filter(|f| f.ends_with("a.csv")).count(), 1, "{:?}", twice.files);
    }

    #[test]
    fn hidden_names_are_left_to_patterns_that_write_the_dot() {
        let dir = tempfile::tempdir().unwrap();
        let drop = dir.path().join("drop");
        std::fs::create_dir_all(drop.join("__MACOSX")).unwrap();
        std::fs::create_dir_all(drop.join(".Trash/old")).unwrap();
        for name in ["a.csv", "._a.csv", ".DS_Store", "__MACOSX/._a.csv", ".Trash/old/b.csv"] {
            std::fs::write(drop.join(name), "x").unwrap();
        }
        let top = list(&[format!("{}/*", drop.display())]);
        assert_eq!(top.files, [drop.join("a.csv")]);
        let deep = list(&[format!("{}/**/*.csv", drop.display())]);
        assert_eq!(deep.files, [drop.join("a.csv")]);
        let dotted = list(&[format!("{}/.*.csv", drop.display())]);
        assert_eq!(dotted.files, [drop.join("._a.csv")]);
        let named = list(&[format!("{}/.Trash/*/*.csv", drop.display())]);
        assert_eq!(named.files, [drop.join(".Trash/old/b.csv")]);
    }

    #[test]
    fn names_that_are_not_utf8_keep_every_byte() {
        let name = |bytes: &[u8]| zhijian_pipeline::lossless_name(std::ffi::OsStr::from_bytes(bytes));
        assert_eq!(name("2013Q3-更正.csv".as_bytes()), "2013Q3-更正.csv");
        assert_eq!(name(b"2013Q3-\xb8\xfc\xd5\xfd.csv"), "2013Q3-\\xB8\\xFC\\xD5\\xFD.csv");
        // Two names a lossy conversion would make one.
        assert_ne!(name(b"a-\xff.csv"), name(b"a-\xfe.csv"));
    }

    #[test]
    fn literal_prefix_stops_at_the_first_wildcard() {
        assert_eq!(literal_prefix("p/../data/food/*.csv"), PathBuf::from("p/../data/food"));
        assert_eq!(literal_prefix("data/**/x.csv"), PathBuf::from("data"));
        assert_eq!(literal_prefix("x.csv"), PathBuf::new());
    }
}
