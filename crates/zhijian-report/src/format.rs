//! The report's texts for cells: escaped HTML, percents and Chinese period names, used by the
//! tables and the charts alike.

/// Escapes text for HTML and SVG.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A rate as a percent with one decimal (`92.1%`); `-` when there is none.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_string(), |r| format!("{:.1}%", r * 100.0))
}

/// `2013` → 2013年, `2013-Q3` → 2013年第三季度, `2013-07` → 2013年7月.
pub fn period_label(period: &str) -> Option<String> {
    use chrono::Datelike;
    let period = zhijian_model::Period::parse(period)?;
    let (year, month) = (period.start.year(), period.start.month());
    Some(match period.kind {
        zhijian_model::PeriodType::Year => format!("{year}年"),
        zhijian_model::PeriodType::Quarter => {
            format!("{year}年第{}季度", ["一", "二", "三", "四"][((month - 1) / 3) as usize])
        }
        zhijian_model::PeriodType::Month => format!("{year}年{month}月"),
    })
}

/// `2013-07` → 2013年7月.
pub(crate) fn month_label(month: &str) -> String {
    period_label(month).unwrap_or_else(|| month.to_string())
}
