//! Cross-checks the aggregation against another engine: DuckDB recomputes every cell of
//! `pass_rates` from `samples` (tests/crosscheck/pass_rates.py), and the counts, pass rates and
//! Wilson intervals must agree exactly. The Python used is `$ZHIJIAN_PYTHON`, else `python3`;
//! `scripts/test` sets it to a virtual environment with DuckDB and pyarrow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::{Sandbox, repo, stderr, stdout};

#[test]
fn duckdb_recomputes_every_pass_rate_cell_from_samples() {
    let python = std::env::var("ZHIJIAN_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let probe = Command::new(&python).args(["-c", "import duckdb, pyarrow"]).output();
    let ready = probe.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ready,
        "`{python}` cannot import duckdb and pyarrow: run scripts/test, or set ZHIJIAN_PYTHON to a Python that has them ({probe:?})"
    );

    let sandbox = Sandbox::new();
    let run = sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let check = Command::new(&python)
        .arg(repo().join("tests/crosscheck/pass_rates.py"))
        .arg(sandbox.output())
        .output()
        .unwrap();
    let report = stdout(&check);
    assert!(check.status.success(), "stdout:\n{report}\nstderr:\n{}", stderr(&check));
    // Sanity: the comparison covered the whole cube.
    let cells: usize =
        report.lines().last().and_then(|l| l.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(cells > 1000, "{report}");
    // Every programme's samples; rejects include the 4 rows later deliveries replaced (the totals row of
    // the agri-products workbook is skipped, not rejected).
    assert!(report.contains("samples: 727 rows") && report.contains("rejects: 57 rows"), "{report}");
}
