//! The lean build (the default, without the `sql` feature): what the quick start runs. Built and
//! run by `scripts/test` as `cargo nextest run --test lean` before the suite with SQL.
//!
//! A check this binary cannot evaluate is never a silent pass: a non-optional `sql` check stops
//! `zhijian check` and `zhijian run` with exit code 2, naming the check and the flag that
//! enables it, before anything is written; an `optional = true` one is reported as skipped
//! with the reason.
#![cfg(not(feature = "sql"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Sandbox, stderr, stdout};

const CHECKS: &str = "pipelines/checks/henan-2013.toml";

/// The bundled checks with the SQL check's `optional = true` taken out.
fn without_optional(sandbox: &Sandbox) {
    let path = sandbox.path().join(CHECKS);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\noptional = true\n"), "the bundled SQL check is no longer optional");
    std::fs::write(&path, text.replace("\noptional = true\n", "\n")).unwrap();
}

#[test]
fn version_names_the_features_built_in() {
    let output = Sandbox::new().zhijian(&["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output).trim(),
        concat!(
            "zhijian ",
            env!("CARGO_PKG_VERSION"),
            " (features: none; `--features sql` adds `zhijian query` and sql checks)"
        )
    );
}

#[test]
fn the_quick_start_runs_and_skips_its_optional_sql_check_with_the_reason() {
    let sandbox = Sandbox::new();
    let run = sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let line = stdout(&run)
        .lines()
        .find(|l| l.contains("failing-results-reported-compliant"))
        .unwrap_or_else(|| panic!("no line for the SQL check:\n{}", stdout(&run)))
        .to_string();
    assert!(line.trim_start().starts_with("SKIP"), "{line}");
    assert!(line.contains("optional, and this zhijian is built without the `sql` feature"), "{line}");

    // `zhijian validate` accepts the file and says what a lean build does with the check.
    let validate = sandbox.zhijian(&["validate", "pipelines/henan-2013.toml"]);
    assert_eq!(validate.status.code(), Some(0), "{}", stderr(&validate));
    assert!(
        stdout(&validate).contains(
            "warning: pipelines/checks/henan-2013.toml:82:8: check `failing-results-reported-compliant` is an `sql` \
             check and this zhijian is built without `--features sql` (optional: reported as skipped)"
        ),
        "{}",
        stdout(&validate)
    );
}

#[test]
fn a_sql_check_that_is_not_optional_stops_run_and_check_with_exit_2() {
    let expected = [
        "pipelines/checks/henan-2013.toml:82:8: check `failing-results-reported-compliant` is an `sql` check, \
         and this zhijian is built without SQL",
        "`cargo build --features sql`",
        "mark the check `optional = true`",
    ];

    // `zhijian run` says so before it writes anything.
    let sandbox = Sandbox::new();
    without_optional(&sandbox);
    let run = sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]);
    assert_eq!(run.status.code(), Some(2), "{}", stdout(&run));
    for text in expected {
        assert!(stderr(&run).contains(text), "{text:?} not in\n{}", stderr(&run));
    }
    assert!(!sandbox.path().join("out").exists(), "the run wrote before it stopped");

    // Published without the checks, the outputs are there; `zhijian check` stops the same way,
    // and so does `zhijian run --warn-error` (the checks are the gate, whatever their zones).
    let run = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    for args in [&["check", "pipelines/henan-2013.toml"][..], &["run", "pipelines/henan-2013.toml", "--warn-error"]] {
        let output = sandbox.zhijian(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stdout(&output));
        for text in expected {
            assert!(stderr(&output).contains(text), "{args:?}: {text:?} not in\n{}", stderr(&output));
        }
    }

    // `zhijian validate` accepts the file and warns.
    let validate = sandbox.zhijian(&["validate", "pipelines/henan-2013.toml"]);
    assert_eq!(validate.status.code(), Some(0), "{}", stderr(&validate));
    assert!(
        stdout(&validate).contains("`zhijian check` and `zhijian run` stop with exit code 2 on it"),
        "{}",
        stdout(&validate)
    );
}

#[test]
fn query_says_which_build_it_needs() {
    let sandbox = Sandbox::new();
    let output = sandbox.zhijian(&["query", "--dir", "out/henan-2013", "select 1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`cargo build --features sql`"), "{}", stderr(&output));
}
