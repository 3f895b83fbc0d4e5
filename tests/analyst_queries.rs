//! The README's "For analysts" section: every worked query runs through `zhijian query` and
//! through DuckDB over the same Parquet files, and both return the same rows
//! (tests/crosscheck/same_rows.py). The three clients an analyst would use — DuckDB, polars
//! and pyarrow — read every table and agree with zhijian on row counts and on every pass-rate
//! cell (tests/crosscheck/clients.py). And `zhijian query` itself: formats, stdin, errors that
//! list what exists, read-only.
// Every query here runs through `zhijian query`, which needs the `sql` feature.
#![cfg(feature = "sql")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use common::{Sandbox, repo, stderr, stdout};

fn python() -> String {
    let python = std::env::var("ZHIJIAN_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let probe = Command::new(&python).args(["-c", "import duckdb, polars, pyarrow"]).output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "`{python}` cannot import duckdb, polars and pyarrow: run scripts/test, or set ZHIJIAN_PYTHON ({probe:?})"
    );
    python
}

fn run() -> Sandbox {
    let sandbox = Sandbox::new();
    let output = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    sandbox
}

/// The README's worked queries: (name, SQL) after each `<!-- query:NAME -->`.
fn readme_queries() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut queries = Vec::new();
    for (at, _) in readme.match_indices("<!-- query:") {
        let rest = &readme[at + "<!-- query:".len()..];
        let name = rest[..rest.find(" -->").unwrap()].to_string();
        let body = &rest[rest.find("```sql\n").unwrap() + "```sql\n".len()..];
        queries.push((name, body[..body.find("```").unwrap()].to_string()));
    }
    queries
}

/// The JSON `zhijian query` prints, as written: reparsing it with serde_json (without its
/// `float_roundtrip` feature) could move a float by one unit in the last place.
fn query_json_text(sandbox: &Sandbox, sql: &str) -> Vec<u8> {
    let output = sandbox.zhijian(&["query", "--pipeline", "pipelines/henan-2013.toml", "--format", "json", sql]);
    assert_eq!(output.status.code(), Some(0), "{sql}\n{}", stderr(&output));
    output.stdout
}

fn query_json(sandbox: &Sandbox, sql: &str) -> serde_json::Value {
    let text = query_json_text(sandbox, sql);
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&text)))
}

#[test]
fn the_readme_queries_return_the_rows_duckdb_returns() {
    let python = python();
    let sandbox = run();
    let queries = readme_queries();
    let names: Vec<&str> = queries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["pass-rate-by-city", "worst-exceedances", "monthly-trend", "repeat-offenders", "behind-target"]);
    for (name, sql) in &queries {
        let text = query_json_text(&sandbox, sql);
        let rows: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert!(!rows.as_array().unwrap().is_empty(), "{name} returned no rows");
        let query_file = sandbox.path().join(format!("{name}.sql"));
        let json_file = sandbox.path().join(format!("{name}.json"));
        std::fs::write(&query_file, sql).unwrap();
        std::fs::write(&json_file, text).unwrap();
        let check = Command::new(&python)
            .arg(repo().join("tests/crosscheck/same_rows.py"))
            .arg(sandbox.output())
            .arg(&query_file)
            .arg(&json_file)
            .output()
            .unwrap();
        assert!(check.status.success(), "{name}:\n{}{}", stdout(&check), stderr(&check));
    }
    // Spot checks worked out from the sample data's ground truth.
    let worst = query_json(&sandbox, &queries[1].1);
    assert_eq!(worst.as_array().unwrap().len(), 10);
    let trend = query_json(&sandbox, &queries[2].1);
    let food_months: Vec<&str> = trend
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["programme"] == "food")
        .map(|r| r["period"].as_str().unwrap())
        .collect();
    assert_eq!(food_months, ["2013-03", "2013-04", "2013-05", "2013-06", "2013-07", "2013-08", "2013-09"]);
}

#[test]
fn duckdb_polars_and_pyarrow_read_every_table_as_zhijian_wrote_it() {
    let python = python();
    let sandbox = run();
    let cells = query_json_text(&sandbox, "select * from pass_rates");
    let cells_file = sandbox.path().join("pass_rates.json");
    std::fs::write(&cells_file, cells).unwrap();
    let check = Command::new(&python)
        .arg(repo().join("tests/crosscheck/clients.py"))
        .arg(sandbox.output())
        .arg(&cells_file)
        .output()
        .unwrap();
    let report = stdout(&check);
    assert!(check.status.success(), "{report}\n{}", stderr(&check));
    for client in ["duckdb", "polars", "pyarrow"] {
        assert!(report.contains(&format!("{client}: 5 tables read")), "{report}");
    }
}

#[test]
fn query_formats_stdin_and_output_files() {
    let sandbox = run();
    let sql = "select programme, count(*) as samples from samples group by programme order by programme";
    // A table for people.
    let table = stdout(&sandbox.zhijian(&["query", "--dir", "out/henan-2013", sql]));
    assert_eq!(
        table,
        "programme          samples\n-----------------  -------\nagri_inputs             60\nagri_products          116\nconsumer_products       78\nfood                   293\nlivestock              138\nnet_content             42\n(6 rows)\n"
    );
    // CSV, lists joined with `;`.
    let csv = stdout(&sandbox.zhijian(&[
        "query",
        "--dir",
        "out/henan-2013",
        "--format",
        "csv",
        "select sample_key, failing_items from samples where sample_key = 'agri_products:NY2013-4107-0012'",
    ]));
    assert_eq!(csv, "sample_key,failing_items\nagri_products:NY2013-4107-0012,毒死蜱\n");
    // From stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_zhijian"))
        .args(["query", "--dir", "out/henan-2013", "--format", "json"])
        .current_dir(sandbox.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"select count(*) as n from rejects").unwrap();
    let output = child.wait_with_output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows, serde_json::json!([{"n": 57}]));
    // Parquet to a file, read back.
    let result = sandbox.zhijian(&[
        "query",
        "--dir",
        "out/henan-2013",
        "--format",
        "parquet",
        "--output",
        "failing.parquet",
        "select * from samples where verdict = 'fail'",
    ]);
    assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
    let file = std::fs::File::open(sandbox.path().join("failing.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let failing: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    let expected = query_json(&sandbox, "select count(*) as n from samples where verdict = 'fail'");
    assert_eq!(failing as u64, expected[0]["n"].as_u64().unwrap());
}

#[test]
fn unknown_names_list_what_exists_and_nothing_can_be_written() {
    let sandbox = run();
    let before = zhijian_store::table_files(&sandbox.output().join("samples")).unwrap();
    let expect_error = |args: &[&str], wanted: &[&str]| {
        let output = sandbox.zhijian(args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}\n{err}");
        for w in wanted {
            assert!(err.contains(w), "{args:?}: no {w:?} in\n{err}");
        }
    };
    expect_error(
        &["query", "--dir", "out/henan-2013", "select * from sampels"],
        &["the tables are: samples, results, rejects, pass_rates, attainment"],
    );
    expect_error(
        &["query", "--dir", "out/henan-2013", "select verdct from samples"],
        &["verdct", "valid columns: [\"sample_key\", \"programme\",", "Did you mean \"verdict\"?"],
    );
    expect_error(
        &[
            "query",
            "--dir",
            "out/henan-2013",
            "select r.verdct from results r join samples s on s.sample_key = r.sample_key",
        ],
        &["verdct", "columns of `samples`: sample_key, programme,", "columns of `results`: sample_key, programme,"],
    );
    for statement in
        ["drop table samples", "delete from samples", "copy samples to 'x.csv'", "create table x as select 1"]
    {
        expect_error(&["query", "--dir", "out/henan-2013", statement], &["only SELECT queries are accepted"]);
    }
    expect_error(
        &["query", "--dir", "out/henan-2013", "--output", "out/henan-2013/samples/x.csv", "select 1 as x"],
        &["lies inside the tables' folder"],
    );
    expect_error(&["query", "select 1"], &["--pipeline"]);
    expect_error(&["query", "--dir", "out/nowhere", "select 1"], &["no table `samples` in `out/nowhere`"]);
    assert_eq!(zhijian_store::table_files(&sandbox.output().join("samples")).unwrap(), before);
}

#[test]
fn queries_see_only_the_tables_never_a_file() {
    use common::hostile;
    let sandbox = hostile::sandbox("");
    let dir = "out/hostile";
    // Files the queries below would read: a system file, a Parquet file of the outputs, and
    // newline-delimited JSON and CSV files beside them.
    let parquet = zhijian_store::table_files(&hostile::output(&sandbox).join("samples")).unwrap()[0].clone();
    std::fs::write(sandbox.path().join("secret.json"), "{\"token\": \"s3cr3t\"}\n").unwrap();
    std::fs::write(sandbox.path().join("secret.csv"), "token\ns3cr3t\n").unwrap();
    let parquet = parquet.display().to_string();
    let refused = [
        ("SELECT * FROM Read_Csv('secret.csv')".to_string(), "the table function `Read_Csv('secret.csv')`"),
        ("select * from read_csv('/etc/passwd')".to_string(), "the table function `read_csv('/etc/passwd')`"),
        (format!("select count(*) as n from read_parquet('{parquet}')"), "the table function `read_parquet("),
        ("select * from read_json('secret.json')".to_string(), "the table function `read_json('secret.json')`"),
        ("select * from read_ipc('secret.arrow')".to_string(), "the table function `read_ipc('secret.arrow')`"),
        (
            "with s as (select * from read_csv('secret.csv')) select * from samples, s".to_string(),
            "the table function `read_csv('secret.csv')`",
        ),
        (
            "select sample_key from samples where sample_key in (select token from read_csv('secret.csv'))".to_string(),
            "the table function `read_csv('secret.csv')`",
        ),
        ("select * from samples join read_csv('secret.csv') t on true".to_string(), "the table function `read_csv("),
        ("select * from \"secret.csv\"".to_string(), "the path `\"secret.csv\"`"),
    ];
    for (sql, found) in &refused {
        let output = sandbox.zhijian(&["query", "--dir", dir, "--format", "csv", sql]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{sql}\n{}{err}", stdout(&output));
        assert!(stdout(&output).is_empty(), "{sql}: {}", stdout(&output));
        assert!(
            err.starts_with(&format!(
                "error: expected a table (samples, results, rejects, pass_rates, attainment) or a name the query defines, found {found}"
            )),
            "{sql}: {err}"
        );
        assert!(err.ends_with(": a query reads the published tables only, never a file\n"), "{sql}: {err}");
    }
    // The tables themselves, CTEs and subqueries still work.
    let output = sandbox.zhijian(&[
        "query",
        "--dir",
        dir,
        "--format",
        "json",
        "with failing as (select sample_key from samples where verdict = 'fail') select count(*) as n from failing where sample_key in (select sample_key from results)",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap(), serde_json::json!([{"n": 1}]));
}

#[test]
fn printed_results_are_safe_for_ci_logs_and_spreadsheets() {
    use common::hostile::{self, CATEGORY_HTML, CATEGORY_STOP, PRODUCT_FORMULA, PRODUCT_LEGACY, workflow_commands};
    let sandbox = hostile::sandbox("");
    let query = |extra: &[&str]| {
        let mut args = vec!["query", "--dir", "out/hostile"];
        args.extend_from_slice(extra);
        args.push("select category_1, product_name from samples order by sample_key");
        let output = sandbox.zhijian(&args);
        assert_eq!(output.status.code(), Some(0), "{extra:?}: {}", stderr(&output));
        output
    };
    // The table, for people and CI logs: one line per row, no workflow command.
    let table = stdout(&query(&[]));
    assert!(workflow_commands(&table).is_empty(), "{table}");
    assert_eq!(
        table.lines().collect::<Vec<_>>(),
        [
            "category_1                                       product_name",
            "-----------------------------------------------  ------------------------------",
            r#"糕点\n:\:stop-commands:\:pwned                   =HYPERLINK("http://x.invalid")"#,
            r"<script>alert(1)</script>|[x](http://x.invalid)  #\#[error]forged",
            "(2 rows)",
        ]
    );
    // CSV: the formula gets a leading `'` (quoted, as it holds `"`); the data is otherwise as
    // stored, newline included.
    let guarded = stdout(&query(&["--format", "csv"]));
    let expected = |formula: &str| {
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record(["category_1", "product_name"]).unwrap();
        csv.write_record([CATEGORY_STOP, formula]).unwrap();
        csv.write_record([CATEGORY_HTML, PRODUCT_LEGACY]).unwrap();
        String::from_utf8(csv.into_inner().unwrap()).unwrap()
    };
    assert_eq!(guarded, expected(&format!("'{PRODUCT_FORMULA}")));
    let raw = stdout(&query(&["--format", "csv", "--no-formula-guard"]));
    assert_eq!(raw, expected(PRODUCT_FORMULA));
    // JSON: one line, the same strings to a JSON reader, `##[` never in the raw text.
    let json = stdout(&query(&["--format", "json"]));
    assert!(workflow_commands(&json).is_empty(), "{json}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&json).unwrap(),
        serde_json::json!([
            {"category_1": CATEGORY_STOP, "product_name": PRODUCT_FORMULA},
            {"category_1": CATEGORY_HTML, "product_name": PRODUCT_LEGACY},
        ])
    );
}
