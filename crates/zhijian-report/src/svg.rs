//! Small SVG charts, written by hand: horizontal bars with intervals and a threshold line,
//! attainment bars against the pro-rata share, grouped bars, and monthly lines. Every mark
//! carries its exact value in a `data-` attribute.

use std::fmt::Write as _;

use crate::format::{escape, month_label, percent};

const FONT: &str = "font-family=\"Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, Microsoft YaHei, PingFang SC, sans-serif\"";
const LABEL: f64 = 150.0;
const WIDTH: f64 = 720.0;
const ROW: f64 = 22.0;
/// One bar of [`rate_bars`]: (code, name, pass rate, 95% interval).
pub(crate) type RateBar = (String, String, Option<f64>, Option<(f64, f64)>);
/// One line of [`trend_lines`]: (code, name, monthly rates).
pub(crate) type Series = (String, String, crate::MonthlyRates);

const PALETTE: [&str; 6] = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#4a5568"];

/// The lower end of a rate axis: 50% or below the lowest value, in steps of 10%.
fn axis_floor(values: impl Iterator<Item = f64>) -> f64 {
    let lowest = values.fold(1.0_f64, f64::min);
    ((lowest.min(0.5) * 10.0).floor() / 10.0).max(0.0)
}

fn open(height: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{}\" {FONT} font-size=\"12\">\n",
        escape(title)
    )
}

/// A row's name, right-aligned in the label column; `y` is the row's top.
fn row_label(out: &mut String, y: f64, name: &str) {
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
        LABEL - 8.0,
        y + 13.0,
        escape(name)
    );
}

/// Gridline values from `floor` to 100% in steps of 10%.
fn ticks(floor: f64) -> impl Iterator<Item = f64> {
    (0..=10).map(move |i| floor + 0.1 * f64::from(i)).take_while(|t| *t <= 1.0001)
}

fn rate_axis(out: &mut String, floor: f64, x: impl Fn(f64) -> f64, bottom: f64) {
    for tick in ticks(floor) {
        let _ = writeln!(
            out,
            "<line x1=\"{0:.1}\" y1=\"20\" x2=\"{0:.1}\" y2=\"{bottom:.1}\" stroke=\"#e2e8f0\"/><text x=\"{0:.1}\" y=\"14\" text-anchor=\"middle\" fill=\"#4a5568\">{1}</text>",
            x(tick),
            format_args!("{:.0}%", tick * 100.0)
        );
    }
}

/// Pass rates per area: a bar to the rate, a whisker for the 95% interval, a dashed threshold.
/// `rows`: (code, name, rate, interval).
pub(crate) fn rate_bars(title: &str, rows: &[RateBar], threshold: Option<f64>) -> String {
    let height = 30.0 + ROW * rows.len() as f64 + 10.0;
    let floor = axis_floor(rows.iter().filter_map(|r| r.3.map(|i| i.0).or(r.2)).chain(threshold));
    let x = |v: f64| LABEL + (v - floor) / (1.0 - floor) * (WIDTH - LABEL - 90.0);
    let mut out = open(height, title);
    rate_axis(&mut out, floor, x, height - 10.0);
    for (i, (code, name, rate, interval)) in rows.iter().enumerate() {
        let y = 24.0 + ROW * i as f64;
        row_label(&mut out, y, name);
        match rate {
            Some(rate) => {
                let _ = writeln!(
                    out,
                    "<rect class=\"bar\" data-area=\"{}\" data-pass-rate=\"{rate}\" x=\"{LABEL:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{}\"/>",
                    escape(code),
                    y + 2.0,
                    (x(*rate) - LABEL).max(0.0),
                    if threshold.is_some_and(|t| *rate < t) { "#c53030" } else { PALETTE[0] }
                );
                if let Some((low, high)) = interval {
                    let _ = writeln!(
                        out,
                        "<line class=\"interval\" data-area=\"{}\" data-low=\"{low}\" data-high=\"{high}\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1a202c\" stroke-width=\"1.5\"/>",
                        escape(code),
                        x(*low),
                        y + 9.0,
                        x(*high),
                        y + 9.0
                    );
                }
                let _ = writeln!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1a202c\">{}</text>",
                    x(1.0) + 6.0,
                    y + 13.0,
                    percent(Some(*rate))
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#718096\">无判定样品</text>",
                    LABEL + 4.0,
                    y + 13.0
                );
            }
        }
    }
    if let Some(t) = threshold {
        let _ = writeln!(
            out,
            "<line class=\"threshold\" data-threshold=\"{t}\" x1=\"{0:.1}\" y1=\"20\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#c53030\" stroke-dasharray=\"4 3\"/>",
            x(t),
            height - 10.0
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Achieved against target, with a marker at the pro-rata share due by the as-of date.
/// `rows`: (code, name, achieved, expected, target).
pub(crate) fn attainment_bars(title: &str, rows: &[(String, String, i64, f64, i64)]) -> String {
    let height = 30.0 + ROW * rows.len() as f64 + 10.0;
    let x = |v: f64| LABEL + v.clamp(0.0, 1.0) * (WIDTH - LABEL - 90.0);
    let mut out = open(height, title);
    rate_axis(&mut out, 0.0, x, height - 10.0);
    for (i, (code, name, achieved, expected, target)) in rows.iter().enumerate() {
        let y = 24.0 + ROW * i as f64;
        let share = |v: f64| if *target > 0 { v / *target as f64 } else { 0.0 };
        row_label(&mut out, y, name);
        let _ = writeln!(
            out,
            "<rect x=\"{LABEL:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"#edf2f7\"/>",
            y + 2.0,
            x(1.0) - LABEL
        );
        let _ = writeln!(
            out,
            "<rect class=\"achieved\" data-area=\"{}\" data-achieved=\"{achieved}\" data-target=\"{target}\" x=\"{LABEL:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{}\"/>",
            escape(code),
            y + 2.0,
            x(share(*achieved as f64)) - LABEL,
            if (*achieved as f64) < *expected { "#dd6b20" } else { PALETTE[2] }
        );
        let _ = writeln!(
            out,
            "<line class=\"expected\" data-area=\"{area}\" data-expected=\"{expected}\" x1=\"{mark:.1}\" y1=\"{top:.1}\" x2=\"{mark:.1}\" y2=\"{bottom:.1}\" stroke=\"#1a202c\" stroke-width=\"2\"/>",
            area = escape(code),
            top = y,
            bottom = y + 18.0,
            mark = x(share(*expected))
        );
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1a202c\">{achieved}/{target}</text>",
            x(1.0) + 6.0,
            y + 13.0
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Two bars per row: (label, first, second) with their legends; values are rates.
pub(crate) fn paired_rates(
    title: &str,
    legends: (&str, &str),
    rows: &[(String, String, Option<f64>, Option<f64>)],
) -> String {
    let height = 44.0 + 2.0 * ROW * rows.len() as f64;
    let floor = axis_floor(rows.iter().flat_map(|r| [r.2, r.3]).flatten());
    let x = |v: f64| LABEL + (v - floor) / (1.0 - floor) * (WIDTH - LABEL - 90.0);
    let mut out = open(height, title);
    rate_axis(&mut out, floor, x, height - 10.0);
    for (i, (code, name, first, second)) in rows.iter().enumerate() {
        let y = 24.0 + 2.0 * ROW * i as f64;
        row_label(&mut out, y + 7.0, name);
        for (j, (value, colour, legend)) in
            [(first, PALETTE[0], legends.0), (second, PALETTE[5], legends.1)].into_iter().enumerate()
        {
            let top = y + 2.0 + 18.0 * j as f64;
            if let Some(v) = value {
                let _ = writeln!(
                    out,
                    "<rect class=\"bar\" data-area=\"{}\" data-series=\"{}\" data-pass-rate=\"{v}\" x=\"{LABEL:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\">{} {}</text>",
                    escape(code),
                    escape(legend),
                    (x(*v) - LABEL).max(0.0),
                    x(1.0) + 6.0,
                    top + 11.0,
                    escape(legend),
                    percent(Some(*v))
                );
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

/// A label that fits the label column: at most 11 characters, the rest elided (the whole text
/// stays in the mark's `data-label` and tooltip).
fn short(label: &str) -> String {
    if label.chars().count() <= 11 {
        label.to_string()
    } else {
        format!("{}…", label.chars().take(10).collect::<String>())
    }
}

/// Counts as horizontal bars: (label, count).
pub(crate) fn count_bars(title: &str, rows: &[(String, i64)]) -> String {
    let height = 20.0 + ROW * rows.len() as f64;
    let most = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1) as f64;
    let x = |v: f64| LABEL + v / most * (WIDTH - LABEL - 90.0);
    let mut out = open(height, title);
    for (i, (label, count)) in rows.iter().enumerate() {
        let y = 8.0 + ROW * i as f64;
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect class=\"count\" data-label=\"{}\" data-count=\"{count}\" x=\"{LABEL:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{}\"><title>{}</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{count}</text>",
            LABEL - 8.0,
            y + 13.0,
            escape(&short(label)),
            escape(label),
            y + 2.0,
            x(*count as f64) - LABEL,
            PALETTE[1],
            escape(label),
            x(*count as f64) + 6.0,
            y + 13.0
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Monthly pass rates, one line per series: (series code, name, [(month label, rate)]).
pub(crate) fn trend_lines(title: &str, series: &[Series]) -> String {
    let months = series.first().map_or(0, |s| s.2.len()).max(1);
    let height = 260.0;
    let floor = axis_floor(series.iter().flat_map(|s| s.2.iter().filter_map(|p| p.1)));
    let left = 60.0;
    let right = WIDTH - 160.0;
    let x = |i: usize| left + (right - left) * if months > 1 { i as f64 / (months - 1) as f64 } else { 0.5 };
    let y = |v: f64| 20.0 + (1.0 - (v - floor) / (1.0 - floor)) * (height - 60.0);
    let mut out = open(height, title);
    for tick in ticks(floor) {
        let _ = writeln!(
            out,
            "<line x1=\"{left}\" y1=\"{0:.1}\" x2=\"{right}\" y2=\"{0:.1}\" stroke=\"#e2e8f0\"/><text x=\"{1}\" y=\"{2:.1}\" text-anchor=\"end\" fill=\"#4a5568\">{3:.0}%</text>",
            y(tick),
            left - 6.0,
            y(tick) + 4.0,
            tick * 100.0
        );
    }
    if let Some(first) = series.first() {
        for (i, (month, _)) in first.2.iter().enumerate() {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#4a5568\">{}</text>",
                x(i),
                height - 22.0,
                escape(&month_label(month))
            );
        }
    }
    for (k, (code, name, points)) in series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let path: Vec<String> =
            points.iter().enumerate().filter_map(|(i, (_, v))| v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
        if path.len() > 1 {
            let _ = writeln!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                path.join(" ")
            );
        }
        for (i, (month, v)) in points.iter().enumerate() {
            if let Some(v) = v {
                let _ = writeln!(
                    out,
                    "<circle class=\"point\" data-programme=\"{}\" data-period=\"{}\" data-pass-rate=\"{v}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                    escape(code),
                    escape(month),
                    x(i),
                    y(*v)
                );
            }
        }
        let _ = writeln!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            right + 16.0,
            24.0 + 18.0 * k as f64,
            right + 32.0,
            34.0 + 18.0 * k as f64,
            escape(name)
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_their_values_and_the_threshold() {
        let rows = vec![
            ("410100".to_string(), "郑州市".to_string(), Some(0.9333), Some((0.787, 0.982))),
            ("410200".to_string(), "开封<市>".to_string(), None, None),
        ];
        let svg = rate_bars("t", &rows, Some(0.9));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("data-area=\"410100\" data-pass-rate=\"0.9333\""));
        assert!(svg.contains("data-low=\"0.787\" data-high=\"0.982\""));
        assert!(svg.contains("data-threshold=\"0.9\""));
        assert!(svg.contains("开封&lt;市&gt;"), "names are escaped");
        assert!(svg.contains("无判定样品"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(axis_floor([0.62, 0.9].into_iter()), 0.5);
        assert_eq!(axis_floor([0.35, 0.9].into_iter()), 0.3);
        assert_eq!(axis_floor([0.95].into_iter()), 0.5);
    }
}
