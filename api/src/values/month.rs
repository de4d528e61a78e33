//! A calendar month as communities count it: China time.
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::china_time::{date_of, start_of};
use crate::error::{AppError, AppResult};

/// A month in China time, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    /// `YYYY-MM`; `YYYY-M` is taken too, as apps in the field have sent it.
    pub fn parse(field: &str, value: &str) -> AppResult<Self> {
        let refused = || AppError::bad_input(format!("{field} must be a month like 2026-11"));
        let (year, month) = value.trim().split_once('-').ok_or_else(refused)?;
        let digits = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
            lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(year, 4..=4) || !digits(month, 1..=2) {
            return Err(refused());
        }
        let (year, month) = (
            year.parse().map_err(|_| refused())?,
            month.parse().map_err(|_| refused())?,
        );
        NaiveDate::from_ymd_opt(year, month, 1)
            .filter(|_| (2000..=2100).contains(&year))
            .map(|first| Self { first })
            .ok_or_else(refused)
    }

    /// The month (China time) an instant falls in.
    pub fn of(at: DateTime<Utc>) -> Self {
        let day = date_of(at);
        Self {
            first: day.with_day(1).unwrap_or(day),
        }
    }

    /// The instants the month starts and ends (exclusive).
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        let next = self
            .first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
        (start_of(self.first), start_of(next))
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first.format("%Y-%m"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_run_in_china_time() {
        let (from, to) = Month::parse("month", "2026-12").expect("month").bounds();
        assert_eq!(from.to_rfc3339(), "2026-11-30T16:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-12-31T16:00:00+00:00");
    }

    #[test]
    fn one_parser_takes_both_spellings_and_writes_one() {
        assert_eq!(
            Month::parse("month", "2026-1").expect("month").to_string(),
            "2026-01"
        );
        assert_eq!(
            Month::parse("month", "2026-01").expect("month").to_string(),
            "2026-01"
        );
        for bad in [
            "2026-13", "2026-0", "November", "2026-011", "26-01", "2026-+1", "1900-01", "",
        ] {
            assert!(Month::parse("month", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_month_turns_at_midnight_in_china() {
        let (from, _) = Month::parse("month", "2026-12").expect("month").bounds();
        assert_eq!(Month::of(from).to_string(), "2026-12");
        assert_eq!(
            Month::of(from - chrono::Duration::seconds(1)).to_string(),
            "2026-11"
        );
    }
}
