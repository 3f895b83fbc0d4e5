//! Segments: how a source's output is cut so that a night with few new or changed files
//! writes few output files again.
//!
//! A source's files are dealt into `2^k` groups by a hash of their name, `2^k` being the
//! source's bucket count ([`spill::buckets_for`]): with small files a group holds about a
//! batch of records, and a file too large for a batch is a group that is assembled in buckets
//! of its own. A **segment** is the output of one group: the samples whose first delivery is
//! one of its files (its *home* files), with every row of those samples, also rows delivered
//! by files of other groups (*borrowed*: found from the sample keys each cache entry lists,
//! without reading rows), and the rejects of its home files. Each segment has files of its
//! own in every table (`part-SS-GGGG-NNNNN.parquet`: source, group, part).
//!
//! A segment's bytes depend on nothing but the cache entries of its home and borrowed files
//! (which are keyed by the files' bytes and names, the source's definition, the seeds, the
//! as-of date and zhijian's version), the source's place in the pipeline, the group count and
//! `--batch-rows`. Its fingerprint hashes exactly those; a run whose segment has the
//! fingerprint of one the previous run published links that segment's files into the new
//! generation instead of writing them (see [`link`]), and the manifest says so.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use zhijian_store::manifest::{SegmentEntry, SegmentFile};

use crate::inputs::{ReadFile, hex};
use crate::{IngestError, spill};

/// The layout of segments; part of every fingerprint, so a change to how segments are cut or
/// written never reuses files cut the old way.
const SEGMENT_FORMAT: &str = "zhijian-segments-1";

/// Groups per batch of records: a group holds about a quarter of `--batch-rows` records when
/// its files are small, so a changed file costs a night about that many records written again,
/// and a segment's files still hold thousands of samples.
const GROUPS_PER_BATCH: usize = 4;

/// One segment of a source, planned by [`plan`].
#[derive(Debug)]
pub(crate) struct Segment {
    /// The source's index in the pipeline.
    pub(crate) source: usize,
    /// The group, of `groups`.
    pub(crate) group: u32,
    pub(crate) groups: u32,
    /// Its home files, as indices into the source's files, in path order.
    pub(crate) home: Vec<usize>,
    /// Files of other groups sharing a sample with a home file, in path order.
    pub(crate) borrowed: Vec<usize>,
    /// The keys of the samples the borrowed files share with the home files: only their rows
    /// are read from a borrowed file.
    pub(crate) shared: HashSet<u64>,
    /// Buckets it is assembled in (a power of two).
    pub(crate) buckets: usize,
    /// SHA-256 of everything its bytes depend on, hex.
    pub(crate) fingerprint: String,
    /// SHA-256 over its inputs' names and hashes, for the files' metadata.
    pub(crate) inputs_sha256: String,
}

impl Segment {
    /// The name its files start with: `part-SS-GGGG`.
    pub(crate) fn stem(&self) -> String {
        format!("part-{:02}-{:04}", self.source, self.group)
    }
}

/// The group of a file among `groups` (a power of two): the top bits of a hash of its name,
/// the same on every machine.
fn group_of(name: &str, groups: u32) -> u32 {
    if groups <= 1 {
        return 0;
    }
    (spill::fnv1a(name.as_bytes()) >> (64 - groups.trailing_zeros())) as u32
}

/// The segments of every source, in source and group order.
pub(crate) fn plan(sources: &[Vec<ReadFile>], batch_rows: usize) -> Vec<Segment> {
    let mut segments = Vec::new();
    for (source, files) in sources.iter().enumerate() {
        let total: u64 = files.iter().map(|f| f.rows.frames).sum();
        let groups = spill::buckets_for(total, batch_rows.div_ceil(GROUPS_PER_BATCH)) as u32;
        let group: Vec<u32> = files.iter().map(|f| group_of(&f.report.path, groups)).collect();
        let mut members: std::collections::BTreeMap<u32, Vec<usize>> = std::collections::BTreeMap::new();
        for (index, &g) in group.iter().enumerate() {
            members.entry(g).or_default().push(index);
        }
        let lent = if members.len() > 1 { shared_samples(files, &group) } else { HashMap::new() };
        for (g, home) in members {
            let (borrowed, shared) = match lent.get(&g) {
                Some(lent) => {
                    let mut borrowed: Vec<usize> = lent.files.iter().copied().collect();
                    borrowed.sort_unstable();
                    (borrowed, lent.keys.clone())
                }
                None => (Vec::new(), HashSet::new()),
            };
            let records: u64 = home.iter().map(|&i| files[i].rows.frames).sum();
            let buckets = spill::buckets_for(records, batch_rows);
            let mut hasher = Sha256::new();
            let mut line = |text: &str| {
                hasher.update(text.as_bytes());
                hasher.update(b"\n");
            };
            line(SEGMENT_FORMAT);
            line(zhijian_model::SCHEMA_VERSION);
            line(&format!("source {source} group {g} of {groups}, {buckets} buckets, batches of {batch_rows}"));
            for (role, list) in [("home", &home), ("borrowed", &borrowed)] {
                for &i in list {
                    line(&format!("{role} {}", files[i].entry_name()));
                }
            }
            let fingerprint = hex(&hasher.finalize());
            let mut inputs = Sha256::new();
            for &i in home.iter().chain(&borrowed) {
                inputs.update(files[i].report.path.as_bytes());
                inputs.update(b"\0");
                inputs.update(files[i].report.sha256.as_bytes());
                inputs.update(b"\n");
            }
            segments.push(Segment {
                source,
                group: g,
                groups,
                home,
                borrowed,
                shared,
                buckets,
                fingerprint,
                inputs_sha256: hex(&inputs.finalize()),
            });
        }
    }
    segments
}

/// What other groups' files lend one group: the files, and the keys of the samples shared.
#[derive(Default)]
struct Lent {
    files: HashSet<usize>,
    keys: HashSet<u64>,
}

/// Per group, the files of other groups that share a sample with one of its files.
fn shared_samples(files: &[ReadFile], group: &[u32]) -> HashMap<u32, Lent> {
    let mut first: HashMap<u64, usize> = HashMap::with_capacity(files.iter().map(|f| f.rows.samples.len()).sum());
    let mut shared: Vec<(u64, usize)> = Vec::new();
    for (index, file) in files.iter().enumerate() {
        for &key in &file.rows.samples {
            match first.entry(key) {
                std::collections::hash_map::Entry::Vacant(vacant) => {
                    vacant.insert(index);
                }
                std::collections::hash_map::Entry::Occupied(seen) => {
                    shared.push((key, *seen.get()));
                    shared.push((key, index));
                }
            }
        }
    }
    shared.sort_unstable();
    shared.dedup();
    let mut lent: HashMap<u32, Lent> = HashMap::new();
    for run in shared.chunk_by(|a, b| a.0 == b.0) {
        for &(key, a) in run {
            for &(_, b) in run {
                if group[a] != group[b] {
                    let entry = lent.entry(group[a]).or_default();
                    entry.files.insert(b);
                    entry.keys.insert(key);
                }
            }
        }
    }
    lent
}

/// The published output a run may reuse segments of: its folder and its manifest's segments.
#[derive(Debug, Clone, Default)]
pub struct PreviousOutput {
    /// The folder (the output path, through its link).
    pub dir: PathBuf,
    /// Its manifest's segments.
    pub segments: Vec<SegmentEntry>,
}

/// A path a manifest gives for a segment's file, checked: relative, only plain names, inside
/// its table's folder, a Parquet file. Anything else is never linked.
fn checked_relative(file: &SegmentFile) -> Option<&Path> {
    let path = Path::new(&file.path);
    let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
    let in_table = path.components().next().is_some_and(|c| c.as_os_str() == file.table.as_str());
    (plain && in_table && file.path.ends_with(".parquet")).then_some(path)
}

/// Links `entry`'s files from the previous output into `root` (copies them where the file
/// system has no hard links). `false`, with nothing linked, when a file is missing, is not a
/// plain file of the size listed, or has a path outside its table: the segment is written
/// again.
pub(crate) fn link(previous: &PreviousOutput, entry: &SegmentEntry, root: &Path) -> Result<bool, IngestError> {
    let mut pairs = Vec::with_capacity(entry.files.len());
    for file in &entry.files {
        let Some(relative) = checked_relative(file) else {
            tracing::warn!(path = %file.path, "a segment file of the previous manifest is outside its table: written again");
            return Ok(false);
        };
        let from = previous.dir.join(relative);
        match std::fs::symlink_metadata(&from) {
            Ok(meta) if meta.is_file() && meta.len() == file.bytes => {}
            _ => {
                tracing::warn!(path = %from.display(), "a segment file of the previous run is missing or changed: written again");
                return Ok(false);
            }
        }
        pairs.push((from, root.join(relative)));
    }
    for (from, to) in pairs {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|source| IngestError::Io { path: parent.to_path_buf(), source })?;
        }
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).map_err(|source| IngestError::Io { path: from.clone(), source })?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_follow_the_name_and_the_count_only() {
        assert_eq!(group_of("a.csv", 1), 0);
        for groups in [2, 4, 64, 1024] {
            let names: Vec<String> = (0..500).map(|i| format!("drop/food-{i:03}.csv")).collect();
            let mut used = HashSet::new();
            for name in &names {
                let g = group_of(name, groups);
                assert!(g < groups);
                assert_eq!(g, group_of(name, groups), "stable");
                used.insert(g);
            }
            // 500 names fill small group counts and spread over large ones.
            assert!(used.len() as u32 >= groups.min(500) / 2, "{groups}: {}", used.len());
        }
    }

    #[test]
    fn only_plain_paths_inside_their_table_are_linked() {
        let file = |table: &str, path: &str| SegmentFile { table: table.into(), path: path.into(), rows: 0, bytes: 0 };
        assert!(checked_relative(&file("samples", "samples/year=2013/part-00-0000-00000.parquet")).is_some());
        for (table, path) in [
            ("samples", "/etc/passwd.parquet"),
            ("samples", "samples/../../x.parquet"),
            ("samples", "results/year=2013/a.parquet"),
            ("samples", "samples/year=2013/a.txt"),
            ("samples", "./samples/a.parquet"),
        ] {
            assert!(checked_relative(&file(table, path)).is_none(), "{path}");
        }
    }
}
