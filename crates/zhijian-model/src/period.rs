//! A pass-rate period: a calendar month, quarter or year, as `pass_rates.period` writes it
//! (`2013-07`, `2013-Q3`, `2013`), with its first and last day.

use chrono::{Datelike, NaiveDate};

use crate::PeriodType;

/// A calendar month, quarter or year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    /// Its first day.
    pub start: NaiveDate,
    /// Its length.
    pub kind: PeriodType,
}

impl Period {
    /// The month, quarter or year containing `date`.
    pub fn containing(kind: PeriodType, date: NaiveDate) -> Period {
        let month = match kind {
            PeriodType::Month => date.month(),
            PeriodType::Quarter => (date.month() - 1) / 3 * 3 + 1,
            PeriodType::Year => 1,
        };
        // The first of a month of the date's own year always exists.
        let start = NaiveDate::from_ymd_opt(date.year(), month, 1).unwrap_or(date);
        Period { start, kind }
    }

    /// The month, quarter and year containing `date`, in that order.
    pub fn all_containing(date: NaiveDate) -> [Period; 3] {
        [PeriodType::Month, PeriodType::Quarter, PeriodType::Year].map(|kind| Period::containing(kind, date))
    }

    /// As `pass_rates.period` writes it: `2013-07`, `2013-Q3`, `2013`.
    pub fn label(&self) -> String {
        let year = self.start.year();
        match self.kind {
            PeriodType::Month => format!("{year}-{:02}", self.start.month()),
            PeriodType::Quarter => format!("{year}-Q{}", (self.start.month() - 1) / 3 + 1),
            PeriodType::Year => year.to_string(),
        }
    }

    /// The period a label names (four-digit years only); `None` for anything else.
    pub fn parse(label: &str) -> Option<Period> {
        let year: i32 = label.get(..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()?;
        let (kind, month) = match label.get(4..)? {
            "" => (PeriodType::Year, 1),
            rest => match rest.strip_prefix("-Q") {
                Some(q) => {
                    let q: u32 = q.parse().ok().filter(|n: &u32| (1..=4).contains(n) && q.len() == 1)?;
                    (PeriodType::Quarter, q * 3 - 2)
                }
                None => {
                    let m = rest.strip_prefix('-').filter(|m| m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()))?;
                    (PeriodType::Month, m.parse().ok().filter(|m| (1..=12).contains(m))?)
                }
            },
        };
        Some(Period { start: NaiveDate::from_ymd_opt(year, month, 1)?, kind })
    }

    /// Its first and last day.
    pub fn range(&self) -> (NaiveDate, NaiveDate) {
        let months = match self.kind {
            PeriodType::Month => 1,
            PeriodType::Quarter => 3,
            PeriodType::Year => 12,
        };
        let next = self.start.checked_add_months(chrono::Months::new(months));
        let last = next.and_then(|n| n.pred_opt()).unwrap_or(NaiveDate::MAX);
        (self.start, last)
    }

    /// Whether `date` falls in it.
    pub fn contains(&self, date: NaiveDate) -> bool {
        let (first, last) = self.range();
        (first..=last).contains(&date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_as_pass_rates_writes_them() {
        let [month, quarter, year] = Period::all_containing(d(2013, 9, 30));
        assert_eq!((month.label(), quarter.label(), year.label()), ("2013-09".into(), "2013-Q3".into(), "2013".into()));
        assert_eq!(month.range(), (d(2013, 9, 1), d(2013, 9, 30)));
        assert_eq!(quarter.range(), (d(2013, 7, 1), d(2013, 9, 30)));
        assert_eq!(year.range(), (d(2013, 1, 1), d(2013, 12, 31)));
        assert_eq!(Period::containing(PeriodType::Month, d(2012, 2, 10)).range().1, d(2012, 2, 29));
        assert_eq!(Period::containing(PeriodType::Quarter, d(2013, 12, 31)).label(), "2013-Q4");
        for bad in [
            "",
            "13",
            "2013-",
            "2013-13",
            "2013-7",
            "2013-Q5",
            "2013-Q0",
            "2013-Q01",
            "2013Q3",
            "２０１３",
            "+201",
            "2013-+7",
            "2013-Q+",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_day_of_a_few_years_is_in_its_periods_and_each_label_reads_back() {
        let mut day = d(2011, 12, 25);
        while day < d(2016, 1, 5) {
            for period in Period::all_containing(day) {
                assert!(period.contains(day), "{day} {period:?}");
                assert_eq!(Period::parse(&period.label()), Some(period), "{day}");
                let (first, last) = period.range();
                assert!(!period.contains(first.pred_opt().unwrap()) && !period.contains(last.succ_opt().unwrap()));
            }
            day = day.succ_opt().unwrap();
        }
    }
}
