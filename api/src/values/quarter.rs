//! A quarter of the year as street offices rate by it: China time.
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::china_time::{date_of, start_of};
use crate::error::{AppError, AppResult};

/// A quarter in China time, written `YYYY-Qn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    /// 1–4.
    number: u32,
}

impl Quarter {
    pub fn parse(field: &str, value: &str) -> AppResult<Self> {
        let refused = || AppError::bad_input(format!("{field} must be a quarter like 2026-Q4"));
        let (year, number) = value.trim().split_once("-Q").ok_or_else(refused)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refused());
        }
        let year: i32 = year.parse().map_err(|_| refused())?;
        let number: u32 = number.parse().map_err(|_| refused())?;
        if !(2000..=2100).contains(&year) || !(1..=4).contains(&number) {
            return Err(refused());
        }
        Ok(Self { year, number })
    }

    /// The quarter an instant falls in.
    pub fn of(at: DateTime<Utc>) -> Self {
        let day = date_of(at);
        Self {
            year: day.year(),
            number: day.month0() / 3 + 1,
        }
    }

    /// The instants it spans: `[start, end)`.
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        let first = |year, number: u32| {
            NaiveDate::from_ymd_opt(year, (number - 1) * 3 + 1, 1).unwrap_or(NaiveDate::MIN)
        };
        let next = if self.number == 4 {
            first(self.year + 1, 1)
        } else {
            first(self.year, self.number + 1)
        };
        (start_of(first(self.year, self.number)), start_of(next))
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_reads_and_writes_as_year_and_number() {
        let q = Quarter::parse("quarter", " 2026-Q4 ").expect("quarter");
        assert_eq!(q.to_string(), "2026-Q4");
        for bad in ["2026-Q5", "2026-Q0", "26-Q1", "2026Q1", "2026-4", ""] {
            assert!(Quarter::parse("quarter", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_quarter_spans_three_months_from_midnight_in_china() {
        let (start, end) = Quarter::parse("q", "2026-Q4").expect("q").bounds();
        assert_eq!(start.to_rfc3339(), "2026-09-30T16:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-12-31T16:00:00+00:00");
        assert_eq!(
            Quarter::of(end - chrono::Duration::seconds(1)).to_string(),
            "2026-Q4"
        );
        assert_eq!(Quarter::of(end).to_string(), "2027-Q1");
    }
}
