//! The inputs as the last run found them: each file's SHA-256 beside what the file system
//! changes with every write to it, so a night does not read every unchanged file again only
//! to hash it (as git's index and DVC's state do).
//!
//! A file's hash is taken from here when its device, inode, size, modification time and
//! status-change time are those recorded, and both times were at least [`SETTLED`] older than
//! the moment they were recorded: a write always moves the status-change time (no tool sets it
//! back), and the margin covers file systems whose clocks are coarse. Anything else, and every
//! run with `--full-refresh`, reads and hashes the file. Only Unix gives these numbers;
//! elsewhere every file is hashed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The file of the cache folder that holds the record.
pub(crate) const SEEN_FILE: &str = "inputs.seen";

/// How long a file must have been left alone, when recorded, for its record to be used.
const SETTLED_NS: i128 = 2_000_000_000;

/// What the file system says of a file, to tell that it was not written since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Stat {
    device: u64,
    inode: u64,
    pub(crate) size: u64,
    modified_ns: i128,
    changed_ns: i128,
}

impl Stat {
    /// The file's numbers now; `None` where the platform has no inode and status-change time.
    #[cfg(unix)]
    pub(crate) fn of(path: &Path) -> Option<Stat> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        let ns = |seconds: i64, nanos: i64| i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
        Some(Stat {
            device: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            modified_ns: ns(meta.mtime(), meta.mtime_nsec()),
            changed_ns: ns(meta.ctime(), meta.ctime_nsec()),
        })
    }

    #[cfg(not(unix))]
    pub(crate) fn of(_path: &Path) -> Option<Stat> {
        None
    }
}

/// One file as a run found it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Seen {
    path: PathBuf,
    stat: Stat,
    /// When `stat` was taken, in nanoseconds since the epoch.
    at_ns: i128,
    sha256: String,
}

/// The previous run's record, and this run's as it grows; one per run.
#[derive(Debug, Default)]
pub(crate) struct SeenFiles {
    known: HashMap<PathBuf, Seen>,
    now: Mutex<Vec<Seen>>,
}

fn now_ns() -> i128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128)
}

impl SeenFiles {
    /// The record in `dir`, unless `use_it` is false (a full refresh) or there is none that
    /// reads.
    pub(crate) fn load(dir: &Path, use_it: bool) -> SeenFiles {
        let known = use_it
            .then(|| std::fs::read(dir.join(SEEN_FILE)).ok())
            .flatten()
            .and_then(|bytes| postcard::from_bytes::<Vec<Seen>>(&bytes).ok())
            .unwrap_or_default();
        SeenFiles { known: known.into_iter().map(|seen| (seen.path.clone(), seen)).collect(), now: Mutex::default() }
    }

    /// The hash of `path` if it was not written since the previous run hashed it.
    pub(crate) fn hash_of(&self, path: &Path, stat: Option<&Stat>) -> Option<&str> {
        let seen = self.known.get(path)?;
        let settled =
            seen.stat.modified_ns <= seen.at_ns - SETTLED_NS && seen.stat.changed_ns <= seen.at_ns - SETTLED_NS;
        (settled && Some(&seen.stat) == stat).then_some(seen.sha256.as_str())
    }

    /// Notes that `path`, as `stat` (taken at `at_ns`, before it was read) says, hashes to
    /// `sha256` — if it still says so, so a file written meanwhile is not recorded.
    pub(crate) fn record(&self, path: &Path, stat: Option<Stat>, at_ns: i128, sha256: &str) {
        let Some(stat) = stat else { return };
        if Stat::of(path) != Some(stat) {
            return;
        }
        let seen = Seen { path: path.to_path_buf(), stat, at_ns, sha256: sha256.to_string() };
        self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(seen);
    }

    /// A stat of `path` and when it was taken, for [`Self::record`].
    pub(crate) fn stat(path: &Path) -> (Option<Stat>, i128) {
        let at = now_ns();
        (Stat::of(path), at)
    }

    /// Writes this run's record (its files only) into `dir`; a failure only costs the next run
    /// its hashing.
    pub(crate) fn save(self, dir: &Path) {
        let mut now = self.now.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        now.sort_by(|a, b| a.path.cmp(&b.path));
        if let Ok(bytes) = postcard::to_stdvec(&now) {
            let _ = zhijian_store::write_atomic(&dir.join(SEEN_FILE), &bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_record_is_used_only_for_a_settled_file_not_written_since() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.csv");
        std::fs::write(&file, "a,b\n1,2\n").unwrap();
        let (stat, _) = SeenFiles::stat(&file);
        // Recorded three seconds after its last write: settled.
        let later = stat.unwrap().changed_ns.max(stat.unwrap().modified_ns) + 3_000_000_000;
        let seen = SeenFiles::default();
        seen.record(&file, stat, later, "abc");
        seen.save(dir.path());
        let loaded = SeenFiles::load(dir.path(), true);
        assert_eq!(loaded.hash_of(&file, Stat::of(&file).as_ref()), Some("abc"));
        assert_eq!(SeenFiles::load(dir.path(), false).hash_of(&file, Stat::of(&file).as_ref()), None);
        // Recorded right after its write: not settled, not used.
        let fresh = SeenFiles::default();
        fresh.record(&file, stat, stat.unwrap().changed_ns, "abc");
        fresh.save(dir.path());
        assert_eq!(SeenFiles::load(dir.path(), true).hash_of(&file, Stat::of(&file).as_ref()), None);
        // Written since, even to the same size with its modification time set back: the
        // status-change time moved.
        seen_again(&file, stat.unwrap(), later);
        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, "a,b\n1,3\n").unwrap();
        std::fs::File::options().write(true).open(&file).unwrap().set_modified(modified).unwrap();
        assert_eq!(Stat::of(&file).unwrap().size, stat.unwrap().size);
        assert_eq!(SeenFiles::load(dir.path(), true).hash_of(&file, Stat::of(&file).as_ref()), None);
    }

    #[cfg(unix)]
    fn seen_again(file: &Path, stat: Stat, at: i128) {
        let seen = SeenFiles::default();
        seen.record(file, Some(stat), at, "abc");
        seen.save(file.parent().unwrap());
    }
}
