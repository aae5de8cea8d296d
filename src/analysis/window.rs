//! The analysis window and its periods (days, ISO weeks or months in a time zone).
//!
//! Period boundaries are computed here with chrono-tz, so a week that spans a DST change is
//! exactly the local Monday-to-Monday span (167 or 169 hours), and analysis only has to find
//! which boundary each event follows.

use chrono::{Datelike, Months, NaiveDate};
use chrono_tz::Tz;

use crate::timestamp::{self, Micros};

/// `[since, until)` in UTC microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: Micros,
    pub until: Micros,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    Day,
    Week,
    Month,
}

impl PeriodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
        }
    }

    /// The first local day of the period that contains `date`.
    pub fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            PeriodKind::Day => date,
            PeriodKind::Week => date - chrono::Days::new(u64::from(date.weekday().num_days_from_monday())),
            PeriodKind::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// The first local day of the next period.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            PeriodKind::Day => start + chrono::Days::new(1),
            PeriodKind::Week => start + chrono::Days::new(7),
            PeriodKind::Month => start + Months::new(1),
        }
    }
}

/// One named period in `zone`: an ISO week (`2026-W47`), a month (`2026-11`) or a day
/// (`2026-11-23`). `None` when the text is none of these.
pub fn named_period(text: &str, zone: Tz) -> Option<(PeriodKind, Window)> {
    let text = text.trim();
    let (kind, start) = if let Some((year, week)) = text.split_once("-W").or_else(|| text.split_once("-w")) {
        let week: u32 = week.parse().ok()?;
        (
            PeriodKind::Week,
            NaiveDate::from_isoywd_opt(year.parse().ok()?, week, chrono::Weekday::Mon)?,
        )
    } else if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        (PeriodKind::Day, day)
    } else {
        let (year, month) = text.split_once('-')?;
        if month.len() != 2 {
            return None;
        }
        (
            PeriodKind::Month,
            NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)?,
        )
    };
    let window = Window {
        since: timestamp::local_midnight(start, zone),
        until: timestamp::local_midnight(kind.next(start), zone),
    };
    Some((kind, window))
}

/// One period, as local dates and as UTC instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub start_utc: Micros,
    pub end_utc: Micros,
}

/// Every period that overlaps the window, in order.
pub fn periods(window: Window, kind: PeriodKind, zone: Tz) -> Vec<Period> {
    if window.until <= window.since {
        return Vec::new();
    }
    let first = kind.start_of(timestamp::local_date(window.since, zone));
    let last_instant = window.until - 1;
    let mut out = Vec::new();
    let mut start = first;
    loop {
        let end = kind.next(start);
        let start_utc = timestamp::local_midnight(start, zone);
        if start_utc > last_instant {
            break;
        }
        out.push(Period {
            start,
            end,
            start_utc,
            end_utc: timestamp::local_midnight(end, zone),
        });
        start = end;
    }
    out
}

/// Length of `[from, to)` in local calendar days: a DST week is 7 days, not 6.96 or 7.04.
pub fn local_days(from: Micros, to: Micros, zone: Tz) -> f64 {
    let wall = |t: Micros| {
        let utc = chrono::DateTime::from_timestamp_micros(t).unwrap_or_default();
        utc.with_timezone(&zone).naive_local()
    };
    let span = wall(to) - wall(from);
    span.num_microseconds().unwrap_or(0) as f64 / timestamp::MICROS_PER_DAY as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_periods() {
        let z = chrono_tz::UTC;
        let day = |s: &str| timestamp::parse(s, z).unwrap();
        let (kind, w) = named_period("2026-W47", z).unwrap();
        assert_eq!(kind, PeriodKind::Week);
        assert_eq!((w.since, w.until), (day("2026-11-16"), day("2026-11-23")));
        let (_, w) = named_period("2026-02", z).unwrap();
        assert_eq!((w.since, w.until), (day("2026-02-01"), day("2026-03-01")));
        let (kind, _) = named_period("2026-11-23", z).unwrap();
        assert_eq!(kind, PeriodKind::Day);
        for bad in ["2026-W54", "2026-13", "26-1", "last week", "2026-1"] {
            assert_eq!(named_period(bad, z), None, "{bad}");
        }
    }

    fn utc(s: &str) -> Micros {
        chrono::DateTime::parse_from_rfc3339(s)
            .expect("valid")
            .timestamp_micros()
    }

    #[test]
    fn weeks_across_dst_in_los_angeles() {
        let la: Tz = "America/Los_Angeles".parse().expect("zone");
        // 2026-03-08 is the spring-forward Sunday in the US.
        let w = Window {
            since: utc("2026-03-02T08:00:00Z"),
            until: utc("2026-03-16T07:00:00Z"),
        };
        let p = periods(w, PeriodKind::Week, la);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].start, NaiveDate::from_ymd_opt(2026, 3, 2).expect("date"));
        assert_eq!(p[0].start_utc, utc("2026-03-02T08:00:00Z"));
        assert_eq!(p[0].end_utc, utc("2026-03-09T07:00:00Z"));
        assert_eq!((p[0].end_utc - p[0].start_utc) / timestamp::MICROS_PER_HOUR, 167);
        assert!((local_days(p[0].start_utc, p[0].end_utc, la) - 7.0).abs() < 1e-12);
    }

    #[test]
    fn months_and_partial_edges() {
        let w = Window {
            since: utc("2026-01-15T00:00:00Z"),
            until: utc("2026-03-01T00:00:00Z"),
        };
        let p = periods(w, PeriodKind::Month, Tz::UTC);
        assert_eq!(
            p.iter().map(|p| p.start.to_string()).collect::<Vec<_>>(),
            ["2026-01-01", "2026-02-01"]
        );
        assert!(periods(Window { since: 5, until: 5 }, PeriodKind::Day, Tz::UTC).is_empty());
    }
}
