//! Publishing a run's outputs as a whole, and the rule that zhijian writes only where it may.
//!
//! The output path (`out/henan-2013`) is a symbolic link to one generation folder in a hidden
//! sibling (`out/.henan-2013.generations/<run id>/`). A run writes everything into a
//! [`Staging`] folder there and [`Staging::publish`] switches the link in one rename.
//!
//! zhijian writes only inside its output and the dot-siblings it keeps beside it
//! (`.NAME.generations`, `.NAME.cache`, `.NAME.lock`, and `.NAME.generations.link-*` for a
//! moment while the link is switched), and never removes what it did not write: the output
//! path must be absent, an empty folder, or a zhijian output ([`check_output`]); anything else
//! stops the run before it has written anything.

use std::ffi::OsString;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::{StoreError, io_err, sync_dir};

/// What an output path holds that zhijian may publish over; see [`check_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputState {
    /// Nothing yet.
    Absent,
    /// An empty folder: removed (only while it is still empty) and replaced by the link.
    EmptyFolder,
    /// zhijian's link to one of its generations, named here.
    Link(String),
    /// A folder zhijian wrote itself (it holds the `_manifest.json` of a zhijian run): an
    /// output from before generations, or a generation moved there. Moved into the
    /// generations as the previous one.
    OwnFolder,
}

/// A hidden sibling of the output: `out/.henan-2013.<what>`.
pub fn sibling_path(output: &Path, what: &str) -> PathBuf {
    let mut name = OsString::from(".");
    name.push(output.file_name().unwrap_or_else(|| "output".as_ref()));
    name.push(".");
    name.push(what);
    in_parent(output, name)
}

fn in_parent(output: &Path, name: OsString) -> PathBuf {
    match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join(name),
        _ => PathBuf::from(name),
    }
}

/// The hidden folder beside `output` that holds its generations.
pub fn generations_dir(output: &Path) -> PathBuf {
    sibling_path(output, "generations")
}

/// The dot-siblings zhijian keeps beside an output, and whether each is a folder.
const SIBLINGS: [(&str, bool); 3] = [("generations", true), ("cache", true), ("lock", false)];

/// Checks that zhijian may publish at `output`, and says what is there now.
///
/// The output path must be absent, an empty folder, zhijian's link into its generations, or
/// a folder zhijian wrote; its dot-siblings, where present, must be a real folder (a file
/// for the lock), never a link that would lead zhijian's writes and removals elsewhere.
/// Anything else is [`StoreError::NotOurs`] naming the path, and nothing is touched.
pub fn check_output(output: &Path) -> Result<OutputState, StoreError> {
    if output.file_name().is_none() {
        return Err(StoreError::NotOurs {
            path: output.to_path_buf(),
            found: "a path that does not end in a folder name".to_string(),
        });
    }
    for (what, is_dir) in SIBLINGS {
        let path = sibling_path(output, what);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() == is_dir && !meta.file_type().is_symlink() => {}
            Ok(meta) => return Err(StoreError::NotOurs { path: path.clone(), found: describe(&path, &meta) }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(io_err("cannot inspect", &path)(err)),
        }
    }
    let meta = match fs::symlink_metadata(output) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(OutputState::Absent),
        Err(err) => return Err(io_err("cannot inspect", output)(err)),
    };
    if meta.file_type().is_symlink() {
        let target = fs::read_link(output).map_err(io_err("cannot read link", output))?;
        return match own_generation(output, &target) {
            Some(generation) => Ok(OutputState::Link(generation)),
            None => Err(StoreError::NotOurs { path: output.to_path_buf(), found: describe(output, &meta) }),
        };
    }
    if !meta.is_dir() {
        return Err(StoreError::NotOurs { path: output.to_path_buf(), found: describe(output, &meta) });
    }
    let mut entries = fs::read_dir(output).map_err(io_err("cannot list", output))?;
    if entries.next().is_none() {
        return Ok(OutputState::EmptyFolder);
    }
    if written_by_zhijian(output) {
        return Ok(OutputState::OwnFolder);
    }
    Err(StoreError::NotOurs { path: output.to_path_buf(), found: describe(output, &meta) })
}

/// What is at `path`, for a message: the kind, and for a folder some of what it holds.
fn describe(path: &Path, meta: &fs::Metadata) -> String {
    let kind = meta.file_type();
    if kind.is_symlink() {
        let target = fs::read_link(path).unwrap_or_default();
        return format!("a symbolic link to `{}`", target.display());
    }
    if kind.is_file() {
        return "a file".to_string();
    }
    if !kind.is_dir() {
        return "neither a file nor a folder".to_string();
    }
    let mut names: Vec<String> = fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    match names.as_slice() {
        [] => "an empty folder".to_string(),
        [one] => format!("a folder holding `{one}`"),
        [first, rest @ ..] => format!("a folder holding `{first}` and {} more", rest.len()),
    }
}

/// The generation a link at `output` points at, when it is zhijian's: a relative link
/// `.NAME.generations/<generation>`, as [`Staging::publish`] makes it.
fn own_generation(output: &Path, target: &Path) -> Option<String> {
    let generations = generations_dir(output);
    let generations_name = generations.file_name()?;
    let mut parts = target.components();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Component::Normal(dir)), Some(Component::Normal(generation)), None) if dir == generations_name => {
            Some(generation.to_string_lossy().into_owned())
        }
        _ => None,
    }
}

/// Whether zhijian wrote the folder `dir`: it holds the `_manifest.json` of a zhijian run,
/// which every published set has (and every output from before generations).
fn written_by_zhijian(dir: &Path) -> bool {
    let manifest = dir.join("_manifest.json");
    // A manifest is a few kB per input file; anything far larger is not one.
    if !fs::symlink_metadata(&manifest).is_ok_and(|m| m.is_file() && m.len() < 64 << 20) {
        return false;
    }
    let Ok(bytes) = fs::read(&manifest) else { return false };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return false };
    ["zhijian_version", "run_id", "pipeline_name"].iter().all(|key| value[key].is_string())
}

/// Whether the entry `name` of the generations folder is a generation zhijian wrote, which
/// it may remove: a folder named as zhijian names generations (by run id, or `legacy-*` for
/// an output from before generations), or holding a zhijian manifest.
fn is_generation(path: &Path, name: &str) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
        && (is_run_id(name) || name.starts_with("legacy-") || written_by_zhijian(path))
}

/// `YYYYMMDDTHHMMSSZ-<pid>`, the run ids zhijian names generations by.
fn is_run_id(name: &str) -> bool {
    let bytes = name.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes.get(range).is_some_and(|b| b.iter().all(u8::is_ascii_digit));
    bytes.len() > 17
        && digits(0..8)
        && bytes[8] == b'T'
        && digits(9..15)
        && bytes[15] == b'Z'
        && bytes[16] == b'-'
        && digits(17..bytes.len())
}

/// The generation the output link points at now, if any.
#[cfg(test)]
fn current_generation(output: &Path) -> Option<String> {
    let target = fs::read_link(output).ok()?;
    own_generation(output, &target)
}

/// A run's private folder, published as a whole in one rename.
///
/// A run writes everything — tables, report, manifest, `_SUCCESS` — into `.staging-<run id>`
/// in the generations folder, renames it to its generation, and swaps the link with one
/// `rename` of a new link over the old. A reader, or a run killed at any moment, sees either
/// the previous complete set or the new one, never a mix. The previous generation is kept for
/// readers still inside it; older ones, and the staging folders of killed runs, are removed by
/// the next run. An output folder zhijian wrote before generations becomes the previous
/// generation; an empty folder is replaced; anything else at the output path is refused
/// ([`check_output`]), when the staging folder is made and again when it is published.
#[derive(Debug)]
pub struct Staging {
    output: PathBuf,
    generations: PathBuf,
    dir: PathBuf,
    run_id: String,
    committed: bool,
}

impl Staging {
    /// Creates the staging folder of run `run_id`, removing what killed runs left behind.
    /// Fails with [`StoreError::NotOurs`] when zhijian may not publish at `output`.
    pub fn create(output: &Path, run_id: &str) -> Result<Staging, StoreError> {
        check_output(output)?;
        let generations = generations_dir(output);
        fs::create_dir_all(&generations).map_err(io_err("cannot create", &generations))?;
        let entries = fs::read_dir(&generations).map_err(io_err("cannot list", &generations))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with(".staging-")
                && fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir())
            {
                fs::remove_dir_all(&path).map_err(io_err("cannot remove leftover", &path))?;
            }
        }
        // A run killed between making its new link and renaming it over the output leaves it.
        let link_prefix = format!("{}.link-", generations.file_name().unwrap_or_default().to_string_lossy());
        let parent = match output.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if let Ok(entries) = fs::read_dir(parent) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&link_prefix)
                    && entry.file_type().is_ok_and(|t| t.is_symlink())
                {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        let dir = generations.join(format!(".staging-{run_id}"));
        fs::create_dir_all(&dir).map_err(io_err("cannot create", &dir))?;
        Ok(Staging { output: output.to_path_buf(), generations, dir, run_id: run_id.to_string(), committed: false })
    }

    /// The staging folder of a table (or of any file or folder of the set).
    pub fn table_dir(&self, table: &str) -> PathBuf {
        self.dir.join(table)
    }

    /// Publishes the whole staged set: renames it to its generation, then swaps the output link
    /// in one rename, then removes generations older than the previous one. The output path is
    /// checked again first: something put there during the run is refused, untouched.
    pub fn publish(mut self) -> Result<(), StoreError> {
        sync_tree(&self.dir)?;
        let state = check_output(&self.output)?;
        let generation = self.generations.join(&self.run_id);
        fs::rename(&self.dir, &generation).map_err(io_err("cannot publish", &generation))?;
        sync_dir(&self.generations)?;
        self.committed = true;
        let previous = match state {
            OutputState::Absent => None,
            OutputState::Link(previous) => Some(previous),
            OutputState::EmptyFolder => {
                // Fails, leaving it, if anything arrived in it since the check.
                fs::remove_dir(&self.output).map_err(io_err("cannot replace the empty folder", &self.output))?;
                None
            }
            OutputState::OwnFolder => {
                let legacy = format!("legacy-{}", self.run_id);
                let path = self.generations.join(&legacy);
                fs::rename(&self.output, &path).map_err(io_err("cannot move aside", &self.output))?;
                Some(legacy)
            }
        };
        let mut link_name = OsString::from(self.generations.file_name().unwrap_or_default());
        let relative = Path::new(&link_name).join(&self.run_id);
        link_name.push(format!(".link-{}", self.run_id));
        let temporary = in_parent(&self.output, link_name);
        let _ = fs::remove_file(&temporary);
        symlink(&relative, &temporary).map_err(io_err("cannot create link", &temporary))?;
        fs::rename(&temporary, &self.output).map_err(io_err("cannot switch", &self.output))?;
        if let Some(parent) = self.output.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        // Keep the new generation and the one readers may still be in; remove only what
        // zhijian wrote.
        let keep = [Some(self.run_id.clone()), previous];
        let entries = fs::read_dir(&self.generations).map_err(io_err("cannot list", &self.generations))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || keep.iter().flatten().any(|k| *k == name) {
                continue;
            }
            let path = entry.path();
            if is_generation(&path, &name) {
                fs::remove_dir_all(&path).map_err(io_err("cannot remove old generation", &path))?;
            } else {
                tracing::warn!(path = %path.display(), "leaving an entry of the generations folder that zhijian did not write");
            }
        }
        Ok(())
    }
}

impl Drop for Staging {
    /// A run that fails before publishing leaves nothing behind.
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "publishing needs symbolic links (Unix)"))
}

/// Fsyncs every file and folder under `dir`, so a rename publishes data that is on disk.
fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(io_err("cannot list", &dir))?.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else {
                fs::File::open(&path).and_then(|f| f.sync_all()).map_err(io_err("cannot sync", &path))?;
            }
        }
        sync_dir(&dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{partition_year, table_files, write_partition};

    fn manifest(run_id: &str) -> String {
        format!(r#"{{"zhijian_version": "0.1.0", "run_id": "{run_id}", "pipeline_name": "henan-2013"}}"#)
    }

    fn publish_round(output: &Path, run_id: &str, year: i32) {
        let staging = Staging::create(output, run_id).unwrap();
        let schema = zhijian_model::pass_rates_schema();
        write_partition(&staging.table_dir("pass_rates"), Some(year), &schema, &[], &[]).unwrap();
        fs::write(staging.table_dir("_manifest.json"), manifest(run_id)).unwrap();
        staging.publish().unwrap();
        assert_eq!(current_generation(output).as_deref(), Some(run_id));
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    #[test]
    fn publishing_switches_the_whole_set_and_keeps_one_previous_generation() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out");
        // An output folder from before generations: zhijian's manifest says it wrote it.
        fs::create_dir_all(output.join("pass_rates")).unwrap();
        fs::write(output.join("_manifest.json"), manifest("20131001T020000Z-7")).unwrap();
        assert_eq!(check_output(&output).unwrap(), OutputState::OwnFolder);
        publish_round(&output, "r0", 2013);
        assert_eq!(names(&generations_dir(&output)), ["legacy-r0", "r0"], "the old folder is the previous one");
        for round in 1..3 {
            publish_round(&output, &format!("r{round}"), 2013 + round);
        }
        let files = table_files(&output.join("pass_rates")).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(partition_year(&files[0]), Some(2015));
        assert_eq!(names(&generations_dir(&output)), ["r1", "r2"]);
        // A link left by a run killed mid-switch is cleared; a failed run leaves nothing.
        let stray = dir.path().join(".out.generations.link-r9");
        std::os::unix::fs::symlink("nowhere", &stray).unwrap();
        let staging = Staging::create(&output, "r3").unwrap();
        assert!(fs::symlink_metadata(&stray).is_err(), "stray link removed");
        fs::create_dir_all(staging.table_dir("samples")).unwrap();
        drop(staging);
        assert!(!generations_dir(&output).join(".staging-r3").exists());
    }

    #[test]
    fn only_an_absent_path_an_empty_folder_or_a_zhijian_output_is_published_over() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("reports");
        // A folder of someone's files: refused, naming the path and what is there.
        fs::create_dir_all(&output).unwrap();
        fs::write(output.join("notes.txt"), "mine").unwrap();
        let err = Staging::create(&output, "r0").unwrap_err();
        assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains(&format!("`{}`", output.display())) && message.contains("`notes.txt`"), "{message}");
        assert_eq!(fs::read_to_string(output.join("notes.txt")).unwrap(), "mine");
        assert!(!generations_dir(&output).exists(), "nothing written");
        // A file, and a link to somewhere else.
        fs::remove_dir_all(&output).unwrap();
        fs::write(&output, "a file").unwrap();
        assert!(Staging::create(&output, "r0").unwrap_err().to_string().contains("a file"));
        fs::remove_file(&output).unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &output).unwrap();
        assert!(Staging::create(&output, "r0").unwrap_err().to_string().contains("a symbolic link to"));
        fs::remove_file(&output).unwrap();
        // A dot-sibling that is a link would lead removals elsewhere.
        std::os::unix::fs::symlink(&elsewhere, generations_dir(&output)).unwrap();
        assert!(Staging::create(&output, "r0").unwrap_err().to_string().contains(".reports.generations"));
        fs::remove_file(generations_dir(&output)).unwrap();
        // An empty folder becomes the link.
        fs::create_dir_all(&output).unwrap();
        publish_round(&output, "r0", 2013);
        // Someone's folder in the generations is left alone; an old generation named by run
        // id is removed.
        let generations = generations_dir(&output);
        fs::create_dir_all(generations.join("keep-me")).unwrap();
        fs::create_dir_all(generations.join("20131001T020000Z-42")).unwrap();
        publish_round(&output, "r1", 2013);
        publish_round(&output, "r2", 2013);
        assert_eq!(names(&generations), ["keep-me", "r1", "r2"]);
    }

    #[test]
    fn something_put_at_the_output_during_the_run_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("reports");
        let staging = Staging::create(&output, "r0").unwrap();
        fs::create_dir_all(&output).unwrap();
        fs::write(output.join("notes.txt"), "mine").unwrap();
        assert!(matches!(staging.publish(), Err(StoreError::NotOurs { .. })));
        assert_eq!(fs::read_to_string(output.join("notes.txt")).unwrap(), "mine");
    }

    #[test]
    fn run_ids_are_recognised() {
        assert!(is_run_id("20131001T020000Z-42"));
        assert!(!is_run_id("20131001T020000Z-"));
        assert!(!is_run_id("keep-me"));
        assert!(!is_run_id("2013100IT020000Z-42"));
    }
}
