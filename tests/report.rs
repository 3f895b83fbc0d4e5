//! The quality-status report: every figure in report.md and in the charts of report.html
//! equals the cell of pass_rates / attainment it shows, and report.html loads in headless
//! Chromium (installed by `.ci/run`) with nothing logged to the console; a screenshot is saved.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use common::{Sandbox, rows, stderr, stdout};

fn percent(value: &str) -> String {
    if value.is_empty() { "-".to_string() } else { format!("{:.1}%", value.parse::<f64>().unwrap() * 100.0) }
}

fn interval(cell: &BTreeMap<String, String>) -> String {
    if cell["wilson_low"].is_empty() {
        return "-".to_string();
    }
    let (l, h): (f64, f64) = (cell["wilson_low"].parse().unwrap(), cell["wilson_high"].parse().unwrap());
    format!("{:.1}%–{:.1}%", l * 100.0, h * 100.0)
}

fn report() -> (Sandbox, String, String) {
    let sandbox = Sandbox::new();
    let run = sandbox.zhijian(&["run", "pipelines/henan-2013.toml", "--no-checks"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    // The nightly run writes the year-to-date report with the tables.
    assert!(sandbox.output().join("report/report.html").is_file());
    assert!(sandbox.output().join("report/report.md").is_file());
    let output =
        sandbox.zhijian(&["report", "--pipeline", "pipelines/henan-2013.toml", "--period", "2013-Q3", "--out", "rep"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "rep/report.html\nrep/report.md\n");
    let html = std::fs::read_to_string(sandbox.path().join("rep/report.html")).unwrap();
    let md = std::fs::read_to_string(sandbox.path().join("rep/report.md")).unwrap();
    (sandbox, html, md)
}

#[test]
fn every_figure_equals_its_cell_in_pass_rates_and_attainment() {
    let (sandbox, html, md) = report();
    assert!(md.starts_with("# 河南省2013年第三季度质量状况分析报告\n\n数据截至2013年9月30日。\n"), "{md}");
    let cube = rows(&sandbox.output().join("pass_rates"));
    let mut checked = 0;
    for cell in cube.iter().filter(|c| c["period"] == "2013-Q3" && c["category"] == "all") {
        let level = cell["area_level"].as_str();
        if level != "city" && level != "province" {
            continue;
        }
        // The Markdown row.
        let line = format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell["area_name"],
            cell["tested"],
            cell["passed"],
            cell["failed"],
            cell["pending"],
            cell["not_judged"],
            percent(&cell["pass_rate"]),
            interval(cell)
        );
        assert!(md.contains(&line), "report.md lacks {line}");
        // The chart's bar, with the exact value, inside its programme's section.
        if level == "city" && !cell["pass_rate"].is_empty() {
            let section = &html[html.find(&format!("<section id=\"{}\">", cell["programme"])).unwrap()..];
            let section = &section[..section.find("</section>").unwrap()];
            let bar =
                format!("class=\"bar\" data-area=\"{}\" data-pass-rate=\"{}\"", cell["area_code"], cell["pass_rate"]);
            assert!(section.contains(&bar), "report.html lacks {bar}");
            checked += 1;
        }
    }
    assert!(checked > 60, "{checked} bars checked");
    // Monthly trend points equal the month cells.
    for cell in cube.iter().filter(|c| {
        c["period_type"] == "month"
            && c["area_level"] == "province"
            && c["category"] == "all"
            && c["period"].as_str() <= "2013-09"
            && !c["pass_rate"].is_empty()
    }) {
        let point = format!(
            "data-programme=\"{}\" data-period=\"{}\" data-pass-rate=\"{}\"",
            cell["programme"], cell["period"], cell["pass_rate"]
        );
        assert!(html.contains(&point), "report.html lacks {point}");
    }
    // Attainment: achieved and expected as in the table, in the chart and the Markdown.
    let attainment = rows(&sandbox.output().join("attainment"));
    for row in attainment.iter().filter(|r| r["area_level"] == "province") {
        let section = &html[html.find(&format!("<section id=\"{}\">", row["programme"])).unwrap()..];
        let mark = format!("data-area=\"{}\" data-expected=\"{}\"", row["area_code"], row["expected"]);
        assert!(section.contains(&mark), "report.html lacks {mark}");
        let achieved = format!("data-achieved=\"{}\" data-target=\"{}\"", row["achieved"], row["target"]);
        assert!(section.contains(&achieved), "report.html lacks {achieved}");
    }
    assert!(md.contains("| 河南省 | 25000批次 | 293 | 18699 | 1.6% | 进度滞后 |"), "{md}");
    assert!(md.contains("| 河南省 | 100000次 | 443 | 74795 | 0.6% | 进度滞后 |"), "{md}");
    assert!(md.contains("| 河南省 | 10种 | 9 | 7 | 120.3% | 进度达标 |"), "{md}");
    // Rejects by source add up to the rejects table.
    let rejects = rows(&sandbox.output().join("rejects"));
    assert!(md.contains(&format!("| food-samr | {} |", rejects.iter().filter(|r| r["source"] == "food-samr").count())));
    // The threshold line comes from the pipeline's checks: food's fail zone, 90%.
    assert!(html.contains("data-threshold=\"0.9\""));
    // Failing samples name their entity; 2013-Q3 only.
    let samples = rows(&sandbox.output().join("samples"));
    let failing_q3 = samples
        .iter()
        .filter(|s| {
            s["verdict"] == "fail"
                && s["sampling_date"].as_str() >= "2013-07-01"
                && s["sampling_date"].as_str() <= "2013-09-30"
        })
        .count();
    let table_rows = md
        .lines()
        .filter(|l| l.matches(" | ").count() == 5 && l.contains("年") && l.contains("月") && l.contains("日 |"))
        .count();
    assert_eq!(table_rows, failing_q3, "one row per failing sample of the quarter");
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "no Chromium at `{}`: .ci/run installs Debian's `chromium`, or set CHROMIUM",
        path.display()
    );
    path
}

fn headless(sandbox: &Sandbox) -> Command {
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    command.arg(format!("--user-data-dir={}", sandbox.path().join("chromium-profile").display()));
    command
}

#[test]
fn report_html_loads_in_headless_chromium_without_console_errors() {
    let (sandbox, _, _) = report();
    let page = format!("file://{}", sandbox.path().join("rep/report.html").display());
    let dom = headless(&sandbox).arg("--dump-dom").arg(&page).output().unwrap();
    assert!(dom.status.success(), "{}", stderr(&dom));
    let text = stdout(&dom);
    for expected in
        ["河南省2013年第三季度质量状况分析报告", "食品抽样检验和风险监测", "90.6%", "月度合格率趋势", "数据质量"]
    {
        assert!(text.contains(expected), "the rendered page lacks {expected}");
    }
    assert_eq!(text.matches("<svg").count(), text.matches("</svg>").count());
    assert!(text.matches("<svg").count() >= 20, "charts rendered");
    let console = |output: &std::process::Output| -> Vec<String> {
        stderr(output).lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect()
    };
    assert!(console(&dom).is_empty(), "console messages: {:#?}", console(&dom));
    // The console check can fail: a page that logs an error is caught by the same harness.
    let bad = sandbox.path().join("bad.html");
    std::fs::write(&bad, "<html><body><script>console.error(\"boom\")</script></body></html>").unwrap();
    let caught = headless(&sandbox).arg("--dump-dom").arg(format!("file://{}", bad.display())).output().unwrap();
    assert!(console(&caught).iter().any(|l| l.contains("boom")), "{}", stderr(&caught));
    // Nothing was fetched from anywhere: the page is self-contained.
    assert_eq!(text.matches("http://").count(), text.matches("http://www.w3.org/2000/svg").count());
    assert!(!text.contains("https://"));

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-2013-Q3.png");
    let screenshot = headless(&sandbox)
        .arg("--window-size=1200,3000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&page)
        .output()
        .unwrap();
    assert!(screenshot.status.success(), "{}", stderr(&screenshot));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "{} bytes at {}", png.len(), shot.display());
}

#[test]
fn names_from_the_input_are_escaped_in_report_md_and_report_html() {
    use common::hostile;
    let sandbox = hostile::sandbox("");
    let report = hostile::output(&sandbox).join("report");
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    // Worked out by hand from the names in tests/common/hostile.rs: newlines become spaces,
    // `|` and Markdown's markup characters get a backslash, `<` `>` `&` become entities.
    let categories = [
        "| 糕点 ::stop-commands::pwned | 1 | 1 | 0.0% |",
        r"| &lt;script&gt;alert(1)&lt;/script&gt;\|\[x\](http://x.invalid) | 1 | 0 | 100.0% |",
    ];
    for row in categories {
        assert!(md.lines().any(|l| l == row), "report.md lacks {row}\n{md}");
    }
    let failing = r#"| H1 | =HYPERLINK("http://x.invalid") | 某\|公司 \#\# 标题 &lt;b&gt;粗&lt;/b&gt; | 郑州市 | 2013年7月5日 | 铅(以Pb计) |"#;
    assert!(md.lines().any(|l| l == failing), "report.md lacks {failing}\n{md}");
    // Every table row has as many cells as its header: no name split a cell or a row.
    let cells = |line: &str| line.replace(r"\|", "").matches('|').count();
    let lines: Vec<&str> = md.lines().collect();
    let mut header = None;
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with('|') {
            header = None;
        } else if lines.get(i + 1).is_some_and(|next| next.starts_with("|-")) {
            header = Some(cells(line));
        } else if !line.starts_with("|-") {
            assert_eq!(Some(cells(line)), header, "a row whose cells do not match its header: {line}");
        }
    }
    assert!(!md.contains('<'), "report.md holds HTML:\n{md}");
    assert!(!md.lines().any(|l| l.starts_with("## 标题")), "{md}");
    // report.html escapes the same names as text.
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(!html.contains("<script") && !html.contains("<b>"), "report.html holds markup from the data");
    assert!(html.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;|[x](http://x.invalid)</td>"));
    assert!(html.contains("<td>某|公司\n## 标题 &lt;b&gt;粗&lt;/b&gt;</td>"));
}
