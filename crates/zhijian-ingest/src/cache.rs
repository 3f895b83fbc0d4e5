//! The cache of parsed files: what an entry holds and is keyed by, when an entry may be used,
//! and pruning the entries a run did not use. The rows files' layout is in the `spill` module.

use std::path::{Path, PathBuf};

use crate::read::ColumnIndex;
use crate::skipped::SkippedRows;
use crate::spill;

/// Parsed files kept between runs, so a nightly run parses only new or changed files.
///
/// An entry holds one file's normalised rows and rejects, keyed by everything they depend on:
/// the file's bytes and name, the source's definition, and `fingerprint` (zhijian's version,
/// the as-of date, the seeds' bytes). Any change to those parses the file again. Entries are
/// written whole (a temporary file renamed into place), so a killed run leaves only complete
/// ones; [`prune_cache`] removes those the latest run did not use.
#[derive(Debug, Clone)]
pub struct FileCache {
    /// The folder of the entries.
    pub dir: PathBuf,
    /// Use entries (false for a full refresh, which still writes them).
    pub read: bool,
    /// What every entry depends on besides its file and source.
    pub fingerprint: String,
}

/// What a cache entry holds besides its rows, in postcard's binary form (exact for every float,
/// unlike a JSON round trip). The rows are in further files, one per table read (the file's,
/// or each worksheet's), one frame per record.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct EntryHead {
    pub(crate) encoding: String,
    pub(crate) replacements: u64,
    /// One per table read, in order.
    pub(crate) parts: Vec<PartHead>,
    /// Worksheets of a workbook that `sheet = "*"` did not read, with why.
    pub(crate) skipped_sheets: Vec<(String, String)>,
    /// The boot of the machine (Linux's boot id) in which the rows files were written or last
    /// checked whole; see [`needs_check`].
    pub(crate) checked_in_boot: Option<String>,
}

/// Whether an entry's rows files must be checked whole (length, frames, CRC-32) before use.
///
/// They are not synced when written (see the `spill` module), so only a power loss or a
/// kernel crash can leave one on disk short of what was written, and either starts a new boot:
/// within the boot that wrote (or last checked) them the kernel returns exactly the bytes
/// written, and their length is checked. Without a boot id (not Linux) they are always checked.
pub(crate) fn needs_check(head: &EntryHead) -> bool {
    match (current_boot(), &head.checked_in_boot) {
        (Some(now), Some(then)) => now != then,
        _ => true,
    }
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`), read once.
pub(crate) fn current_boot() -> Option<&'static str> {
    static BOOT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    BOOT.get_or_init(|| {
        // The tests of damaged entries play a reboot; debug builds only.
        #[cfg(debug_assertions)]
        if let Some(id) = std::env::var_os("ZHIJIAN_TEST_BOOT_ID") {
            return Some(id.to_string_lossy().into_owned());
        }
        let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let id = id.trim();
        (!id.is_empty()).then(|| id.to_string())
    })
    .as_deref()
}

/// One table of a cache entry: a file's, or a worksheet's.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct PartHead {
    pub(crate) sheet: Option<String>,
    pub(crate) header_line: u64,
    pub(crate) rows_read: u64,
    pub(crate) rows_blank: u64,
    pub(crate) rows_totals: u64,
    pub(crate) skipped_rows: Vec<SkippedRows>,
    pub(crate) columns: ColumnIndex,
    /// What the rows file must hold, checked before the entry is used, and where its
    /// partitions are.
    pub(crate) rows: spill::RowsIndex,
}

/// The rows file of part `index` of the cache entry `key`: `KEY.rows`, `KEY.1.rows`, …
/// ([`prune_cache`] keeps every file of a used key).
pub(crate) fn rows_path(dir: &Path, key: &str, index: usize) -> PathBuf {
    match index {
        0 => dir.join(format!("{key}.rows")),
        _ => dir.join(format!("{key}.{index}.rows")),
    }
}

/// The head of cache entry `key` when the entry can be used: it reads, and its rows files
/// pass their check (see [`needs_check`]); else `None`, with a warning for an entry
/// that is there but damaged.
pub(crate) fn usable_entry(cache: &FileCache, key: &str, name: &str) -> Option<EntryHead> {
    let head_path = cache.dir.join(format!("{key}.head"));
    let bytes = std::fs::read(&head_path).ok()?;
    let mut head = match postcard::from_bytes::<EntryHead>(&bytes) {
        Ok(head) => head,
        Err(err) => {
            tracing::warn!(
                file = %name, entry = %head_path.display(), %err,
                "an unreadable cache entry: parsing the file again"
            );
            return None;
        }
    };
    let whole = needs_check(&head);
    let verified = head.parts.iter().enumerate().try_for_each(|(index, part)| {
        let rows = rows_path(&cache.dir, key, index);
        if whole { spill::verify(&rows, &part.rows) } else { spill::verify_length(&rows, &part.rows) }
            .map_err(|why| (rows, why))
    });
    if let Err((rows, why)) = verified {
        tracing::warn!(
            file = %name, entry = %rows.display(), %why,
            "a damaged cache entry (a crash or a full disk while it was written): parsing the file again"
        );
        return None;
    }
    tracing::debug!(file = %name, checked = whole, "rows from the cache");
    if whole && let Some(boot) = current_boot() {
        // Checked whole in this boot: the next runs of the boot check lengths.
        head.checked_in_boot = Some(boot.to_string());
        if let Ok(encoded) = postcard::to_stdvec(&head) {
            let _ = zhijian_store::write_atomic(&head_path, &encoded);
        }
    }
    Some(head)
}

/// Makes the entry a rows file belongs to unusable, by removing its head: the next run parses
/// its file again (and [`prune_cache`] removes the rest).
pub(crate) fn discard_entry(rows: &Path) {
    let key = rows.file_name().and_then(|n| n.to_str()).and_then(cache_file_key);
    if let (Some(key), Some(dir)) = (key, rows.parent()) {
        let _ = std::fs::remove_file(dir.join(format!("{key}.head")));
    }
}

/// Removes the cache entries whose keys `used` does not hold, and any spill folder a killed
/// run left; returns how many. Only files named as zhijian names them are touched
/// ([`cache_file_key`]), and the record of the inputs' hashes (`inputs.seen`) is kept:
/// anything else someone put in the folder stays, with a warning.
pub fn prune_cache(dir: &Path, used: &[String]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && name.starts_with(SPILL_PREFIX) {
            if std::fs::remove_dir_all(entry.path()).is_ok() {
                removed += 1;
            }
            continue;
        }
        if !is_dir && (name == crate::seen::SEEN_FILE || name == format!(".{}.tmp", crate::seen::SEEN_FILE)) {
            continue;
        }
        match cache_file_key(&name) {
            Some(key) if !is_dir => {
                if !used.iter().any(|u| u == key) && std::fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                }
            }
            _ => tracing::warn!(
                path = %entry.path().display(),
                "not a file zhijian writes in its cache folder: left alone"
            ),
        }
    }
    removed
}

/// The key of a file named as zhijian names the files of a cache entry — `KEY.head`,
/// `KEY.rows`, `KEY.N.rows`, their temporaries `.KEY.head.tmp`, `.KEY.rows.tmp` and
/// `.KEY.N.rows.tmp` (and `KEY.tmp-PID`, `KEY.N.tmp-PID`, as earlier versions named them),
/// with `KEY` 64 lowercase hex digits — else `None`.
pub fn cache_file_key(name: &str) -> Option<&str> {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (hidden, name) = match name.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, name),
    };
    let (key, rest) = name.split_at_checked(64)?;
    if !key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let rest = rest.strip_prefix('.')?;
    let ok = if hidden {
        // A part number `N.` comes before `rows` only.
        let rows = |tail: &str| tail == "rows.tmp";
        rest == "head.tmp" || rows(rest) || rest.split_once('.').is_some_and(|(n, tail)| digits(n) && rows(tail))
    } else {
        // A part number `N.` comes before `rows` and `tmp-PID` only.
        let (part, tail) = match rest.split_once('.') {
            Some((n, tail)) if digits(n) => (true, tail),
            _ => (false, rest),
        };
        (tail == "head" && !part) || tail == "rows" || tail.strip_prefix("tmp-").is_some_and(digits)
    };
    ok.then_some(key)
}

/// Folders of bucketed rows that a killed run of an earlier version left in the cache folder
/// (rows are no longer copied into buckets).
pub(crate) const SPILL_PREFIX: &str = ".spill-";

/// The layout of cache entries (see the `spill` module); part of every key, so entries of
/// another layout are never read.
pub(crate) const CACHE_FORMAT: &str = "zhijian-cache-7";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_pruned_of_its_own_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let (used, stale) = ("a".repeat(64), "b".repeat(64));
        let names = [
            format!("{used}.head"),
            format!("{used}.rows"),
            format!("{used}.1.rows"),
            format!("{stale}.head"),
            format!("{stale}.rows"),
            format!("{stale}.2.rows"),
            format!("{stale}.tmp-4242"),
            format!("{stale}.1.tmp-4242"),
            format!(".{stale}.head.tmp"),
            format!(".{stale}.rows.tmp"),
            format!(".{stale}.3.rows.tmp"),
            // Not zhijian's: left alone.
            "notes.txt".to_string(),
            format!(".{stale}.x.rows.tmp"),
            format!("{}.head", "B".repeat(64)),
            format!("{stale}.csv"),
            format!("{stale}.head.bak"),
            format!(".{stale}.rows"),
            "abc.head".to_string(),
        ];
        for name in &names {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join(format!("{SPILL_PREFIX}123"))).unwrap();
        std::fs::create_dir(dir.path().join("photos")).unwrap();
        assert_eq!(prune_cache(dir.path(), std::slice::from_ref(&used)), 9);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        let mut want: Vec<String> = names[..3].iter().chain(&names[11..]).cloned().collect();
        want.push("photos".to_string());
        want.sort();
        assert_eq!(left, want);
    }
}
