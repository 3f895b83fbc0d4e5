//! The report as HTML (inline CSS and SVG, no script, no network) and as Markdown tables, with
//! numbers formatted for Chinese readers.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use zhijian_model::text::markdown_cell;

use crate::format::{escape, month_label, percent, period_label};
use crate::{Rate, Report, Section, svg};

fn interval(rate: &Rate) -> String {
    rate.interval.map_or_else(|| "-".to_string(), |(l, h)| format!("{:.1}%–{:.1}%", l * 100.0, h * 100.0))
}

fn date_label(date: Option<NaiveDate>) -> String {
    date.map_or_else(String::new, |d| format!("{}年{}月{}日", d.year(), d.month(), d.day()))
}

fn status_label(status: &str) -> &'static str {
    match status {
        "met" => "已完成",
        "on_track" => "进度达标",
        _ => "进度滞后",
    }
}

fn unit_label(unit: &str) -> &'static str {
    match unit {
        "tests" => "次",
        "kinds" => "种",
        _ => "批次",
    }
}

fn rule_label(severity: &str) -> &'static str {
    if severity == "info" { "（被后续报送替代）" } else { "" }
}

/// A Markdown table. Cells hold names from the input (categories, products, entities): each
/// goes through [`markdown_cell`], so none can split a cell or a row, or bring markup or HTML
/// into the page a CI summary or a mail client renders.
fn md_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let header: Vec<String> = header.iter().map(|h| markdown_cell(h)).collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}|", header.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| markdown_cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// An HTML table.
fn html_table(out: &mut String, header: &[&str], rows: &[Vec<String>], numeric_from: usize) {
    out.push_str("<table>\n<thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if i >= numeric_from { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

const RATE_HEADER: [&str; 8] = ["地区", "抽检批次", "合格", "不合格", "待定", "未判定", "合格率", "95%置信区间"];

fn rate_row(rate: &Rate) -> Vec<String> {
    vec![
        rate.name.clone(),
        rate.tested.to_string(),
        rate.passed.to_string(),
        rate.failed.to_string(),
        rate.pending.to_string(),
        rate.not_judged.to_string(),
        percent(rate.pass_rate),
        interval(rate),
    ]
}

/// The tables of one section, shared by both renderings: (heading, header, rows, first numeric column).
type Table = (String, Vec<&'static str>, Vec<Vec<String>>, usize);

fn section_tables(section: &Section, period: &str) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut cities: Vec<Vec<String>> = section.cities.iter().map(rate_row).collect();
    if let Some(province) = &section.province {
        cities.push(rate_row(province));
    }
    tables.push((format!("{period}各市合格率（省直管县计入所在市）"), RATE_HEADER.to_vec(), cities, 1));
    if !section.targets.is_empty() {
        let rows = section
            .targets
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    format!("{}{}", t.target, unit_label(&t.unit)),
                    t.achieved.to_string(),
                    format!("{:.0}", t.expected),
                    t.ratio.map_or_else(|| "-".to_string(), |r| format!("{:.1}%", r * 100.0)),
                    status_label(&t.status).to_string(),
                ]
            })
            .collect();
        tables.push((
            "全年任务完成进度（按时间进度折算）".to_string(),
            vec!["地区", "全年任务", "已完成", "应完成", "完成/应完成", "状态"],
            rows,
            1,
        ));
    }
    if !section.counties.is_empty() {
        let rows = section
            .counties
            .iter()
            .map(|(county, city)| {
                vec![
                    county.name.clone(),
                    county.tested.to_string(),
                    percent(county.pass_rate),
                    city.name.clone(),
                    city.tested.to_string(),
                    percent(city.pass_rate),
                ]
            })
            .collect();
        tables.push((
            "省直管县与所在市（不含该县）对比".to_string(),
            vec!["省直管县", "抽检批次", "合格率", "所在市", "抽检批次", "合格率"],
            rows,
            1,
        ));
    }
    if !section.categories.is_empty() {
        let rows = section
            .categories
            .iter()
            .map(|c| vec![c.name.clone(), c.tested.to_string(), c.failed.to_string(), percent(c.pass_rate)])
            .collect();
        tables.push(("各类别不合格情况".to_string(), vec!["类别", "抽检批次", "不合格", "合格率"], rows, 1));
    }
    if !section.items.is_empty() {
        let rows = section.items.iter().map(|(item, n)| vec![item.clone(), n.to_string()]).collect();
        tables.push(("不合格项目".to_string(), vec!["检验项目", "不合格次数"], rows, 1));
    }
    if !section.failing.is_empty() {
        let rows = section
            .failing
            .iter()
            .map(|f| {
                vec![
                    f.sample_id.clone(),
                    f.product.clone(),
                    f.entity.clone(),
                    f.city.clone(),
                    date_label(f.date),
                    f.items.join("、"),
                ]
            })
            .collect();
        tables.push((
            "不合格样品".to_string(),
            vec!["样品编号", "样品名称", "被抽样单位", "所在市", "抽样日期", "不合格项目"],
            rows,
            6,
        ));
    }
    tables
}

fn quality_tables(report: &Report) -> Vec<Table> {
    vec![
        (
            "按规则".to_string(),
            vec!["规则", "级别", "行数"],
            report
                .rejects_by_rule
                .iter()
                .map(|(rule, severity, n)| {
                    vec![format!("{rule}{}", rule_label(severity)), severity.clone(), n.to_string()]
                })
                .collect(),
            2,
        ),
        (
            "按数据来源".to_string(),
            vec!["数据来源", "行数"],
            report.rejects_by_source.iter().map(|(s, n)| vec![s.clone(), n.to_string()]).collect(),
            1,
        ),
    ]
}

fn title(report: &Report) -> (String, String) {
    let period = period_label(&report.options.period).unwrap_or_else(|| report.options.period.clone());
    (format!("{}{}质量状况分析报告", report.options.province.1, period), period)
}

fn overview_rows(report: &Report) -> Vec<Vec<String>> {
    report
        .sections
        .iter()
        .map(|s| {
            let p = s.province.as_ref();
            vec![
                s.name.clone(),
                p.map_or(0, |p| p.tested).to_string(),
                p.map_or(0, |p| p.failed).to_string(),
                percent(p.and_then(|p| p.pass_rate)),
                p.map_or_else(|| "-".to_string(), interval),
            ]
        })
        .collect()
}

const OVERVIEW_HEADER: [&str; 5] = ["项目", "抽检批次", "不合格", "合格率", "95%置信区间"];

pub(crate) fn markdown(report: &Report) -> String {
    let (heading, period) = title(report);
    let mut out = format!(
        "# {}\n\n数据截至{}。\n\n## 总体情况\n\n",
        markdown_cell(&heading),
        date_label(Some(report.options.as_of))
    );
    md_table(&mut out, &OVERVIEW_HEADER, &overview_rows(report));
    for section in &report.sections {
        let _ = writeln!(out, "## {}\n", markdown_cell(&section.name));
        for (heading, header, rows, _) in section_tables(section, &period) {
            let _ = writeln!(out, "### {}\n", markdown_cell(&heading));
            md_table(&mut out, &header, &rows);
        }
    }
    if !report.trend.is_empty() {
        out.push_str("## 月度合格率趋势\n\n");
        let months: Vec<String> = report.trend[0].1.iter().map(|(m, _)| month_label(m)).collect();
        let mut header = vec!["项目".to_string()];
        header.extend(months);
        let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows: Vec<Vec<String>> = report
            .trend
            .iter()
            .map(|(code, points)| {
                let mut row = vec![programme_name(report, code)];
                row.extend(points.iter().map(|(_, v)| percent(*v)));
                row
            })
            .collect();
        md_table(&mut out, &header_refs, &rows);
    }
    out.push_str("## 数据质量：未采用的数据行\n\n");
    for (heading, header, rows, _) in quality_tables(report) {
        let _ = writeln!(out, "### {heading}\n");
        md_table(&mut out, &header, &rows);
    }
    out
}

fn programme_name(report: &Report, code: &str) -> String {
    report.options.programmes.iter().find(|(c, _)| c == code).map_or_else(|| code.to_string(), |(_, n)| n.clone())
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif;margin:2em auto;max-width:60em;color:#1a202c;line-height:1.5}\
h1{font-size:1.6em;border-bottom:2px solid #2b6cb0;padding-bottom:.3em}h2{font-size:1.3em;margin-top:2em;color:#2b6cb0}h3{font-size:1.05em}\
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}th,td{border:1px solid #cbd5e0;padding:.25em .6em}th{background:#edf2f7}\
td.num{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1em 0}figcaption{font-size:.9em;color:#4a5568}.note{color:#4a5568;font-size:.9em}";

pub(crate) fn html(report: &Report) -> String {
    let (heading, period) = title(report);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"note\">数据截至{}。合格率 = 合格批次 ÷（合格 + 不合格批次），待定和未判定样品不计入；区间为95% Wilson置信区间。</p>\n<h2>总体情况</h2>\n",
        escape(&heading),
        escape(&heading),
        date_label(Some(report.options.as_of))
    );
    html_table(&mut out, &OVERVIEW_HEADER, &overview_rows(report), 1);
    for section in &report.sections {
        let _ = writeln!(out, "<section id=\"{}\">\n<h2>{}</h2>", escape(&section.code), escape(&section.name));
        let city_rows: Vec<svg::RateBar> =
            section.cities.iter().map(|c| (c.key.clone(), c.name.clone(), c.pass_rate, c.interval)).collect();
        let chart_title = format!("{period}{}各市合格率", section.name);
        let threshold_note = section
            .threshold
            .map_or_else(String::new, |t| format!("；虚线为{}的阈值{}", escape(&section.name), percent(Some(t))));
        let _ = writeln!(
            out,
            "<figure>{}<figcaption>{}（横线为95%置信区间{threshold_note}）</figcaption></figure>",
            svg::rate_bars(&chart_title, &city_rows, section.threshold),
            escape(&chart_title)
        );
        let targets: Vec<(String, String, i64, f64, i64)> = section
            .targets
            .iter()
            .map(|t| (t.code.clone(), t.name.clone(), t.achieved, t.expected, t.target))
            .collect();
        if !targets.is_empty() {
            let _ = writeln!(
                out,
                "<figure>{}<figcaption>全年任务完成进度（竖线为按时间进度应完成的份额）</figcaption></figure>",
                svg::attainment_bars("任务完成进度", &targets)
            );
        }
        let pairs: Vec<(String, String, Option<f64>, Option<f64>)> = section
            .counties
            .iter()
            .map(|(county, city)| {
                (county.key.clone(), format!("{}／{}", county.name, city.name), county.pass_rate, city.pass_rate)
            })
            .collect();
        if !pairs.is_empty() {
            let _ = writeln!(
                out,
                "<figure>{}<figcaption>省直管县与所在市（不含该县）合格率对比</figcaption></figure>",
                svg::paired_rates("省直管县对比", ("直管县", "所在市"), &pairs)
            );
        }
        if !section.items.is_empty() {
            let top: Vec<(String, i64)> = section.items.iter().take(10).cloned().collect();
            let _ = writeln!(
                out,
                "<figure>{}<figcaption>不合格次数最多的检验项目</figcaption></figure>",
                svg::count_bars("不合格项目", &top)
            );
        }
        let failing_categories: Vec<(String, i64)> =
            section.categories.iter().filter(|c| c.failed > 0).take(10).map(|c| (c.name.clone(), c.failed)).collect();
        if !failing_categories.is_empty() {
            let _ = writeln!(
                out,
                "<figure>{}<figcaption>不合格批次最多的类别</figcaption></figure>",
                svg::count_bars("不合格类别", &failing_categories)
            );
        }
        for (heading, header, rows, numeric) in section_tables(section, &period) {
            let _ = writeln!(out, "<h3>{}</h3>", escape(&heading));
            html_table(&mut out, &header, &rows, numeric);
        }
        out.push_str("</section>\n");
    }
    if !report.trend.is_empty() {
        let series: Vec<svg::Series> = report
            .trend
            .iter()
            .map(|(code, points)| (code.clone(), programme_name(report, code), points.clone()))
            .collect();
        let _ = writeln!(
            out,
            "<h2>月度合格率趋势</h2>\n<figure>{}<figcaption>全省各项目月度合格率</figcaption></figure>",
            svg::trend_lines("月度合格率趋势", &series)
        );
    }
    out.push_str("<h2>数据质量：未采用的数据行</h2>\n<p class=\"note\">每一行输入数据或进入结果，或连同原因进入 rejects 表；被后续报送替代的行不是错误。</p>\n");
    let by_rule: Vec<(String, i64)> =
        report.rejects_by_rule.iter().map(|(r, s, n)| (format!("{r}{}", rule_label(s)), *n)).collect();
    if !by_rule.is_empty() {
        let _ =
            writeln!(out, "<figure>{}<figcaption>按规则</figcaption></figure>", svg::count_bars("按规则", &by_rule));
    }
    for (heading, header, rows, numeric) in quality_tables(report) {
        let _ = writeln!(out, "<h3>{}</h3>", escape(&heading));
        html_table(&mut out, &header, &rows, numeric);
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_for_chinese_readers() {
        assert_eq!(percent(Some(0.92096)), "92.1%");
        assert_eq!(percent(Some(1.0)), "100.0%");
        assert_eq!(percent(None), "-");
        assert_eq!(period_label("2013"), Some("2013年".to_string()));
        assert_eq!(period_label("2013-Q1"), Some("2013年第一季度".to_string()));
        assert_eq!(period_label("2013-07"), Some("2013年7月".to_string()));
        assert_eq!(period_label("2013-13"), None);
        assert_eq!(date_label(NaiveDate::from_ymd_opt(2013, 7, 5)), "2013年7月5日");
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
