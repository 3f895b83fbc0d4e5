//! Outcomes rendered for people and machines: a text table, JUnit XML, GitHub annotations and
//! step summary, and JSON in the style of dbt's `run_results.json`.

use std::fmt::Write as _;

use zhijian_model::checks::Zones;
use zhijian_model::text::{log_line, markdown_cell};

use crate::{Outcome, Status, tally};

/// The `schema_version` of the JSON report.
pub const JSON_SCHEMA_VERSION: &str = "zhijian/check-results/v1";

fn number(value: Option<f64>) -> String {
    match value {
        None => "-".to_string(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) => format!("{v:.4}").trim_end_matches('0').to_string(),
    }
}

fn zone_text(below: Option<f64>, above: Option<f64>) -> String {
    match (below, above) {
        (Some(b), Some(a)) => format!("<{} or >{}", number(Some(b)), number(Some(a))),
        (Some(b), None) => format!("<{}", number(Some(b))),
        (None, Some(a)) => format!(">{}", number(Some(a))),
        (None, None) => "-".to_string(),
    }
}

/// The warn and fail zones as text: `<0.92` and `<0.9`.
pub fn zones_text(zones: &Zones) -> (String, String) {
    (zone_text(zones.warn_below, zones.warn_above), zone_text(zones.fail_below, zones.fail_above))
}

/// The closing line: `PASS=n WARN=n FAIL=n SKIP=n TOTAL=n`.
pub fn summary_line(outcomes: &[Outcome]) -> String {
    let (pass, warn, fail, skip) = tally(outcomes);
    format!("PASS={pass} WARN={warn} FAIL={fail} SKIP={skip} TOTAL={}", outcomes.len())
}

/// Every outcome as a text table (also the passing ones), then the summary line. Names and
/// messages come from the data: each is printed through [`log_line`], so none can end its line
/// or pass for a GitHub workflow command in a CI log.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<5} {:<28} {:<18} {:>10} {:>12} {:>12}  message",
        "", "check", "scope", "observed", "warn", "fail"
    );
    for o in outcomes {
        let (warn, fail) = zones_text(&o.zones);
        let _ = writeln!(
            out,
            "{:<5} {:<28} {:<18} {:>10} {:>12} {:>12}  {}",
            o.status.as_str().to_uppercase(),
            log_line(&o.check),
            log_line(&o.scope),
            number(o.observed),
            warn,
            fail,
            log_line(&o.message)
        );
    }
    out.push_str(&summary_line(outcomes));
    out.push('\n');
    out
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a suite named `suite`, one test case per outcome with classname = check and
/// name = scope (made unique), the message in the failure body; warnings pass with the
/// message in `system-out`; skips are `skipped`.
pub fn junit(outcomes: &[Outcome], suite: &str) -> String {
    let (_, _, fail, skip) = tally(outcomes);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"zhijian check\" tests=\"{}\" failures=\"{fail}\" errors=\"0\" skipped=\"{skip}\">",
        outcomes.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fail}\" errors=\"0\" skipped=\"{skip}\">",
        xml(suite),
        outcomes.len()
    );
    let mut seen: Vec<(String, String)> = Vec::new();
    for o in outcomes {
        let mut name = o.scope.clone();
        let mut n = 2;
        while seen.contains(&(o.check.clone(), name.clone())) {
            name = format!("{} #{n}", o.scope);
            n += 1;
        }
        seen.push((o.check.clone(), name.clone()));
        let _ = write!(out, "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">", xml(&o.check), xml(&name));
        let (warn, fail_zone) = zones_text(&o.zones);
        let detail =
            format!("observed {}; warn {warn}; fail {fail_zone}\n{}", number(o.observed), o.failures.join("\n"));
        match o.status {
            Status::Fail => {
                let _ = write!(
                    out,
                    "\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    ",
                    xml(&o.message),
                    o.kind,
                    xml(detail.trim_end())
                );
            }
            Status::Skip => {
                let _ = write!(out, "\n      <skipped message=\"{}\"/>\n    ", xml(&o.message));
            }
            Status::Warn => {
                let _ = write!(out, "\n      <system-out>WARN: {}</system-out>\n    ", xml(&o.message));
            }
            Status::Pass => {}
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// The data of a workflow command, escaped as the runner unescapes it (`%`, `\r`, `\n`);
/// other control characters, which would reach the log as they are, shown as `\u{…}`.
fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub workflow commands: at most 10 `::error` and 10 `::warning` lines, worst first.
pub fn github_annotations(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for (status, command) in [(Status::Fail, "error"), (Status::Warn, "warning")] {
        let mut picked: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == status).collect();
        picked.sort_by(|a, b| {
            b.severity.total_cmp(&a.severity).then_with(|| a.check.cmp(&b.check)).then_with(|| a.scope.cmp(&b.scope))
        });
        let total = picked.len();
        for o in picked.iter().take(10) {
            let title = escape_property(&format!("{} ({})", o.check, o.scope));
            let file = escape_property(&o.origin.file);
            let _ = writeln!(
                out,
                "::{command} file={file},line={},title={title}::{}",
                o.origin.line,
                escape_data(&o.message)
            );
        }
        if total > 10 {
            let _ = writeln!(
                out,
                "::{command} title=zhijian check::{} more {command}(s) not shown; see the step summary",
                total - 10
            );
        }
    }
    out
}

/// The full table as Markdown for `$GITHUB_STEP_SUMMARY`, cut to stay under `max_bytes`.
pub fn markdown(outcomes: &[Outcome], max_bytes: usize) -> String {
    let mut out = String::from("## zhijian check\n\n");
    let _ = writeln!(out, "`{}`\n", summary_line(outcomes));
    out.push_str("| status | check | scope | observed | warn | fail | message |\n|---|---|---|---:|---|---|---|\n");
    let mut sorted: Vec<&Outcome> = outcomes.iter().collect();
    sorted.sort_by_key(|o| o.status);
    for (i, o) in sorted.iter().enumerate() {
        let (warn, fail) = zones_text(&o.zones);
        let row = format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            o.status.as_str().to_uppercase(),
            markdown_cell(&o.check),
            markdown_cell(&o.scope),
            number(o.observed),
            markdown_cell(&warn),
            markdown_cell(&fail),
            markdown_cell(&o.message)
        );
        let note = format!("\n{} more row(s) cut to keep this summary under {max_bytes} bytes.\n", sorted.len() - i);
        if out.len() + row.len() + note.len() + 200 > max_bytes {
            out.push_str(&note);
            return out;
        }
        out.push_str(&row);
    }
    out
}

/// Every outcome as JSON, after dbt's `run_results.json`.
pub fn json(outcomes: &[Outcome], generated_at: &str, as_of: &str, suite: &str) -> serde_json::Value {
    let (pass, warn, fail, skip) = tally(outcomes);
    let results: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            serde_json::json!({
                "unique_id": format!("check.{}.{}", o.check, o.scope),
                "check": o.check,
                "kind": o.kind,
                "description": o.description,
                "scope": o.scope,
                "status": o.status.as_str(),
                "observed_value": o.observed,
                "zones": {
                    "warn_below": o.zones.warn_below,
                    "fail_below": o.zones.fail_below,
                    "warn_above": o.zones.warn_above,
                    "fail_above": o.zones.fail_above,
                },
                "message": o.message,
                "failures": o.failures,
                "defined_at": format!("{}:{}:{}", o.origin.file, o.origin.line, o.origin.column),
            })
        })
        .collect();
    serde_json::json!({
        "metadata": {
            "schema_version": JSON_SCHEMA_VERSION,
            "generated_at": generated_at,
            "zhijian_version": env!("CARGO_PKG_VERSION"),
            "pipeline": suite,
            "as_of": as_of,
        },
        "summary": {"pass": pass, "warn": warn, "fail": fail, "skip": skip, "total": outcomes.len()},
        "results": results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhijian_model::checks::Origin;

    fn outcome(check: &str, scope: &str, status: Status, severity: f64) -> Outcome {
        Outcome {
            check: check.into(),
            kind: "pass_rate",
            description: None,
            scope: scope.into(),
            status,
            observed: Some(0.5),
            zones: Zones { fail_below: Some(0.9), ..Default::default() },
            message: "pass rate 50.0%, <b>".into(),
            failures: vec![],
            severity,
            origin: Origin { file: "p.toml".into(), line: 3, column: 1 },
        }
    }

    #[test]
    fn junit_names_are_unique_and_escaped() {
        let xml = junit(
            &[outcome("c", "410100 郑州市", Status::Fail, 1.0), outcome("c", "410100 郑州市", Status::Pass, 0.0)],
            "t",
        );
        assert!(xml.contains("name=\"410100 郑州市 #2\""), "{xml}");
        assert!(xml.contains("message=\"pass rate 50.0%, &lt;b&gt;\""), "{xml}");
    }

    #[test]
    fn github_keeps_ten_of_each_worst_first() {
        let outcomes: Vec<Outcome> =
            (0..12).map(|i| outcome("c", &format!("a{i:02}"), Status::Fail, i as f64)).collect();
        let text = github_annotations(&outcomes);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 11);
        assert!(
            lines[0].starts_with("::error file=p.toml,line=3,title=c (a11)::pass rate 50.0%25, <b>"),
            "{}",
            lines[0]
        );
        assert!(lines[10].contains("2 more error(s) not shown"));
    }

    /// Lines a GitHub Actions runner would read as workflow commands: starting with `::` after
    /// leading whitespace, or holding the legacy `##[` anywhere; lines end at `\n` or `\r`.
    fn workflow_commands(output: &str) -> Vec<&str> {
        output.split(['\n', '\r']).filter(|l| l.trim_start().starts_with("::") || l.contains("##[")).collect()
    }

    #[test]
    fn names_from_the_data_cannot_inject_workflow_commands() {
        let mut hostile = outcome("c", "410100 郑州\n::stop-commands::pwned", Status::Fail, 1.0);
        hostile.message = "kinds: 糕点\r\n::error::forged, ##[set-output name=x;]y, \u{1b}[2J".into();
        let table = table(std::slice::from_ref(&hostile));
        assert!(workflow_commands(&table).is_empty(), "{table}");
        assert_eq!(table.lines().count(), 3, "{table}");
        assert!(table.contains(r"410100 郑州\n:\:stop-commands:\:pwned"), "{table}");
        assert!(table.contains(r"糕点\r\n:\:error:\:forged, #\#[set-output name=x;]y, \u{1b}[2J"), "{table}");
        // Annotations: one line each, the data escaped as the runner unescapes it.
        let annotations = github_annotations(std::slice::from_ref(&hostile));
        assert_eq!(annotations.lines().count(), 1, "{annotations}");
        assert!(
            annotations.ends_with("::kinds: 糕点%0D%0A::error::forged, ##[set-output name=x;]y, \\u{1b}[2J\n"),
            "{annotations}"
        );
        assert!(annotations.contains("title=c (410100 郑州%0A%3A%3Astop-commands%3A%3Apwned)::"), "{annotations}");
        // The step summary: one row, no markup from the data.
        hostile.message = "<img src=x onerror=alert(1)> | [a](b)\nnext".into();
        let summary = markdown(std::slice::from_ref(&hostile), 1 << 20);
        let row = summary.lines().find(|l| l.starts_with("| FAIL |")).unwrap();
        assert!(row.ends_with(r"| &lt;img src=x onerror=alert(1)&gt; \| \[a\](b) next |"), "{summary}");
        assert!(!summary.contains("\nnext"));
    }

    #[test]
    fn markdown_stays_under_its_limit() {
        let outcomes: Vec<Outcome> = (0..5000).map(|i| outcome("c", &format!("a{i}"), Status::Pass, 0.0)).collect();
        let text = markdown(&outcomes, 64 * 1024);
        assert!(text.len() < 64 * 1024);
        assert!(text.contains("more row(s) cut"));
    }
}
