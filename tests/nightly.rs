//! Nightly operation: one run at a time per output, stale locks from killed runs cleared, and
//! a `kill -9` at any moment leaving either the previous complete set of outputs or the new one,
//! with a rerun equal to a clean run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Sandbox, published_digest as fingerprint, stderr, stdout};

const CORRECTION: &str = "sample-data/consumer-products/fengxian-jiance-2013Q3-更正.csv";

fn clean_run(with_correction: bool) -> (BTreeMap<String, String>, Duration) {
    let sandbox = Sandbox::new();
    if !with_correction {
        std::fs::remove_file(sandbox.path().join(CORRECTION)).unwrap();
    }
    let start = Instant::now();
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-q"]);
    let took = start.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    (fingerprint(&sandbox.output()), took)
}

#[test]
fn a_second_run_exits_2_at_once_naming_the_running_one() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path().join("out")).unwrap();
    // This test process holds the lock, as a running zhijian does: the operating system's
    // lock on the file, with the pid and start time written in it for the message.
    let lock = sandbox.path().join("out/.henan-2013.lock");
    let held = std::fs::File::create(&lock).unwrap();
    std::fs::write(&lock, format!("pid={}\nstarted=2013-10-01T02:00:00Z\n", std::process::id())).unwrap();
    held.try_lock().unwrap();
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "another zhijian run is writing `out/henan-2013`: pid {}, started 2013-10-01T02:00:00Z",
            std::process::id()
        )),
        "{err}"
    );
    assert!(!sandbox.output().exists(), "nothing published");
    assert!(lock.exists(), "the running one's lock is left alone");
    drop(held);
}

/// Runs `zhijian run` in the background, as the scheduler does.
fn spawn_run(sandbox: &Sandbox, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_zhijian"))
        .args(["run", "pipelines/henan-2013.toml", "--no-checks"])
        .args(args)
        .current_dir(sandbox.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_lock_left_by_a_killed_run_is_taken_over_by_the_next() {
    let sandbox = Sandbox::new();
    let lock = sandbox.path().join("out/.henan-2013.lock");
    // A run killed while it holds the lock leaves the file, with its pid, behind.
    let mut killed = spawn_run(&sandbox, &["-q"]);
    let start = Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&format!("pid={}", killed.id()))) {
        assert!(start.elapsed() < Duration::from_secs(60), "the run never took its lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    killed.kill().unwrap();
    assert!(!killed.wait().unwrap().success());
    assert!(lock.exists(), "a killed run cannot remove its lock file");
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("taking over a stale lock") && err.contains(&format!("pid={}", killed.id())), "{err}");
    assert!(!lock.exists(), "released at the end of the run");
    assert!(stdout(&output).starts_with("henan-2013: 10 file(s)"));
}

#[test]
fn a_lock_naming_a_live_process_that_does_not_hold_it_blocks_nothing() {
    // Pid 1 is alive everywhere, and in a container it is zhijian itself every night; a pid a
    // killed run had may belong to another process by morning. Neither holds the lock.
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path().join("out")).unwrap();
    let lock = sandbox.path().join("out/.henan-2013.lock");
    let mut unrelated = Command::new("sleep").arg("60").spawn().unwrap();
    for pid in [1, unrelated.id()] {
        std::fs::write(&lock, format!("pid={pid}\nstarted=2013-10-01T02:00:00Z\n")).unwrap();
        let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-q"]);
        assert_eq!(output.status.code(), Some(0), "pid {pid}: {}", stderr(&output));
        assert!(!lock.exists());
    }
    unrelated.kill().unwrap();
    unrelated.wait().unwrap();
}

#[test]
fn of_two_runs_started_together_one_runs_and_the_other_exits_2_naming_it() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path().join("out")).unwrap();
    // Over a stale lock, which both find at once.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let lock = sandbox.path().join("out/.henan-2013.lock");
    std::fs::write(&lock, format!("pid={pid}\nstarted=2013-10-01T02:00:00Z\n")).unwrap();
    let runs = [spawn_run(&sandbox, &["-q"]), spawn_run(&sandbox, &["-q"])];
    let pids: Vec<u32> = runs.iter().map(|r| r.id()).collect();
    let outputs: Vec<_> = runs.into_iter().map(|r| r.wait_with_output().unwrap()).collect();
    let codes: Vec<_> = outputs.iter().map(|o| o.status.code()).collect();
    let (winner, loser) = match codes.as_slice() {
        [Some(0), Some(2)] => (0, 1),
        [Some(2), Some(0)] => (1, 0),
        _ => panic!("exit codes {codes:?}:\n{}\n{}", stderr(&outputs[0]), stderr(&outputs[1])),
    };
    let err = stderr(&outputs[loser]);
    assert!(err.contains(&format!("another zhijian run is writing `out/henan-2013`: pid {}", pids[winner])), "{err}");
    assert!(stdout(&outputs[winner]).starts_with("henan-2013: 10 file(s)"));
    assert!(!lock.exists());
    common::assert_invariants(&sandbox.output());
}

#[test]
fn a_kill_at_any_moment_leaves_the_old_set_or_the_new_one() {
    let (without, _) = clean_run(false);
    let (with, _) = clean_run(true);
    assert_ne!(without, with, "the correction file changes the outputs");
    let sets = [without, with];

    let sandbox = Sandbox::new();
    let correction = std::fs::read(sandbox.path().join(CORRECTION)).unwrap();
    let set_inputs = |with_correction: bool| {
        let path = sandbox.path().join(CORRECTION);
        if with_correction {
            std::fs::write(&path, &correction).unwrap();
        } else {
            let _ = std::fs::remove_file(&path);
        }
    };
    set_inputs(false);
    assert_eq!(sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-q"]).status.code(), Some(0));
    let mut published = 0usize; // index into `sets` of what the outputs hold
    assert_eq!(fingerprint(&sandbox.output()), sets[published]);

    // A fixed seed: the same moments every time the test runs.
    let mut seed: u64 = 20_131_001;
    let mut random = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        seed >> 33
    };
    // Kill within the runs killed here: runs over the cache, timed in this sandbox (the shorter
    // of two, with nothing to parse; the rounds parse the correction or retract it, so take
    // longer). A clean run elsewhere is no measure: its ratio to these varies with the load.
    // (The process alone, as the rounds spawn it: not the test's checks after it.)
    let timed = || {
        let start = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_zhijian"))
            .args(["run", "pipelines/henan-2013.toml", "--no-checks", "-q"])
            .current_dir(sandbox.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        start.elapsed()
    };
    // Up to 1.1 of one, so the last moments (the publish) are reached too.
    let span = timed().min(timed()).as_micros() as u64 * 11 / 10;
    let (mut killed, mut finished) = (0, 0);
    for round in 0..32 {
        let target = 1 - published;
        set_inputs(target == 1);
        let mut child = Command::new(env!("CARGO_BIN_EXE_zhijian"))
            .args(["run", "pipelines/henan-2013.toml", "--no-checks", "-q"])
            .current_dir(sandbox.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(random() % span.max(1)));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        if status.success() {
            finished += 1
        } else {
            killed += 1
        }
        let now = fingerprint(&sandbox.output());
        if now == sets[target] {
            published = target;
        } else {
            assert_eq!(now, sets[published], "round {round}: the outputs are neither the old set nor the new one");
        }
        assert!(sandbox.output().join("_SUCCESS").exists(), "round {round}");
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sandbox.output().join("_manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["status"], "success", "round {round}");
    }
    eprintln!("{killed} runs killed, {finished} finished");
    assert!(killed >= 20, "{killed} runs killed, {finished} finished: kill moments fell outside the runs");

    // The next run completes the work: equal to a clean run over the same inputs.
    set_inputs(true);
    let rerun = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-q"]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    assert_eq!(fingerprint(&sandbox.output()), sets[1]);
    // Nothing left behind: no lock, no staging folders, two generations at most.
    assert!(!sandbox.path().join("out/.henan-2013.lock").exists());
    let generations: Vec<String> = std::fs::read_dir(sandbox.path().join("out/.henan-2013.generations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(generations.iter().all(|g| !g.starts_with(".staging-")), "{generations:?}");
    assert!(generations.len() <= 2, "{generations:?}");
}

fn manifest(sandbox: &Sandbox) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(sandbox.output().join("_manifest.json")).unwrap()).unwrap()
}

/// (path, cached) of every input in the manifest.
fn parsed_and_cached(sandbox: &Sandbox) -> (Vec<String>, usize) {
    let manifest = manifest(sandbox);
    let inputs = manifest["inputs"].as_array().unwrap();
    let parsed: Vec<String> =
        inputs.iter().filter(|i| i["cached"] == false).map(|i| i["path"].as_str().unwrap().to_string()).collect();
    (parsed, inputs.iter().filter(|i| i["cached"] == true).count())
}

#[test]
fn a_run_parses_only_new_or_changed_files_and_equals_a_full_refresh() {
    let (without, _) = clean_run(false);
    let (with, _) = clean_run(true);
    let sandbox = Sandbox::new();
    let correction = sandbox.path().join(CORRECTION);
    let bytes = std::fs::read(&correction).unwrap();
    std::fs::remove_file(&correction).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "pipelines/henan-2013.toml", "--no-checks", "-q"];
        args.extend_from_slice(extra);
        let output = sandbox.zhijian(&args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    };
    run(&[]);
    assert_eq!(parsed_and_cached(&sandbox).0.len(), 9, "the first run parses every file");

    // The correction arrives: only it is parsed.
    std::fs::write(&correction, &bytes).unwrap();
    run(&[]);
    let (parsed, cached) = parsed_and_cached(&sandbox);
    assert_eq!(parsed, ["../sample-data/consumer-products/fengxian-jiance-2013Q3-更正.csv"]);
    assert_eq!(cached, 9);
    assert_eq!(fingerprint(&sandbox.output()), with, "incremental equals a clean run");

    // A full refresh parses everything and gives the same outputs.
    run(&["--full-refresh"]);
    let (parsed, cached) = parsed_and_cached(&sandbox);
    assert_eq!((parsed.len(), cached), (10, 0));
    assert_eq!(manifest(&sandbox)["full_refresh"], true);
    assert_eq!(fingerprint(&sandbox.output()), with);

    // The correction disappears: its rows are retracted, and the run says so.
    std::fs::remove_file(&correction).unwrap();
    run(&[]);
    assert_eq!(
        manifest(&sandbox)["retracted"],
        serde_json::json!(["../sample-data/consumer-products/fengxian-jiance-2013Q3-更正.csv"])
    );
    assert_eq!(parsed_and_cached(&sandbox), (Vec::<String>::new(), 9));
    assert_eq!(fingerprint(&sandbox.output()), without);

    // New seeds can change how any row reads: everything is parsed again.
    let aliases = sandbox.path().join("seeds/area_aliases.csv");
    let mut text = std::fs::read_to_string(&aliases).unwrap();
    text.push_str("郑州地区,410100,added by a test\n");
    std::fs::write(&aliases, text).unwrap();
    run(&[]);
    assert_eq!(parsed_and_cached(&sandbox).1, 0);
    assert_eq!(fingerprint(&sandbox.output()), without);
    // The cache holds the entries of the last run's files only: a head and its rows each, and
    // no spill folder or temporary file; and the record of the inputs' hashes.
    let mut names: Vec<String> = std::fs::read_dir(sandbox.path().join("out/.henan-2013.cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 19, "{names:?}");
    assert!(names.contains(&"inputs.seen".to_string()), "the record of the inputs' hashes: {names:?}");
    assert_eq!(names.iter().filter(|n| n.ends_with(".head")).count(), 9, "{names:?}");
    assert_eq!(names.iter().filter(|n| n.ends_with(".rows")).count(), 9, "{names:?}");
}

/// Swaps the first two data lines of `path`: other bytes, the same size.
fn swap_rows(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    assert_ne!(lines[1], lines[2]);
    lines.swap(1, 2);
    std::fs::write(path, lines.join(&b'\n')).unwrap();
}

#[test]
fn an_unchanged_file_is_not_read_again_and_one_rewritten_to_its_old_size_and_time_is() {
    let sandbox = Sandbox::new();
    let run = || {
        let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-vv"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stderr(&output).matches("not written since the last run: not read").count()
    };
    assert_eq!(run(), 0, "the first run reads every file");
    // A record is used only for files left alone two seconds before it was taken.
    std::thread::sleep(Duration::from_millis(2100));
    run();
    assert_eq!(run(), 10, "every unchanged file is taken from the record");

    // Rewritten to the same size with its modification time set back: its status-change time
    // moved, so it is read, hashed and parsed again, and the tables are a clean run's.
    let correction = sandbox.path().join(CORRECTION);
    let modified = std::fs::metadata(&correction).unwrap().modified().unwrap();
    let size = std::fs::metadata(&correction).unwrap().len();
    swap_rows(&correction);
    std::fs::File::options().write(true).open(&correction).unwrap().set_modified(modified).unwrap();
    assert_eq!(std::fs::metadata(&correction).unwrap().len(), size);
    assert_eq!(run(), 9);
    let (parsed, _) = parsed_and_cached(&sandbox);
    assert_eq!(parsed, ["../sample-data/consumer-products/fengxian-jiance-2013Q3-更正.csv"]);
    let clean = Sandbox::new();
    swap_rows(&clean.path().join(CORRECTION));
    let output = clean.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(fingerprint(&sandbox.output()), fingerprint(&clean.output()));
    // A full refresh reads every file.
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-vv", "--full-refresh"]);
    assert_eq!(stderr(&output).matches("not written since the last run").count(), 0);
    // A record that does not read (cut, or bytes of anything else) only costs the hashing: the
    // run reads every file, and publishes what a clean run does.
    let record = sandbox.path().join("out/.henan-2013.cache/inputs.seen");
    for damage in [&b"\xff\x00garbage"[..], &std::fs::read(&record).unwrap()[..7]] {
        std::fs::write(&record, damage).unwrap();
        assert_eq!(run(), 0);
        assert_eq!(fingerprint(&sandbox.output()), fingerprint(&clean.output()));
    }
}

/// Unmounts a test's tmpfs when the test ends, however it ends.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_stops_the_run_with_exit_2_and_keeps_the_last_outputs() {
    let sandbox = Sandbox::new();
    let disk = sandbox.path().join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"]).arg(&disk).status();
    assert!(mounted.is_ok_and(|s| s.success()), "this test mounts an 8 MB tmpfs, which needs root (CI runs as root)");
    let _unmount = Unmount(disk.clone());
    let run =
        || sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-q", "--output", "disk/henan-2013"]);
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let before = fingerprint(&disk.join("henan-2013"));
    // Fill the disk but for 16 KiB.
    let df = Command::new("df").args(["--output=avail", "-B1"]).arg(&disk).output().unwrap();
    let free: u64 = stdout(&df).lines().nth(1).unwrap().trim().parse().unwrap();
    std::fs::write(disk.join("filler"), vec![0u8; (free - 16 * 1024) as usize]).unwrap();
    let second = run();
    let err = stderr(&second);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(err.contains("No space left on device") && err.contains("disk/"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(fingerprint(&disk.join("henan-2013")), before, "the last outputs are intact");
    // Once there is room again, the next run completes.
    std::fs::remove_file(disk.join("filler")).unwrap();
    assert_eq!(run().status.code(), Some(0));
    assert_eq!(fingerprint(&disk.join("henan-2013")), before);
}

#[test]
fn permission_denied_stops_the_run_with_exit_2_naming_the_path() {
    use std::os::unix::fs::PermissionsExt as _;
    let sandbox = Sandbox::new();
    let first = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-q"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let before = fingerprint(&sandbox.output());
    // Root reads and writes anything: run as nobody, in a folder nobody may not write.
    std::fs::set_permissions(sandbox.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(sandbox.path().join("out"), std::fs::Permissions::from_mode(0o555)).unwrap();
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_zhijian")])
        .args(["run", "pipelines/henan-2013.toml", "--no-checks"])
        .current_dir(sandbox.path())
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("Permission denied") && err.contains("out/.henan-2013.lock"), "{err}");
    std::fs::set_permissions(sandbox.path().join("out"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(fingerprint(&sandbox.output()), before, "the last outputs are intact");
}

#[test]
fn a_progress_bar_on_a_terminal_and_none_in_a_log() {
    let sandbox = Sandbox::new();
    // `script` gives the run a terminal, as when someone runs it by hand.
    let command = format!("{} run pipelines/henan-2013.toml --no-checks", env!("CARGO_BIN_EXE_zhijian"));
    let on_terminal =
        Command::new("script").args(["-qec", &command, "/dev/null"]).current_dir(sandbox.path()).output().unwrap();
    assert!(on_terminal.status.success(), "{}", stderr(&on_terminal));
    let screen = String::from_utf8_lossy(&on_terminal.stdout).replace('\r', "\n");
    assert!(screen.contains("10/10 files, 1897 rows"), "{screen}");
    // Without a terminal (a scheduler's log): no bar, nothing on stderr at the default level.
    let logged = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks"]);
    assert_eq!(logged.status.code(), Some(0));
    assert_eq!(stderr(&logged), "");
}
