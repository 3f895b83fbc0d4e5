//! One run at a time per output: [`RunLock`].
//!
//! The lock is the operating system's (`flock` on Unix, through [`std::fs::File::try_lock`]) on
//! the file `.NAME.lock` beside the output, held for the run's life. The kernel releases it
//! when the process ends however it ends, so a killed run never blocks the next one, and two
//! runs started together cannot both hold it. The pid and start time written into the file are
//! only for the message the second run prints; nothing is decided by them.

use std::fs;
use std::io::{self, Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use crate::{StoreError, io_err, sibling_path};

/// The lock of one output, held until dropped.
///
/// Dropping it removes the lock file and then releases the lock, in that order: a run that
/// opened the file meanwhile and gets the lock afterwards finds the path no longer leads to the
/// file it locked, and tries again on a new one.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    file: fs::File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live run holds it.
    #[error(
        "another zhijian run is writing `{}`: {} (lock `{}`)",
        output.display(),
        describe_owner(*pid, started.as_deref()),
        path.display()
    )]
    Held {
        /// The output.
        output: PathBuf,
        /// The lock file.
        path: PathBuf,
        /// The owner's pid, once it has written it.
        pid: Option<u32>,
        /// When it started, once it has written it.
        started: Option<String>,
    },
    /// The lock file could not be opened, locked or written.
    #[error(transparent)]
    Io(#[from] StoreError),
}

fn describe_owner(pid: Option<u32>, started: Option<&str>) -> String {
    match (pid, started) {
        (Some(pid), Some(started)) => format!("pid {pid}, started {started}"),
        (Some(pid), None) => format!("pid {pid}"),
        // The holder locks the file before it writes its pid: it has only just started.
        _ => "a run that has only just started".to_string(),
    }
}

/// Attempts to lock a file whose holder removed it meanwhile, before giving up. Each attempt
/// that fails this way means another run took and released the lock in between.
const ATTEMPTS: usize = 16;

/// The lock file of `output`: `.NAME.lock` beside it.
pub fn lock_path(output: &Path) -> PathBuf {
    sibling_path(output, "lock")
}

impl RunLock {
    /// Takes the lock of `output`, or fails at once if another run holds it. A lock file left
    /// by a run that is gone (killed, or its machine restarted) is not locked by anyone: it is
    /// taken over, with a warning naming the run that left it. `started` is written into the
    /// file for the message a second run gets.
    pub fn acquire(output: &Path, started: &str) -> Result<RunLock, LockError> {
        let path = lock_path(output);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| LockError::Io(io_err("cannot create", parent)(e)))?;
        }
        for _ in 0..ATTEMPTS {
            let mut file = open_lock_file(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    // The holder writes its pid just after it locks: over a stale lock the file
                    // may still name the run that left it, or be empty for a moment. What two
                    // reads 20 ms apart agree on is the holder's.
                    let mut text = read_all(&mut file).unwrap_or_default();
                    for _ in 0..5 {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        let again = read_all(&mut file).unwrap_or_default();
                        if again == text {
                            break;
                        }
                        text = again;
                    }
                    let (pid, started) = owner(&text);
                    return Err(LockError::Held { output: output.to_path_buf(), path, pid, started });
                }
                Err(fs::TryLockError::Error(err)) => return Err(LockError::Io(io_err("cannot lock", &path)(err))),
            }
            if !still_at(&file, &path) {
                continue;
            }
            let previous = read_all(&mut file).map_err(|e| LockError::Io(io_err("cannot read", &path)(e)))?;
            if let (Some(pid), started) = owner(&previous) {
                tracing::warn!(
                    lock = %path.display(), pid, started = started.as_deref().unwrap_or(""),
                    "taking over a stale lock: the run that left it is gone"
                );
            }
            let body = format!("pid={}\nstarted={started}\n", std::process::id());
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(body.as_bytes()))
                .and_then(|()| file.sync_all())
                .map_err(|e| LockError::Io(io_err("cannot write", &path)(e)))?;
            return Ok(RunLock { path, file });
        }
        Err(LockError::Io(StoreError::Io {
            action: "cannot take the lock",
            path,
            source: io::Error::other("other runs kept taking and releasing it"),
        }))
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Opens (or creates) the lock file without following a symbolic link: a link planted at
/// the lock's path must not make zhijian create or truncate a file elsewhere.
fn open_lock_file(path: &Path) -> Result<fs::File, LockError> {
    if fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(LockError::Io(StoreError::NotOurs {
            path: path.to_path_buf(),
            found: "something other than a lock file (a link, a folder or a device)".to_string(),
        }));
    }
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path).map_err(|e| LockError::Io(io_err("cannot create", path)(e)))
}

fn read_all(file: &mut fs::File) -> io::Result<String> {
    file.rewind()?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

/// The pid and start time a lock file names, as far as it names them.
fn owner(text: &str) -> (Option<u32>, Option<String>) {
    let field = |key: &str| text.lines().find_map(|l| l.strip_prefix(key)).filter(|v| !v.is_empty());
    (field("pid=").and_then(|p| p.parse().ok()), field("started=").map(str::to_string))
}

/// Whether `path` still leads to the file `file` has open (its holder may have removed it
/// between our open and our lock).
#[cfg(unix)]
fn still_at(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at(_file: &fs::File, path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    #[test]
    fn a_second_run_is_refused_naming_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out");
        let lock = RunLock::acquire(&output, "2013-09-30T00:00:00Z").unwrap();
        let err = RunLock::acquire(&output, "later").unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&format!("pid {}, started 2013-09-30T00:00:00Z", std::process::id())), "{message}");
        assert!(message.contains(".out.lock"), "{message}");
        drop(lock);
        assert!(!dir.path().join(".out.lock").exists(), "released and removed");
        drop(RunLock::acquire(&output, "again").unwrap());
    }

    #[test]
    fn a_lock_file_left_by_a_dead_run_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out");
        fs::write(dir.path().join(".out.lock"), "pid=4294967\nstarted=long ago\n").unwrap();
        let lock = RunLock::acquire(&output, "now").unwrap();
        let text = fs::read_to_string(dir.path().join(".out.lock")).unwrap();
        assert_eq!(text, format!("pid={}\nstarted=now\n", std::process::id()));
        drop(lock);
        assert!(!dir.path().join(".out.lock").exists());
    }

    #[test]
    fn a_live_process_with_the_recorded_pid_does_not_hold_the_lock() {
        // Pid 1 always exists: in a container it is zhijian itself, every night. So does this
        // test's own pid. Neither holds the lock, so neither blocks a run.
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out");
        for pid in [1, std::process::id()] {
            fs::write(dir.path().join(".out.lock"), format!("pid={pid}\nstarted=2013-10-01T02:00:00Z\n")).unwrap();
            drop(RunLock::acquire(&output, "now").unwrap());
        }
    }

    #[test]
    fn runs_started_together_over_a_stale_lock_never_both_hold_it() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out");
        let threads = 8;
        for round in 0..50 {
            fs::write(dir.path().join(".out.lock"), "pid=4294967\nstarted=long ago\n").unwrap();
            let barrier = Arc::new(Barrier::new(threads));
            let holders = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (barrier, holders, most, output) =
                        (barrier.clone(), holders.clone(), most.clone(), output.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        match RunLock::acquire(&output, "now") {
                            Ok(lock) => {
                                let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                                most.fetch_max(now, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_millis(2));
                                holders.fetch_sub(1, Ordering::SeqCst);
                                drop(lock);
                                true
                            }
                            Err(LockError::Held { .. }) => false,
                            Err(other) => panic!("{other}"),
                        }
                    })
                })
                .collect();
            let took: usize = handles.into_iter().map(|h| usize::from(h.join().unwrap())).sum();
            assert!(took >= 1, "round {round}: nobody took the lock");
            assert_eq!(most.load(Ordering::SeqCst), 1, "round {round}: two runs held the lock at once");
        }
    }

    #[test]
    fn a_link_at_the_lock_path_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out");
        let elsewhere = dir.path().join("precious.txt");
        fs::write(&elsewhere, "keep me").unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join(".out.lock")).unwrap();
        let err = RunLock::acquire(&output, "now").unwrap_err();
        assert!(err.to_string().contains(".out.lock"), "{err}");
        assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "keep me");
    }
}
