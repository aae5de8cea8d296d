//! Turns parsed arguments into what the library needs: a time zone, a window, a data source.
//! Environment variables are read by clap (`DORA_STORE`), nowhere else.

use chrono_tz::Tz;

use crate::analysis::Window;
use crate::error::{Error, Result};
use crate::timestamp::{self, MICROS_PER_DAY, Micros};

pub fn time_zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| Error::UnknownTimeZone(name.to_string()))
}

pub fn instant(flag: &'static str, value: &str, zone: Tz) -> Result<Micros> {
    timestamp::parse(value, zone).ok_or_else(|| Error::InvalidArgument {
        flag,
        value: value.to_string(),
        expected: timestamp::EXPECTED.to_string(),
    })
}

/// Now, or the instant of `--as-of`: the one place dora reads the clock, so that `--as-of`
/// makes every command reproducible.
pub fn now(as_of: Option<&str>, zone: Tz) -> Result<Micros> {
    match as_of {
        Some(v) => instant("--as-of", v, zone),
        None => Ok(chrono::Utc::now().timestamp_micros()),
    }
}

/// The window from `--since`/`--until`/`--as-of`; `span` (first and last event) for `--all`.
pub fn window(
    since: Option<&str>,
    until: Option<&str>,
    all: bool,
    as_of: Option<&str>,
    zone: Tz,
    span: impl FnOnce() -> Result<Option<(Micros, Micros)>>,
) -> Result<Window> {
    let now = now(as_of, zone)?;
    if all {
        return Ok(match span()? {
            Some((first, last)) => {
                let start = timestamp::local_date(first, zone);
                let end = timestamp::local_date(last, zone) + chrono::Days::new(1);
                Window {
                    since: timestamp::local_midnight(start, zone),
                    until: timestamp::local_midnight(end, zone),
                }
            }
            None => Window { since: now, until: now },
        });
    }
    let until = until.map(|v| instant("--until", v, zone)).transpose()?.unwrap_or(now);
    let since = since
        .map(|v| instant("--since", v, zone))
        .transpose()?
        .unwrap_or(until - 90 * MICROS_PER_DAY);
    if since > until {
        return Err(Error::InvalidArgument {
            flag: "--since",
            value: timestamp::format_utc(since),
            expected: format!("a time before --until ({})", timestamp::format_utc(until)),
        });
    }
    Ok(Window { since, until })
}
