//! Drops (a pipeline file with its inputs), their transformed copies, runs of the test build of
//! zhijian over them, and the baselines: the bundled pipeline and a generated drop, each run
//! once and kept under the temporary folder for every test process of the same binary.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use zhijian_pipeline::{Format, HeaderRow, Pipeline};

use crate::book::Book;
use crate::common::{copy_dir, repo};
use crate::compare::{Report, Tables};
use crate::sheet::Sheet;
use crate::transform::{BookFile, Edit, Env, File, Transformation, toml_list, toml_string};

/// Bumped when a baseline is built differently, so no process reads an older one.
const BASELINE_FORMAT: u32 = 1;

/// A pipeline file and its inputs.
#[derive(Debug, Clone)]
pub(crate) struct Drop {
    pub root: PathBuf,
    /// The pipeline file, relative to `root`.
    pub pipeline: String,
}

/// Runs `zhijian run` over `drop` into `output`, checks skipped (they judge the plan, not the
/// transformation); panics unless it ran.
///
/// The binary is started here rather than through `common::zhijian_in`, which asserts the
/// output invariants right after the run: a transformation's report should say what moved
/// first; [`Baseline::check`] asserts the invariants after comparing.
pub(crate) fn run(drop: &Drop, output: &Path) {
    let result = Command::new(env!("CARGO_BIN_EXE_zhijian"))
        .args(["-q", "run", &drop.pipeline, "--no-checks", "--output"])
        .arg(output)
        .current_dir(&drop.root)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "zhijian run {} in {} exited {:?}:\n{}",
        drop.pipeline,
        drop.root.display(),
        result.status.code(),
        String::from_utf8_lossy(&result.stderr)
    );
}

/// The files of a delimited-text source, sorted.
fn files_of(patterns: &[String]) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> =
        patterns.iter().flat_map(|p| glob::glob(p).unwrap()).map(|p| p.unwrap()).filter(|p| p.is_file()).collect();
    paths.sort();
    paths.dedup();
    paths
}

/// What a transformation changed in a drop, for messages.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// Files whose bytes differ from the same file written again unchanged, or that are new.
    pub files: Vec<String>,
    /// Settings of the pipeline file changed.
    pub edits: Vec<String>,
}

/// A copy of `base` in `root` with every delimited-text source's files rewritten by
/// `transformation`, and every workbook source's too when it [rewrites
/// workbooks](Transformation::rewrites_workbooks) (else they stay as they are), and its pipeline
/// file edited as the transformation asks.
pub(crate) fn transform(env: &Env, base: &Drop, transformation: &dyn Transformation, root: &Path) -> (Drop, Changes) {
    copy_dir(&base.root, root);
    let pipeline_path = base.root.join(&base.pipeline);
    let pipeline = Pipeline::load(&pipeline_path).unwrap();
    let mut text = std::fs::read_to_string(&pipeline_path).unwrap();
    let mut changes = Changes::default();
    for source in &pipeline.sources {
        if matches!(source.format, Format::Excel { .. }) {
            if transformation.rewrites_workbooks() {
                let edits = transform_workbooks(env, base, source, transformation, root, &mut changes);
                text = apply_edits(&text, &edits);
            }
            continue;
        }
        // A header found by `header_row = "auto"` is not rewritten either.
        let Format::Csv { delimiter, header_row: HeaderRow::Fixed(header_row), header_rows } = source.format else {
            continue;
        };
        assert_eq!(header_rows, 1, "source `{}`: a header of several rows is not rewritten", source.name);
        let mut unchanged: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
        let mut files = Vec::new();
        for path in files_of(&source.files) {
            let relative = path.strip_prefix(&base.root).unwrap().to_path_buf();
            let sheet = Sheet::read(&std::fs::read(&path).unwrap(), source.encoding, delimiter, header_row);
            unchanged.insert(relative.clone(), sheet.write());
            files.push(File { path: relative, sheet });
        }
        let rewritten = transformation.apply(env, source, files);
        for path in unchanged.keys() {
            std::fs::remove_file(root.join(path)).unwrap();
        }
        for file in rewritten.files {
            let bytes = file.sheet.write();
            if unchanged.get(&file.path) != Some(&bytes) {
                changes.files.push(file.path.display().to_string());
            }
            std::fs::write(root.join(&file.path), bytes).unwrap();
        }
        for edit in &rewritten.edits {
            changes.edits.push(format!("{edit:?}"));
        }
        text = apply_edits(&text, &rewritten.edits);
    }
    std::fs::write(root.join(&base.pipeline), text).unwrap();
    (Drop { root: root.to_path_buf(), pipeline: base.pipeline.clone() }, changes)
}

/// Rewrites the workbooks of `source` in `root` by `transformation`, each as an `.xlsx`: an
/// `.xls` becomes `name.xlsx`, its source reads `*.xlsx` (each `.xls` pattern gets an `x`) with
/// `[sources.format.xlsx]`. Gives the pipeline edits; a file counts as changed when its cells,
/// merged regions, sheets or date system differ from those of the file it was read from (its
/// new name alone does not count: the conversion shows in the edits).
fn transform_workbooks(
    env: &Env,
    base: &Drop,
    source: &zhijian_pipeline::Source,
    transformation: &dyn Transformation,
    root: &Path,
    changes: &mut Changes,
) -> Vec<Edit> {
    // By the name each file is written under: the original's name and what it held.
    let mut read: BTreeMap<PathBuf, (PathBuf, Book)> = BTreeMap::new();
    let mut files = Vec::new();
    let mut converted = false;
    for path in files_of(&source.files) {
        let original = path.strip_prefix(&base.root).unwrap().to_path_buf();
        let book = Book::read(&std::fs::read(&path).unwrap());
        let mut relative = original.clone();
        if relative.extension().is_some_and(|e| e == "xls") {
            relative.set_extension("xlsx");
            converted = true;
        }
        read.insert(relative.clone(), (original, book.clone()));
        files.push(BookFile { path: relative, book });
    }
    let mut edits = Vec::new();
    if converted {
        edits.push(Edit::AsXlsx { source: source.name.clone() });
    }
    let rewritten = transformation.apply_workbooks(env, source, files);
    for (original, _) in read.values() {
        std::fs::remove_file(root.join(original)).unwrap();
    }
    for file in rewritten.files {
        let unchanged = read.get(&file.path).is_some_and(|(_, book)| *book == file.book);
        if !unchanged {
            changes.files.push(file.path.display().to_string());
        }
        std::fs::write(root.join(&file.path), file.book.write()).unwrap();
    }
    edits.extend(rewritten.edits);
    for edit in &edits {
        changes.edits.push(format!("{edit:?}"));
    }
    edits
}

/// The pipeline text with `edits` made, line by line inside each source's `[[sources]]` table.
fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for edit in edits {
        let source = match edit {
            Edit::AutoEncoding { source }
            | Edit::Aliases { source, .. }
            | Edit::AsXlsx { source }
            | Edit::Sheet { source, .. } => source,
        };
        let named = format!("name = \"{source}\"");
        let starts: Vec<usize> =
            lines.iter().enumerate().filter(|(_, l)| l.trim() == "[[sources]]").map(|(i, _)| i).collect();
        let block = starts
            .iter()
            .map(|&start| {
                let end = starts.iter().copied().find(|&s| s > start).unwrap_or(lines.len());
                (start, end)
            })
            .find(|&(start, end)| lines[start..end].iter().any(|l| l.trim_start().starts_with(&named)))
            .unwrap_or_else(|| panic!("no source `{source}` in the pipeline file"));
        let (start, end) = block;
        let key_of = |line: &str| line.split('=').next().map(|k| k.trim().to_string()).unwrap_or_default();
        match edit {
            Edit::AutoEncoding { .. } => {
                let table_end = (start + 1..end).find(|&i| lines[i].trim_start().starts_with('[')).unwrap_or(end);
                match (start + 1..table_end).find(|&i| key_of(&lines[i]) == "encoding") {
                    Some(i) => lines[i] = "encoding = \"auto\"".to_string(),
                    None => lines.insert(start + 1, "encoding = \"auto\"".to_string()),
                }
            }
            Edit::Aliases { field, aliases, .. } => {
                let columns = (start..end)
                    .find(|&i| lines[i].trim() == "[sources.columns]")
                    .unwrap_or_else(|| panic!("source `{source}` has no [sources.columns]"));
                let table_end = (columns + 1..end).find(|&i| lines[i].trim_start().starts_with('[')).unwrap_or(end);
                let line = format!("{} = {}", field.as_str(), toml_list(aliases));
                match (columns + 1..table_end).find(|&i| key_of(&lines[i]) == field.as_str()) {
                    Some(i) => lines[i] = line,
                    None => lines.insert(columns + 1, line),
                }
            }
            Edit::AsXlsx { .. } => {
                let table_end = (start + 1..end).find(|&i| lines[i].trim_start().starts_with('[')).unwrap_or(end);
                let files = (start + 1..table_end)
                    .find(|&i| key_of(&lines[i]) == "files")
                    .unwrap_or_else(|| panic!("source `{source}` has no `files`"));
                lines[files] = lines[files].replace(".xls\"", ".xlsx\"");
                let format = (start..end)
                    .find(|&i| lines[i].trim() == "[sources.format.xls]")
                    .unwrap_or_else(|| panic!("source `{source}` has no [sources.format.xls]"));
                lines[format] = "[sources.format.xlsx]".to_string();
            }
            Edit::Sheet { sheet, .. } => {
                let format = (start..end)
                    .find(|&i| matches!(lines[i].trim(), "[sources.format.xlsx]" | "[sources.format.xls]"))
                    .unwrap_or_else(|| panic!("source `{source}` has no workbook format table"));
                let table_end = (format + 1..end).find(|&i| lines[i].trim_start().starts_with('[')).unwrap_or(end);
                let line = format!("sheet = {}", toml_string(sheet));
                match (format + 1..table_end).find(|&i| key_of(&lines[i]) == "sheet") {
                    Some(i) => lines[i] = line,
                    None => lines.insert(format + 1, line),
                }
            }
        }
    }
    lines.join("\n") + "\n"
}

/// A drop with the tables of its run.
#[derive(Debug)]
pub(crate) struct Baseline {
    pub name: &'static str,
    pub drop: Drop,
    pub tables: Tables,
}

/// The outcome of one transformation of a baseline.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub report: Report,
    pub changes: Changes,
    pub tables: Tables,
}

impl Baseline {
    /// Transforms the baseline's drop, runs it, and compares its tables with the baseline's.
    ///
    /// With `ZHIJIAN_METAMORPHIC_KEEP` set, the transformed drop and its outputs stay in the
    /// temporary folder, whose path goes to stderr.
    pub(crate) fn check(&self, env: &Env, transformation: &dyn Transformation) -> Outcome {
        let dir = tempfile::tempdir().unwrap();
        let (_guard, dir) = if std::env::var_os("ZHIJIAN_METAMORPHIC_KEEP").is_some() {
            let kept = dir.keep();
            eprintln!("{}: `{}` kept in {}", self.name, transformation.name(), kept.display());
            (None, kept)
        } else {
            let path = dir.path().to_path_buf();
            (Some(dir), path)
        };
        let (drop, changes) = transform(env, &self.drop, transformation, &dir.join("drop"));
        let output = dir.join("out");
        run(&drop, &output);
        let tables = Tables::load(&output, &env.units);
        let report = tables.differences(&self.tables);
        // The transformed run keeps the invariants every published output keeps.
        crate::common::assert_invariants(&output);
        Outcome { report, changes, tables }
    }
}

impl Baseline {
    /// This baseline's drop transformed by `preparation` and run: a baseline with what the
    /// original data lacks. The folder lives as long as the returned guard.
    pub(crate) fn prepared(&self, env: &Env, preparation: &dyn Transformation) -> (tempfile::TempDir, Baseline) {
        let dir = tempfile::tempdir().unwrap();
        let (drop, changes) = transform(env, &self.drop, preparation, &dir.path().join("drop"));
        assert!(!changes.files.is_empty(), "{}: `{}` changed no file", self.name, preparation.name());
        let output = dir.path().join("out");
        run(&drop, &output);
        let tables = Tables::load(&output, &env.units);
        (dir, Baseline { name: self.name, drop, tables })
    }
}

/// Hashes what a baseline depends on: the binary (path, size, modification time), this
/// format, and `parts`.
fn fingerprint(parts: &[&[u8]]) -> u64 {
    let binary = Path::new(env!("CARGO_BIN_EXE_zhijian"));
    let meta = std::fs::metadata(binary).unwrap();
    let mtime = meta.modified().unwrap().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (BASELINE_FORMAT, binary, meta.len(), mtime.as_nanos()).hash(&mut hasher);
    for part in parts {
        part.hash(&mut hasher);
    }
    hasher.finish()
}

/// Every file under `dirs` of the repository, path and bytes, for a fingerprint.
fn tree_bytes(dirs: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| repo().join(d)).collect();
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { stack.push(path) } else { files.push(path) }
        }
    }
    files.sort();
    for path in files {
        out.extend(path.strip_prefix(repo()).unwrap().to_string_lossy().as_bytes());
        out.extend(std::fs::read(&path).unwrap());
    }
    out
}

/// Removes the lock folder when dropped, a panic included.
struct Lock(PathBuf);

impl std::ops::Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The folder `name-<fingerprint>` under the temporary folder, made once by `build` (into a
/// fresh folder that is renamed into place when complete) by whichever test process gets
/// there first; the others wait for it.
fn cached(name: &str, fingerprint: u64, build: impl FnOnce(&Path)) -> PathBuf {
    let parent = std::env::temp_dir().join("zhijian-metamorphic");
    std::fs::create_dir_all(&parent).unwrap();
    let dir = parent.join(format!("{name}-{fingerprint:016x}"));
    let ready = |dir: &Path| dir.join("READY").is_file();
    if ready(&dir) {
        return dir;
    }
    let lock_path = parent.join(format!("{name}-{fingerprint:016x}.lock"));
    let started = std::time::Instant::now();
    let _lock = loop {
        match std::fs::create_dir(&lock_path) {
            Ok(()) => break Lock(lock_path.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if ready(&dir) {
                    return dir;
                }
                // A process killed while building leaves its lock: taken over after a while.
                let age = std::fs::metadata(&lock_path).and_then(|m| m.modified()).ok().and_then(|m| m.elapsed().ok());
                if age.is_some_and(|a| a > Duration::from_secs(900)) {
                    let _ = std::fs::remove_dir(&lock_path);
                }
                assert!(started.elapsed() < Duration::from_secs(1800), "waited 30 minutes for {}", lock_path.display());
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(e) => panic!("{}: {e}", lock_path.display()),
        }
    };
    if ready(&dir) {
        return dir;
    }
    prune(&parent, name);
    let _ = std::fs::remove_dir_all(&dir);
    let building = parent.join(format!("{name}-{fingerprint:016x}.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(&building).unwrap();
    build(&building);
    std::fs::write(building.join("READY"), "").unwrap();
    std::fs::rename(&building, &dir).unwrap();
    dir
}

/// Removes older baselines: those of `name` (made by an earlier build of the binary) after an
/// hour, when no test run still reads them, and any other after two days.
fn prune(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|m| m.elapsed().ok());
        let same = entry.file_name().to_string_lossy().starts_with(&format!("{name}-"));
        let limit = Duration::from_secs(if same { 3_600 } else { 2 * 86_400 });
        if age.is_some_and(|age| age > limit) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The bundled pipeline with its sample data, and its run.
pub(crate) fn bundled(env: &Env) -> Baseline {
    let key = fingerprint(&[&tree_bytes(&["pipelines", "seeds", "sample-data"])]);
    let dir = cached("bundled", key, |dir| {
        for folder in ["pipelines", "seeds", "sample-data"] {
            copy_dir(&repo().join(folder), &dir.join("drop").join(folder));
        }
        let drop = Drop { root: dir.join("drop"), pipeline: "pipelines/henan-2013.toml".into() };
        run(&drop, &dir.join("out"));
    });
    let drop = Drop { root: dir.join("drop"), pipeline: "pipelines/henan-2013.toml".into() };
    Baseline { name: "bundled", drop, tables: Tables::load(&dir.join("out"), &env.units) }
}

/// `zhijian generate` options of the generated baseline: 20,000 samples over all six
/// programmes, several files per large source, one sample in a hundred with a delivery mistake.
const GENERATE: &[&str] = &["--samples", "20000", "--seed", "11", "--rows-per-file", "8000", "--mess-rate", "0.01"];

/// A generated drop of 20,000 samples, and its run.
pub(crate) fn generated(env: &Env) -> Baseline {
    let key = fingerprint(&[GENERATE.join(" ").as_bytes(), &tree_bytes(&["seeds"])]);
    let dir = cached("generated", key, |dir| {
        let seeds = repo().join("seeds");
        let result = Command::new(env!("CARGO_BIN_EXE_zhijian"))
            .arg("generate")
            .args(GENERATE)
            .arg("--seeds")
            .arg(&seeds)
            .arg("--out")
            .arg(dir.join("drop"))
            .output()
            .unwrap();
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        let drop = Drop { root: dir.join("drop"), pipeline: "pipeline.toml".into() };
        run(&drop, &dir.join("out"));
    });
    let drop = Drop { root: dir.join("drop"), pipeline: "pipeline.toml".into() };
    Baseline { name: "generated", drop, tables: Tables::load(&dir.join("out"), &env.units) }
}

#[test]
fn pipeline_edits_stay_inside_their_source() {
    use zhijian_pipeline::Field;
    let text = "[[sources]]\nname = \"a\"\nencoding = \"utf-8\"   # note\n[sources.columns]\ncity = \"所在市\"\n\n\
                [[sources]]\nname = \"b\"\n[sources.columns]\ncity = \"所在市\"\n";
    let edits = [
        Edit::AutoEncoding { source: "a".into() },
        Edit::AutoEncoding { source: "b".into() },
        Edit::Aliases { source: "b".into(), field: Field::City, aliases: vec!["所在市".into(), "地市".into()] },
    ];
    assert_eq!(
        apply_edits(text, &edits),
        "[[sources]]\nname = \"a\"\nencoding = \"auto\"\n[sources.columns]\ncity = \"所在市\"\n\n\
         [[sources]]\nencoding = \"auto\"\nname = \"b\"\n[sources.columns]\ncity = [\"所在市\", \"地市\"]\n"
    );
}

#[test]
fn workbook_edits_stay_inside_their_source() {
    let text = "[[sources]]\nname = \"a\"\nfiles = [\"../d/*.xls\", \"../e/*.xlsx\"]\n\n[sources.format.xls]\n\
                header_row = 2\n\n[sources.columns]\ncity = \"所在市\"\n\n[[sources]]\nname = \"b\"\nfiles = \"*.xls\"\n\
                [sources.format.xlsx]\nsheet = \"例行监测\"   # the data\nheader_row = 3\n";
    let edits = [
        Edit::AsXlsx { source: "a".into() },
        Edit::Sheet { source: "a".into(), sheet: "监督抽查".into() },
        Edit::Sheet { source: "b".into(), sheet: "例行监测\"".into() },
    ];
    assert_eq!(
        apply_edits(text, &edits),
        "[[sources]]\nname = \"a\"\nfiles = [\"../d/*.xlsx\", \"../e/*.xlsx\"]\n\n[sources.format.xlsx]\n\
         sheet = \"监督抽查\"\nheader_row = 2\n\n[sources.columns]\ncity = \"所在市\"\n\n[[sources]]\nname = \"b\"\n\
         files = \"*.xls\"\n[sources.format.xlsx]\nsheet = \"例行监测\\\"\"\nheader_row = 3\n"
    );
}
