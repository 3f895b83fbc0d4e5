//! `zhijian check`: every kind of check passing, warning, failing and skipped on the bundled
//! sample run, with exit codes; JUnit read back by a real JUnit parser; JSON read back.
//!
//! The pipeline keeps only its food source ([`Sandbox::food_only`]), so the observed values are
//! fixed by the food sample data (sample-data/food/README.md): province food
//! pass rate 268 / 291 = 0.92096…, 293 samples against 25000 × 273/365 = 18698.6 expected,
//! 29 of 953 rows rejected, 2 verdict conflicts, newest sample 2013-09-10 (20 days before the
//! as-of date), 18 of 18 cities, 1 failing result reported compliant. Each test sets zones
//! around those values.
// Needs `sql` checks (tests/lean.rs covers the lean build, where they cannot run).
#![cfg(feature = "sql")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::{Sandbox, stderr, stdout};

/// A sandbox whose pipeline includes only `checks` (TOML), after one run.
fn sandbox_with(checks: &str) -> Sandbox {
    let sandbox = Sandbox::food_only();
    std::fs::write(sandbox.path().join("pipelines/checks/henan-2013.toml"), checks).unwrap();
    let run = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    sandbox
}

fn check(sandbox: &Sandbox, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["check", "pipelines/henan-2013.toml"];
    args.extend_from_slice(extra);
    let output = sandbox.zhijian(&args);
    (output.status.code(), format!("{}{}", stdout(&output), stderr(&output)))
}

/// The status column of the line for `check` (and `scope`, when given).
fn status_of(table: &str, check: &str) -> String {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(check))
        .unwrap_or_else(|| panic!("no line for {check} in\n{table}"));
    line.split_whitespace().next().unwrap().to_string()
}

/// One check: `kind` is the kind's name, `]`, and the lines of its table.
fn kind_table(name: &str, zones: &str, kind: &str) -> String {
    format!("[[checks]]\nname = \"{name}\"\n{zones}\n[checks.{kind}\n\n")
}

#[test]
fn each_kind_of_check_passes_warns_fails_and_skips() {
    // (name, zones, kind table body, expected status)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("pr-pass", "fail_below = 0.90", "pass_rate]\nprogramme = \"food\"\nscope = \"province\"", "PASS"),
        (
            "pr-warn",
            "warn_below = 0.95\nfail_below = 0.90",
            "pass_rate]\nprogramme = \"food\"\nscope = \"province\"",
            "WARN",
        ),
        ("pr-fail", "fail_below = 0.95", "pass_rate]\nprogramme = \"food\"\nscope = \"province\"", "FAIL"),
        (
            "pr-skip",
            "fail_below = 0.90",
            "pass_rate]\nprogramme = \"food\"\nscope = \"province\"\nmin_samples = 1000",
            "SKIP",
        ),
        // 268 of 291: the Wilson lower bound is 0.8844…, below 0.90 though the estimate is not.
        (
            "pr-wilson",
            "fail_below = 0.90",
            "pass_rate]\nprogramme = \"food\"\nscope = \"province\"\nbound = \"wilson_low\"",
            "FAIL",
        ),
        (
            "pr-category",
            "fail_below = 0.80",
            "pass_rate]\nprogramme = \"food\"\ncategory = \"糕点\"\nscope = \"province\"",
            "PASS",
        ),
        ("att-pass", "fail_below = 0.01", "attainment]\nprogramme = \"food\"\nscope = \"province\"", "PASS"),
        (
            "att-warn",
            "warn_below = 1.0\nfail_below = 0.01",
            "attainment]\nprogramme = \"food\"\nscope = \"province\"",
            "WARN",
        ),
        ("att-fail", "fail_below = 0.5", "attainment]\nprogramme = \"food\"\nscope = \"province\"", "FAIL"),
        (
            "att-shortfall",
            "fail_above = 18000",
            "attainment]\nprogramme = \"food\"\nscope = \"province\"\nmeasure = \"shortfall\"",
            "FAIL",
        ),
        (
            "att-area",
            "fail_below = 0.5",
            "attainment]\nprogramme = \"food\"\nscope = \"reporting_unit\"\nareas = [\"419001\"]",
            "FAIL",
        ),
        // The sandbox's agri_products target is set to 0: nothing is expected, nothing to judge.
        ("att-skip", "fail_below = 0.5", "attainment]\nprogramme = \"agri_products\"\nscope = \"province\"", "SKIP"),
        ("rej-pass", "fail_above = 0.05", "reject_rate]\nsources = [\"food-samr\"]", "PASS"),
        ("rej-warn", "warn_above = 0.02\nfail_above = 0.05", "reject_rate]\nsources = [\"food-samr\"]", "WARN"),
        ("rej-fail", "fail_above = 0.02", "reject_rate]\nsources = [\"food-samr\"]", "FAIL"),
        // The sandbox adds a source `empty-drop` whose file has a header and no rows.
        ("rej-skip", "fail_above = 0.02", "reject_rate]\nsources = [\"empty-drop\"]", "SKIP"),
        ("conf-pass", "fail_above = 2", "verdict_conflicts]", "PASS"),
        ("conf-warn", "warn_above = 1\nfail_above = 2", "verdict_conflicts]\nprogramme = \"food\"", "WARN"),
        ("conf-fail", "fail_above = 0.005", "verdict_conflicts]\nmeasure = \"rate\"", "FAIL"),
        ("conf-skip", "fail_above = 0", "verdict_conflicts]\nprogramme = \"livestock\"\nmeasure = \"rate\"", "SKIP"),
        ("fresh-pass", "fail_above = 20", "freshness]\nprogramme = \"food\"", "PASS"),
        ("fresh-warn", "warn_above = 14\nfail_above = 30", "freshness]", "WARN"),
        ("fresh-fail", "fail_above = 7", "freshness]", "FAIL"),
        ("fresh-none", "fail_above = 7", "freshness]\nprogramme = \"livestock\"", "FAIL"),
        ("cov-pass", "fail_below = 18", "coverage]\nprogramme = \"food\"\nof = \"cities\"", "PASS"),
        ("cov-fail", "fail_below = 18", "coverage]\nprogramme = \"food\"\nof = \"cities\"\nmin_samples = 10", "FAIL"),
        ("cov-kinds", "warn_below = 34\nfail_below = 10", "coverage]\nprogramme = \"food\"\nof = \"kinds\"", "WARN"),
        (
            "sql-pass",
            "fail_above = 1",
            "sql]\nquery = \"select * from results where verdict = 'fail' and reported_verdict = 'pass'\"",
            "PASS",
        ),
        (
            "sql-warn",
            "warn_above = 0\nfail_above = 1",
            "sql]\nquery = \"select * from results where verdict = 'fail' and reported_verdict = 'pass'\"",
            "WARN",
        ),
        (
            "sql-fail",
            "fail_above = 0",
            "sql]\nquery = \"select sample_key, verdict from samples where verdict <> 'pass'\"",
            "FAIL",
        ),
    ];
    let checks: String = cases.iter().map(|(name, zones, kind, _)| kind_table(name, zones, kind)).collect();
    let sandbox = Sandbox::food_only();
    let targets = sandbox.path().join("seeds/targets.csv");
    let text = std::fs::read_to_string(&targets)
        .unwrap()
        .replace("2013,agri_products,province,410000,10000,", "2013,agri_products,province,410000,0,");
    std::fs::write(&targets, text).unwrap();
    let empty = sandbox.path().join("sample-data/empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("drop.csv"), "抽样编号,样品名称,被抽样单位所在市,抽样日期,检验项目,检验结果\n").unwrap();
    let pipeline = sandbox.path().join("pipelines/henan-2013.toml");
    let extra = "\n[[sources]]\nname = \"empty-drop\"\nprogramme = \"food\"\nfiles = \"../sample-data/empty/*.csv\"\n[sources.columns]\nsample_id = \"抽样编号\"\nproduct_name = \"样品名称\"\ncity = \"被抽样单位所在市\"\nsampling_date = \"抽样日期\"\nitem = \"检验项目\"\nresult = \"检验结果\"\n";
    std::fs::write(&pipeline, std::fs::read_to_string(&pipeline).unwrap() + extra).unwrap();
    std::fs::write(sandbox.path().join("pipelines/checks/henan-2013.toml"), checks).unwrap();
    assert!(matches!(sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]).status.code(), Some(0 | 1)));
    let (code, table) = check(&sandbox, &[]);
    assert_eq!(code, Some(1), "{table}");
    for (name, _, _, expected) in cases {
        assert_eq!(status_of(&table, name), *expected, "{name}\n{table}");
    }
    // Skipped outcomes say why; failing coverage names the missing cities.
    assert!(table.contains("fewer than min_samples = 1000"), "{table}");
    assert!(table.contains("15 of 18 cities reported food samples in 2013 (at least 10 each); missing: 410400 平顶山市, 411200 三门峡市, 419001 济源市"), "{table}");
    assert!(table.contains("11 kind(s) of goods covered in 2013"), "{table}");
    let last = table.lines().rfind(|l| l.starts_with("PASS=")).unwrap();
    assert_eq!(last, "PASS=8 WARN=7 FAIL=11 SKIP=4 TOTAL=30");
}

#[test]
fn per_area_scopes_give_one_outcome_per_area() {
    let checks = format!(
        "{}{}",
        kind_table("city", "warn_below = 0.90", "pass_rate]\nprogramme = \"food\"\nscope = \"city\"\nmin_samples = 10"),
        kind_table(
            "direct",
            "fail_below = 0.80",
            "pass_rate]\nprogramme = \"food\"\nscope = \"directly_administered\"\nmin_samples = 5"
        )
    );
    let sandbox = sandbox_with(&checks);
    let (code, table) = check(&sandbox, &[]);
    // 永城 6 of 8 = 75% fails; 许昌 8 of 12 and 洛阳 21 of 24 warn; 3 small cities skip.
    assert_eq!(code, Some(1), "{table}");
    let lines = |check: &str, status: &str| {
        table.lines().filter(|l| l.split_whitespace().nth(1) == Some(check) && l.starts_with(status)).count()
    };
    assert_eq!((lines("city", "PASS"), lines("city", "WARN"), lines("city", "SKIP")), (13, 2, 3), "{table}");
    assert_eq!((lines("direct", "PASS"), lines("direct", "FAIL"), lines("direct", "SKIP")), (4, 1, 5), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("FAIL") && l.contains(" direct ") && l.contains("411481 永城市")),
        "{table}"
    );
}

#[test]
fn exit_codes_follow_the_worst_status() {
    let sandbox = sandbox_with(&kind_table("w", "warn_above = 0", "verdict_conflicts]"));
    assert_eq!(check(&sandbox, &[]).0, Some(0));
    assert_eq!(check(&sandbox, &["--warn-error"]).0, Some(1));
    // `zhijian run` ends with the same checks and the same exit code.
    let run = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--warn-error"]);
    assert_eq!(run.status.code(), Some(1), "{}", stdout(&run));
    assert!(stdout(&run).contains("PASS=0 WARN=1 FAIL=0 SKIP=0 TOTAL=1"));
}

#[test]
fn checks_that_cannot_be_evaluated_exit_2_with_their_location() {
    // A bad definition: reported with file:line:col, before anything runs.
    let sandbox = Sandbox::food_only();
    let bad = "[[checks]]\nname = \"x\"\nwarn_below = 0.8\nfail_below = 0.9\n[checks.pass_rate]\nprogramme = \"food\"\nscope = \"town\"\n\n[[checks]]\nname = \"y\"\n[checks.sql]\nquery = \"select 1\"\n";
    std::fs::write(sandbox.path().join("pipelines/checks/henan-2013.toml"), bad).unwrap();
    let (code, text) = check(&sandbox, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains(
            "pipelines/checks/henan-2013.toml:3:14: `warn_below` = 0.8 lies inside the fail zone (`fail_below` = 0.9)"
        ),
        "{text}"
    );
    assert!(text.contains("pipelines/checks/henan-2013.toml:7:9: unknown scope `town`"), "{text}");
    assert!(text.contains("pipelines/checks/henan-2013.toml:9:1: a check needs a zone"), "{text}");

    // Missing outputs.
    let sandbox = Sandbox::food_only();
    let (code, text) = check(&sandbox, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("no complete outputs in `out/henan-2013` (no `_SUCCESS`); run `zhijian run` first"),
        "{text}"
    );

    // A query polars refuses, and a statement that is not a SELECT.
    let sandbox = sandbox_with(&kind_table("bad-sql", "fail_above = 0", "sql]\nquery = \"select nope from samples\""));
    let (code, text) = check(&sandbox, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("pipelines/checks/henan-2013.toml:2:8: check `bad-sql`: the query failed:"), "{text}");
    std::fs::write(
        sandbox.path().join("pipelines/checks/henan-2013.toml"),
        kind_table("drop", "fail_above = 0", "sql]\nquery = \"drop table samples\""),
    )
    .unwrap();
    let (code, text) = check(&sandbox, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("only SELECT queries are accepted, found `drop`"), "{text}");
    assert!(sandbox.output().join("samples").is_dir());
}

#[test]
fn junit_json_and_github_reports_read_back() {
    let sandbox = Sandbox::food_only();
    // The shipped checks: see pipelines/checks/henan-2013.toml.
    assert_eq!(sandbox.zhijian(&["run", "pipelines/henan-2013.toml"]).status.code(), Some(0));
    let summary = sandbox.path().join("step-summary.md");
    let output = Command::new(env!("CARGO_BIN_EXE_zhijian"))
        .args(["check", "pipelines/henan-2013.toml", "--junit", "checks.xml", "--json", "checks.json", "--github"])
        .current_dir(sandbox.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let closing = text.lines().find(|l| l.starts_with("PASS=")).unwrap().to_string();
    assert_eq!(closing, "PASS=19 WARN=8 FAIL=0 SKIP=8 TOTAL=35");

    // GitHub: warnings only, worst first by distance past the threshold relative to it (floor 1):
    // conflicts 2 past 0 (2.0), the SQL check 1 past 0 (1.0), the target at 1.6% of 100%
    // (0.984), 许昌 66.7% of 90% (0.259), 永城 75% (0.167), 鹿邑 85.7% (0.048), 洛阳 87.5% (0.028),
    // the reject rate 3.04% past 2% (0.010).
    let warnings: Vec<&str> = text.lines().filter(|l| l.starts_with("::warning")).collect();
    let titles: Vec<&str> =
        warnings.iter().map(|w| w.split("title=").nth(1).unwrap().split("::").next().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "verdict-conflicts (all programmes)",
            "failing-results-reported-compliant (sql)",
            "food-target-province (410000 河南省)",
            "food-pass-rate-city (411000 许昌市)",
            "food-pass-rate-direct-counties (411481 永城市)",
            "food-pass-rate-direct-counties (411628 鹿邑县)",
            "food-pass-rate-city (410300 洛阳市)",
            "reject-rate (food-samr)",
        ],
        "{text}"
    );
    assert!(
        warnings[2].ends_with(
            "::1.6%25 of the pro-rata share: 293 samples achieved, 18699 expected by 2013-09-30 (target 25000)"
        ),
        "{}",
        warnings[2]
    );
    assert!(!text.contains("::error"));
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(markdown.starts_with("## zhijian check\n\n`PASS=19 WARN=8 FAIL=0 SKIP=8 TOTAL=35`"), "{markdown}");
    assert_eq!(markdown.lines().filter(|l| l.starts_with("| WARN |")).count(), 8);

    // JSON.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sandbox.path().join("checks.json")).unwrap()).unwrap();
    assert_eq!(json["metadata"]["schema_version"], "zhijian/check-results/v1");
    assert_eq!(json["metadata"]["as_of"], "2013-09-30");
    assert_eq!(json["summary"]["total"], 35);
    let results = json["results"].as_array().unwrap();
    let province = results.iter().find(|r| r["check"] == "food-pass-rate-province").unwrap();
    assert_eq!(province["status"], "pass");
    assert!((province["observed_value"].as_f64().unwrap() - 268.0 / 291.0).abs() < 1e-12);
    assert_eq!(province["zones"]["fail_below"], 0.9);
    let sql = results.iter().find(|r| r["kind"] == "sql").unwrap();
    assert_eq!((sql["status"].as_str(), sql["observed_value"].as_f64()), (Some("warn"), Some(1.0)));
    assert_eq!(sql["failures"][1].as_str().unwrap().split(" | ").next(), Some("food:SC134104000151"));
    let mut ids: Vec<&str> = results.iter().map(|r| r["unique_id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 35);

    // JUnit, through junitparser.
    let python = std::env::var("ZHIJIAN_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let script = r#"
import sys
from junitparser import JUnitXml, Failure, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
cases = [c for suite in xml for c in suite]
names = {(c.classname, c.name) for c in cases}
failed = sum(1 for c in cases if any(isinstance(r, Failure) for r in c.result))
skipped = sum(1 for c in cases if any(isinstance(r, Skipped) for r in c.result))
print(len(cases), len(names), failed, skipped)
"#;
    let parsed = Command::new(&python).args(["-c", script]).arg(sandbox.path().join("checks.xml")).output().unwrap();
    assert!(
        parsed.status.success(),
        "run scripts/test or set ZHIJIAN_PYTHON to a Python with junitparser: {}",
        stderr(&parsed)
    );
    assert_eq!(stdout(&parsed).trim(), "35 35 0 8");
}

#[test]
fn junit_failures_carry_their_message() {
    let sandbox = sandbox_with(&kind_table(
        "province",
        "fail_below = 0.95",
        "pass_rate]\nprogramme = \"food\"\nscope = \"province\"",
    ));
    let (code, _) = check(&sandbox, &["--junit", "checks.xml", "--github"]);
    assert_eq!(code, Some(1));
    let python = std::env::var("ZHIJIAN_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let script = r#"
import sys
from junitparser import JUnitXml, Failure
case = next(c for suite in JUnitXml.fromfile(sys.argv[1]) for c in suite)
failure = next(r for r in case.result if isinstance(r, Failure))
print(case.classname, "|", case.name, "|", failure.message, "|", failure.text.splitlines()[0])
"#;
    let parsed = Command::new(&python).args(["-c", script]).arg(sandbox.path().join("checks.xml")).output().unwrap();
    assert!(parsed.status.success(), "{}", stderr(&parsed));
    assert_eq!(
        stdout(&parsed).trim(),
        "province | 410000 河南省 | pass rate 92.1% in 2013: 268 of 291 judged samples passed | observed 0.921; warn -; fail <0.95"
    );
}

#[test]
fn names_from_the_input_cannot_forge_workflow_commands_in_the_ci_log() {
    use common::hostile::{self, workflow_commands};
    let sandbox = hostile::sandbox(hostile::KINDS_CHECK);
    let summary = sandbox.path().join("step-summary.md");
    let output = Command::new(env!("CARGO_BIN_EXE_zhijian"))
        .args(["check", "pipelines/hostile.toml", "--github"])
        .current_dir(sandbox.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    // The one command in the log is zhijian's own annotation; its data escaped by GitHub's
    // rules (`%0A`), never a line of its own.
    let commands = workflow_commands(&text);
    assert_eq!(commands.len(), 1, "{commands:#?}");
    assert!(commands[0].starts_with("::warning file=pipelines/hostile.toml,line="), "{}", commands[0]);
    assert!(commands[0].ends_with("、糕点%0A::stop-commands::pwned"), "{}", commands[0]);
    // The table: one line for the check, the names shown with their newline escaped.
    let line = text.lines().find(|l| l.starts_with("WARN  kinds")).unwrap();
    assert!(
        line.ends_with(r"2 kind(s) of goods covered in 2013: <script>alert(1)</script>|[x](http://x.invalid)、糕点\n:\:stop-commands:\:pwned"),
        "{line}"
    );
    assert_eq!(text.lines().count(), 4, "{text}");
    // The step summary: one row, no HTML or link from the data, `|` escaped.
    let markdown = std::fs::read_to_string(&summary).unwrap();
    let rows: Vec<&str> = markdown.lines().filter(|l| l.starts_with("| WARN |")).collect();
    assert_eq!(
        rows,
        [
            r"| WARN | kinds | food | 2 | &lt;100 | - | 2 kind(s) of goods covered in 2013: &lt;script&gt;alert(1)&lt;/script&gt;\|\[x\](http://x.invalid)、糕点 ::stop-commands::pwned |"
        ]
    );
    assert!(!markdown.contains('<'), "{markdown}");
}

#[test]
fn sql_checks_see_only_the_tables() {
    use common::hostile;
    let secret = "\n[[checks]]\nname = \"secret\"\nfail_above = 0\n[checks.sql]\nquery = \"select * from read_csv('secret.csv')\"\n";
    let sandbox = hostile::sandbox(secret);
    // A file beside the pipeline that a query could read, had it the means.
    std::fs::write(sandbox.path().join("secret.csv"), "token\ns3cr3t\n").unwrap();
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "pipelines/hostile.toml"];
        args.extend_from_slice(extra);
        let output = sandbox.zhijian(&args);
        (output.status.code(), format!("{}{}", stdout(&output), stderr(&output)))
    };
    let (code, text) = check(&["--junit", "checks.xml", "--json", "checks.json"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("check `secret`: the query failed: expected a table (samples, results, rejects, pass_rates, attainment) or a name the query defines, found the table function `read_csv('secret.csv')`"),
        "{text}"
    );
    // Nothing of the file reaches a report: the checks could not be evaluated, none is written.
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(!sandbox.path().join("checks.xml").exists());
    assert!(!sandbox.path().join("checks.json").exists());
    // Hidden in a subquery of a filter, it is refused the same way.
    let hidden = "\n[[checks]]\nname = \"hidden\"\nfail_above = 0\n[checks.sql]\nquery = \"select sample_key from samples where sample_key not in (select token from read_csv('secret.csv'))\"\n";
    let pipeline = sandbox.path().join("pipelines/hostile.toml");
    std::fs::write(&pipeline, std::fs::read_to_string(&pipeline).unwrap().replace(secret, hidden)).unwrap();
    let (code, text) = check(&[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("check `hidden`: the query failed: expected a table"), "{text}");
}

#[test]
fn error_messages_and_log_events_cannot_forge_workflow_commands() {
    use common::hostile::{self, workflow_commands};
    let sandbox = hostile::sandbox("");
    // A file name is input too: a newline in it would put `::error::…` at the start of a line
    // of the message that names the file.
    let forged = sandbox.path().join("data/hostile/x\n::error::forged.csv");
    std::fs::write(&forged, "a,b\n1,2\n").unwrap();
    let run = sandbox.zhijian(&["run", "pipelines/hostile.toml", "--no-checks"]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("`data/hostile/x\n:\\:error:\\:forged.csv`: missing required column(s)"), "{err}");
    assert!(workflow_commands(&err).is_empty(), "{err}");
    // A log event that names it: the file is read in one run and gone in the next.
    for format in ["text", "json"] {
        std::fs::copy(sandbox.path().join("data/hostile/export.csv"), &forged).unwrap();
        let run = sandbox.zhijian(&["run", "pipelines/hostile.toml", "--no-checks"]);
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        std::fs::remove_file(&forged).unwrap();
        let run = sandbox.zhijian(&["--log-format", format, "run", "pipelines/hostile.toml", "--no-checks"]);
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(0), "{err}");
        assert!(err.contains("forged.csv"), "{format}: no event names the file\n{err}");
        assert!(workflow_commands(&err).is_empty(), "{format}:\n{err}");
    }
}
