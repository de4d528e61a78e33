//! Days, months and years as residents and street offices count them: China time (UTC+8,
//! no daylight saving), as the instants they span.
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

use crate::error::{AppError, AppResult};

pub const OFFSET: chrono::Duration = chrono::Duration::hours(8);

/// The UTC instant a China-time day starts.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc() - OFFSET
}

/// The wall-clock time in China at an instant.
pub fn local(at: DateTime<Utc>) -> NaiveDateTime {
    (at + OFFSET).naive_utc()
}

/// The China-time day an instant falls on.
pub fn date_of(at: DateTime<Utc>) -> NaiveDate {
    local(at).date()
}

/// Today in China.
pub fn today() -> NaiveDate {
    date_of(Utc::now())
}

/// The year (China time) an instant falls in.
pub fn year_of(at: DateTime<Utc>) -> i32 {
    date_of(at).year()
}

/// The UTC instant a China-time year starts, if the calendar has it.
pub fn start_of_year(year: i32) -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(year, 1, 1).map(start_of)
}

/// A calendar year in China time, as the instants it spans.
pub fn year_bounds(year: i32) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    match (start_of_year(year), start_of_year(year + 1)) {
        (Some(from), Some(to)) if (2000..=2100).contains(&year) => Ok((from, to)),
        _ => Err(AppError::bad_input("year must be between 2000 and 2100")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_runs_from_new_year_in_china() {
        let (from, to) = year_bounds(2026).expect("year");
        assert_eq!(from.to_rfc3339(), "2025-12-31T16:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-12-31T16:00:00+00:00");
        assert!(year_bounds(1900).is_err());
    }

    #[test]
    fn the_day_turns_at_midnight_in_china() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
        assert_eq!(date_of(start_of(day)), day);
        assert_eq!(
            date_of(start_of(day) - chrono::Duration::seconds(1)),
            day.pred_opt().expect("date")
        );
    }
}
