//! Never touch what is not ours: zhijian publishes only at an output path that is absent, an
//! empty folder or its own output, writes nothing outside that output and its dot-siblings
//! (checked on every file system call of real runs, traced with strace), and in a drop folder
//! reads only the files there: symbolic links are skipped, names that are not UTF-8 are read
//! and named losslessly, and redeliveries are ordered with numbers as numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use common::{Sandbox, rows, stderr, stdout};

/// Every entry under `root` by path: its kind, and for a file its bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, (String, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let entry = if meta.file_type().is_symlink() {
                ("link".to_string(), std::fs::read_link(&path).unwrap().into_os_string().into_vec())
            } else if meta.is_dir() {
                stack.push(path.clone());
                ("folder".to_string(), Vec::new())
            } else {
                ("file".to_string(), std::fs::read(&path).unwrap())
            };
            out.insert(path, entry);
        }
    }
    out
}

#[test]
fn an_output_path_holding_what_zhijian_did_not_write_is_refused_untouched() {
    let sandbox = Sandbox::new();
    let reports = sandbox.path().join("reports");
    let elsewhere = sandbox.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("keep.txt"), "theirs").unwrap();
    let cases: [(&str, &dyn Fn()); 3] = [
        ("a folder holding `notes.txt`", &|| {
            std::fs::create_dir_all(&reports).unwrap();
            std::fs::write(reports.join("notes.txt"), "my notes").unwrap();
        }),
        ("a file", &|| std::fs::write(&reports, "my report").unwrap()),
        ("a symbolic link to", &|| std::os::unix::fs::symlink(&elsewhere, &reports).unwrap()),
    ];
    for (found, make) in cases {
        make();
        let before = tree(sandbox.path());
        let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--output", "reports", "--no-checks"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{found}: {err}");
        assert!(err.contains("`reports` is not zhijian's to write") && err.contains(found), "{found}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(tree(sandbox.path()), before, "{found}: something was written or removed");
        let _ = std::fs::remove_dir_all(&reports);
        let _ = std::fs::remove_file(&reports);
    }
}

#[test]
fn an_empty_folder_an_output_of_the_previous_version_and_one_from_before_generations_are_ours() {
    let sandbox = Sandbox::new();
    let run = || {
        let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-q"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    };
    let out = sandbox.output();
    // An empty folder, made for the job by hand, becomes the output.
    std::fs::create_dir_all(&out).unwrap();
    run();
    assert!(std::fs::symlink_metadata(&out).unwrap().file_type().is_symlink());
    // The previous version's link into the generations is ours: the next run replaces it.
    run();
    // A version before generations wrote the set into a plain folder, with its manifest.
    let plain = sandbox.path().join("plain");
    common::copy_dir(&out, &plain);
    std::fs::remove_file(&out).unwrap();
    std::fs::rename(&plain, &out).unwrap();
    run();
    assert!(std::fs::symlink_metadata(&out).unwrap().file_type().is_symlink());
    let generations: Vec<String> = std::fs::read_dir(sandbox.path().join("out/.henan-2013.generations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        generations.iter().any(|g| g.starts_with("legacy-")),
        "the plain folder is the previous generation: {generations:?}"
    );
    // One more run: the plain folder, now old, goes.
    run();
    assert!(
        !std::fs::read_dir(sandbox.path().join("out/.henan-2013.generations")).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("legacy-"))
    );
}

/// A file system call's name, its result, and its arguments as strace printed them.
struct Call {
    name: String,
    ok: bool,
    args: Vec<String>,
}

/// Parses one line of `strace -y` (no pid prefix: one file per thread with `-ff`).
fn parse_call(line: &str) -> Option<Call> {
    let open = line.find('(')?;
    let name = &line[..open];
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let close = line.rfind(") = ")?;
    let result = line[close + 4..].trim();
    let mut args = Vec::new();
    let (mut current, mut quoted, mut escaped, mut angle, mut depth) = (String::new(), false, false, 0, 0);
    for c in line[open + 1..close].chars() {
        if quoted {
            current.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '<' => angle += 1,
            '>' if angle > 0 => angle -= 1,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if angle == 0 && depth == 0 => {
                args.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    args.push(current.trim().to_string());
    Some(Call { name: name.to_string(), ok: !result.starts_with('-'), args })
}

/// The bytes of a string strace printed (quotes, `\ooo`, `\xhh` and C escapes).
fn unescape(text: &str) -> OsString {
    let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 == bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let next = bytes[i + 1];
        match next {
            b'0'..=b'7' => {
                let end = (i + 1..(i + 4).min(bytes.len())).take_while(|&j| (b'0'..=b'7').contains(&bytes[j])).last();
                let end = end.unwrap_or(i + 1) + 1;
                out.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..end]).unwrap(), 8).unwrap());
                i = end;
            }
            b'x' => {
                out.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap(), 16).unwrap());
                i += 4;
            }
            other => {
                out.push(match other {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'v' => 0x0b,
                    b'f' => 0x0c,
                    other => other,
                });
                i += 2;
            }
        }
    }
    OsString::from_vec(out)
}

/// The folder a `dirfd` argument names: `AT_FDCWD</cwd>` or `5</some/folder>`.
fn dirfd(arg: &str) -> PathBuf {
    let start = arg.find('<').unwrap_or_else(|| panic!("no path for fd `{arg}` (strace -y)"));
    PathBuf::from(unescape(&arg[start + 1..arg.len() - 1]))
}

/// `path` with `.` and `..` taken out (the folders on the way are real folders, not links).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What a run did to the file system: paths written (created, changed, renamed onto, linked),
/// paths removed or renamed away, and paths only ever removed with `rmdir` (which refuses a
/// folder that is not empty).
#[derive(Default, Debug)]
struct Touched {
    written: Vec<PathBuf>,
    removed: Vec<PathBuf>,
    rmdir: Vec<PathBuf>,
}

fn touched(trace_dir: &Path, cwd: &Path) -> Touched {
    let mut out = Touched::default();
    let at = |fd: &str, path: &str| normalise(&dirfd(fd).join(unescape(path)));
    let plain = |path: &str| normalise(&cwd.join(unescape(path)));
    for entry in std::fs::read_dir(trace_dir).unwrap() {
        for line in std::fs::read_to_string(entry.unwrap().path()).unwrap().lines() {
            let Some(Call { name, ok, args }) = parse_call(line) else { continue };
            if !ok {
                continue;
            }
            let a = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
            let writes = |flags: &str| ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"].iter().any(|f| flags.contains(f));
            match name.as_str() {
                "chdir" | "fchdir" => panic!("the run changed its folder: `{line}`"),
                "openat" | "openat2" if writes(a(2)) => out.written.push(at(a(0), a(1))),
                "open" if writes(a(1)) => out.written.push(plain(a(0))),
                "creat" | "truncate" | "chmod" | "chown" | "lchown" | "mknod" | "utime" | "utimes" => {
                    out.written.push(plain(a(0)))
                }
                "mkdir" => out.written.push(plain(a(0))),
                "mkdirat" | "fchmodat" | "fchownat" | "mknodat" | "utimensat" if a(1) != "NULL" => {
                    out.written.push(at(a(0), a(1)))
                }
                "unlink" => out.removed.push(plain(a(0))),
                "rmdir" => out.rmdir.push(plain(a(0))),
                "unlinkat" if a(2).contains("AT_REMOVEDIR") => out.rmdir.push(at(a(0), a(1))),
                "unlinkat" => out.removed.push(at(a(0), a(1))),
                "rename" | "link" => {
                    out.removed.push(plain(a(0)));
                    out.written.push(plain(a(1)));
                }
                "renameat" | "renameat2" | "linkat" => {
                    out.removed.push(at(a(0), a(1)));
                    out.written.push(at(a(2), a(3)));
                }
                "symlink" => out.written.push(plain(a(1))),
                "symlinkat" => out.written.push(at(a(1), a(2))),
                _ => {}
            }
        }
    }
    out
}

#[test]
fn a_run_writes_only_inside_its_output_and_its_dot_siblings() {
    let strace = Command::new("strace").arg("-V").output();
    assert!(
        strace.is_ok_and(|o| o.status.success()),
        "this test traces the runs with strace (apt-get install strace; CI installs it)"
    );
    let sandbox = Sandbox::new();
    let root = std::fs::canonicalize(sandbox.path()).unwrap();
    let out = root.join("out");
    // Beside the output, someone's files; at the output path, an empty folder made for the job.
    std::fs::create_dir_all(out.join("other")).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::write(out.join("other/x.csv"), "mine").unwrap();
    std::fs::create_dir_all(out.join("henan-2013")).unwrap();
    let output_path = out.join("henan-2013");
    let ours = |path: &Path| {
        path == output_path
            || path.strip_prefix(&out).is_ok_and(|rest| {
                rest.components().next().is_some_and(|c| c.as_os_str().as_bytes().starts_with(b".henan-2013."))
            })
    };
    let outside = |tree: BTreeMap<PathBuf, (String, Vec<u8>)>| -> BTreeMap<PathBuf, (String, Vec<u8>)> {
        tree.into_iter().filter(|(path, _)| !ours(path) && !path.starts_with(&output_path)).collect()
    };
    // The first run, the next one from the cache, one after a correction arrived, and one that
    // removes the oldest generation.
    let correction = root.join("sample-data/consumer-products/fengxian-jiance-2013Q3-更正.csv");
    let correction_bytes = std::fs::read(&correction).unwrap();
    std::fs::remove_file(&correction).unwrap();
    let mut all = Touched::default();
    for round in 0..4 {
        if round == 2 {
            std::fs::write(&correction, &correction_bytes).unwrap();
        }
        let before = outside(tree(&root));
        let traces = tempfile::tempdir().unwrap();
        let output = Command::new("strace")
            .args(["-f", "-ff", "-qq", "-y", "-s", "65535", "--seccomp-bpf", "-e", "trace=%file", "-o"])
            .arg(traces.path().join("t"))
            .arg(env!("CARGO_BIN_EXE_zhijian"))
            .args(["run", "pipelines/henan-2013.toml", "--no-checks", "-q"])
            .current_dir(&root)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "round {round}: {}", stderr(&output));
        let round_touched = touched(traces.path(), &root);
        assert!(
            round_touched.written.iter().any(|p| p.starts_with(out.join(".henan-2013.generations"))),
            "round {round}: the trace shows no write of the run's own files: {round_touched:?}"
        );
        assert_eq!(outside(tree(&root)), before, "round {round}: something outside the output changed");
        all.written.extend(round_touched.written);
        all.removed.extend(round_touched.removed);
        all.rmdir.extend(round_touched.rmdir);
    }
    let strays: Vec<&PathBuf> = all.written.iter().chain(&all.removed).chain(&all.rmdir).filter(|p| !ours(p)).collect();
    assert!(strays.is_empty(), "written or removed outside the output and its dot-siblings: {strays:?}");
    // The output path is only ever replaced by renaming zhijian's link onto it, or removed
    // while it is an empty folder: never moved away or unlinked.
    assert!(!all.removed.contains(&output_path), "the output path was moved away or unlinked: {:?}", all.removed);
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    assert_eq!(std::fs::read_to_string(out.join("other/x.csv")).unwrap(), "mine");
}

#[test]
fn symbolic_links_in_a_drop_folder_are_skipped_and_reported() {
    let sandbox = Sandbox::new();
    let food = sandbox.path().join("sample-data/food");
    // A link to a file outside the drop folder (any readable file would be ingested), and one
    // to a file of the same source (two threads would share its cache entry).
    let secret = sandbox.path().join("secret.csv");
    std::fs::copy(food.join("samr-export-2013Q3.csv"), &secret).unwrap();
    std::os::unix::fs::symlink(&secret, food.join("samr-export-2013Q4.csv")).unwrap();
    std::os::unix::fs::symlink("samr-export-2013Q3.csv", food.join("samr-export-2013Q3-copy.csv")).unwrap();
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    // The same nine files and rows as without the links.
    assert!(stdout(&output).starts_with("henan-2013: 10 file(s), 1897 row(s) read"), "{}", stdout(&output));
    for link in ["samr-export-2013Q4.csv", "samr-export-2013Q3-copy.csv"] {
        assert!(
            err.lines().any(|l| l.contains("skipping a symbolic link in the drop folder") && l.contains(link)),
            "{link}: {err}"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sandbox.output().join("_manifest.json")).unwrap()).unwrap();
    let skipped: Vec<(&str, &str)> = manifest["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["path"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("../sample-data/food/samr-export-2013Q3-copy.csv", "symbolic link to `samr-export-2013Q3.csv`"),
            ("../sample-data/food/samr-export-2013Q4.csv", &*format!("symbolic link to `{}`", secret.display())),
        ]
    );
    let inputs = manifest["inputs"].as_array().unwrap();
    assert!(inputs.iter().all(|i| !i["path"].as_str().unwrap().contains("2013Q4")), "{inputs:?}");
}

#[test]
fn a_file_name_that_is_not_utf8_is_read_and_named_losslessly() {
    let sandbox = Sandbox::new();
    let consumer = sandbox.path().join("sample-data/consumer-products");
    // The correction's name as a GBK archive unpacks it on a UTF-8 system: 更正 as B8 FC D5 FD.
    let mut gbk = b"fengxian-jiance-2013Q3-".to_vec();
    gbk.extend_from_slice(&encoding_rs::GBK.encode("更正").0);
    gbk.extend_from_slice(b".csv");
    assert_eq!(&gbk[23..27], b"\xb8\xfc\xd5\xfd");
    let gbk = PathBuf::from(OsString::from_vec(gbk));
    std::fs::rename(consumer.join("fengxian-jiance-2013Q3-更正.csv"), consumer.join(&gbk)).unwrap();
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("henan-2013: 10 file(s), 1897 row(s) read"), "{}", stdout(&output));
    let name = "../sample-data/consumer-products/fengxian-jiance-2013Q3-\\xB8\\xFC\\xD5\\xFD.csv";
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sandbox.output().join("_manifest.json")).unwrap()).unwrap();
    let input = manifest["inputs"].as_array().unwrap().iter().find(|i| i["path"] == name);
    assert_eq!(input.map(|i| i["rows_read"].as_u64()), Some(Some(2)), "{:#}", manifest["inputs"]);
    // The correction still replaces the samples it corrects, and names itself so.
    let samples = rows(&sandbox.output().join("samples"));
    let corrected = samples.iter().find(|s| s["sample_key"] == "consumer_products:FX130055").unwrap();
    assert_eq!((corrected["verdict"].as_str(), corrected["source_file"].as_str()), ("fail", name));
}

#[test]
fn redeliveries_are_ordered_with_numbers_as_numbers() {
    let sandbox = Sandbox::new();
    let consumer = sandbox.path().join("sample-data/consumer-products");
    // The export as `_v9`, its correction as `_v10`: as text `_v9` sorts last and would win.
    std::fs::rename(consumer.join("fengxian-jiance-2013Q3.csv"), consumer.join("fengxian-jiance-2013Q3_v9.csv"))
        .unwrap();
    std::fs::rename(consumer.join("fengxian-jiance-2013Q3-更正.csv"), consumer.join("fengxian-jiance-2013Q3_v10.csv"))
        .unwrap();
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let samples = rows(&sandbox.output().join("samples"));
    // The README of the data: FX130055 corrected 合格 → 不合格 by the correction.
    let corrected = samples.iter().find(|s| s["sample_key"] == "consumer_products:FX130055").unwrap();
    assert_eq!(corrected["verdict"], "fail");
    assert_eq!(corrected["superseded_deliveries"], "../sample-data/consumer-products/fengxian-jiance-2013Q3_v9.csv");
}
