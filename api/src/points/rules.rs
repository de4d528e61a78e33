//! Pure rules of the points economy.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::publication;
// Calendar months and years are those of the communities: China time.
use crate::values::{
    Month,
    china_time::{date_of, start_of},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month,
    Year,
    All,
}

/// A month's notice is published when the month ends (China time); objections are taken for
/// `publication::OBJECTION_DAYS` after that.
pub fn objection_window(month: Month) -> (DateTime<Utc>, DateTime<Utc>) {
    let (_, published) = month.bounds();
    (published, publication::objections_close(published))
}

/// Start of today, China time.
pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    start_of(date_of(now))
}

/// Start of the current period (China time), `None` for all time.
pub fn period_start(period: Period, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = date_of(now);
    match period {
        Period::Month => today.with_day(1).map(start_of),
        Period::Year => NaiveDate::from_ymd_opt(today.year(), 1, 1).map(start_of),
        Period::All => None,
    }
}

/// Points per hour of a community that has not set its own rate.
pub const DEFAULT_POINTS_PER_HOUR: i32 = 10;

/// floor(minutes × rate / 60): partial points are not rounded up.
pub fn points_for(minutes: i32, points_per_hour: i32) -> i64 {
    i64::from(minutes.max(0)) * i64::from(points_per_hour.max(0)) / 60
}

/// Minutes as hours, for display.
pub fn hours(minutes: i64) -> f64 {
    minutes as f64 / 60.0
}

/// Star level by cumulative confirmed hours, after China's volunteer record convention:
/// 100 h ★, 300 h ★★, 600 h ★★★, 1000 h ★★★★, 1500 h ★★★★★.
pub fn star_level(confirmed_minutes: i64) -> i32 {
    const THRESHOLDS_HOURS: [i64; 5] = [100, 300, 600, 1000, 1500];
    THRESHOLDS_HOURS
        .iter()
        .take_while(|hours| confirmed_minutes >= **hours * 60)
        .count() as i32
}

/// Balance after applying `amount`, or `None` when it would go negative or overflow.
pub fn apply(balance: i64, amount: i64) -> Option<i64> {
    balance.checked_add(amount).filter(|after| *after >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn points_are_floored() {
        assert_eq!(points_for(45, 10), 7);
        assert_eq!(points_for(60, 10), 10);
        assert_eq!(points_for(5, 10), 0);
        assert_eq!(points_for(480, 15), 120);
    }

    #[test]
    fn star_levels_follow_the_hour_thresholds() {
        assert_eq!(star_level(0), 0);
        assert_eq!(star_level(99 * 60 + 59), 0);
        assert_eq!(star_level(100 * 60), 1);
        assert_eq!(star_level(599 * 60), 2);
        assert_eq!(star_level(1000 * 60), 4);
        assert_eq!(star_level(5000 * 60), 5);
    }

    #[test]
    fn periods_start_at_local_midnight() {
        let now = "2026-11-23T02:00:00Z".parse().expect("time");
        let month = period_start(Period::Month, now).expect("month");
        assert_eq!(month.to_rfc3339(), "2026-10-31T16:00:00+00:00");
        assert!(period_start(Period::All, now).is_none());
    }

    proptest! {
        #[test]
        fn a_balance_never_goes_negative(start in 0i64..1_000_000, amount in -2_000_000i64..2_000_000) {
            match apply(start, amount) {
                Some(after) => prop_assert!(after >= 0 && after == start + amount),
                None => prop_assert!(start + amount < 0),
            }
        }
    }
}
