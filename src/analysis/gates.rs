//! Threshold gates for CI: `dora check --max-lead-time 2d --max-change-failure-rate 15% ...`.
//!
//! A gate compares one figure of a scope (overall, or each group with `--by`) with a limit. A
//! figure without data (no deployments, no changes) cannot break a limit; it is reported as
//! such, and `--strict` counts it as a failure.

use std::fmt;

use crate::analysis::figures::Figures;

/// The figure a threshold applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gauge {
    /// Median lead time for changes, hours.
    LeadTime,
    ChangeFailureRate,
    DeploymentsPerWeek,
    /// Median time to restore service, hours.
    TimeToRestore,
    /// Median failed deployment recovery time, hours.
    RecoveryTime,
    ReworkRate,
}

impl Gauge {
    pub fn name(self) -> &'static str {
        match self {
            Gauge::LeadTime => "lead time (median)",
            Gauge::ChangeFailureRate => "change failure rate",
            Gauge::DeploymentsPerWeek => "deployments per week",
            Gauge::TimeToRestore => "time to restore (median)",
            Gauge::RecoveryTime => "failed deployment recovery (median)",
            Gauge::ReworkRate => "rework rate",
        }
    }

    fn unit(self) -> Unit {
        match self {
            Gauge::LeadTime | Gauge::TimeToRestore | Gauge::RecoveryTime => Unit::Hours,
            Gauge::ChangeFailureRate | Gauge::ReworkRate => Unit::Share,
            Gauge::DeploymentsPerWeek => Unit::Count,
        }
    }

    /// The figure's value, `None` without data.
    pub fn value(self, f: &Figures) -> Option<f64> {
        match self {
            Gauge::LeadTime => f.lead_time_hours.median,
            Gauge::ChangeFailureRate => f.change_failure_rate,
            Gauge::DeploymentsPerWeek => f.deployment_frequency.per_week,
            Gauge::TimeToRestore => f.time_to_restore_hours.median,
            Gauge::RecoveryTime => f.failed_deployment_recovery_hours.median,
            Gauge::ReworkRate => f.rework_rate,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Hours,
    Share,
    Count,
}

/// Whether the figure must stay at most or at least the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Max,
    Min,
}

/// One limit, as given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub gauge: Gauge,
    pub bound: Bound,
    pub limit: f64,
    /// The limit as the user wrote it, for messages.
    pub text: String,
}

impl Threshold {
    /// Parses `value` for `gauge`: durations (`90m`, `36h`, `2d`, `1w`) for times, `15%` or
    /// `0.15` for rates, a number for deployments per week.
    pub fn parse(gauge: Gauge, bound: Bound, value: &str) -> Result<Self, String> {
        let limit = match gauge.unit() {
            Unit::Hours => parse_hours(value)?,
            Unit::Share => parse_share(value)?,
            Unit::Count => parse_number(value)?,
        };
        Ok(Threshold {
            gauge,
            bound,
            limit,
            text: value.trim().to_string(),
        })
    }

    /// Whether `value` keeps to the limit.
    pub fn holds(&self, value: f64) -> bool {
        match self.bound {
            Bound::Max => value <= self.limit,
            Bound::Min => value >= self.limit,
        }
    }

    pub fn format_value(&self, value: f64) -> String {
        match self.gauge.unit() {
            Unit::Hours => crate::output::duration(Some(value)),
            Unit::Share => crate::output::percent(Some(value)),
            Unit::Count => format!("{value:.2}"),
        }
    }
}

/// "at most 2d", "at least 3".
impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.bound {
            Bound::Max => "at most",
            Bound::Min => "at least",
        };
        write!(f, "{op} {}", self.text)
    }
}

fn parse_number(text: &str) -> Result<f64, String> {
    let x: f64 = text.trim().parse().map_err(|_| "a number".to_string())?;
    if !x.is_finite() || x < 0.0 {
        return Err("a number, zero or more".into());
    }
    Ok(x)
}

const DURATION: &str = "a duration with a unit: m, h, d or w (e.g. `36h`, `2d`)";

fn parse_hours(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let factor = match unit.trim() {
        "m" | "min" | "mins" | "minutes" => 1.0 / 60.0,
        "h" | "hour" | "hours" => 1.0,
        "d" | "day" | "days" => 24.0,
        "w" | "week" | "weeks" => 168.0,
        _ => return Err(DURATION.into()),
    };
    Ok(parse_number(number).map_err(|_| DURATION.to_string())? * factor)
}

const RATE: &str = "a percentage (`15%`) or a share (`0.15`), at most 100%";

fn parse_share(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let share = match t.strip_suffix('%') {
        Some(p) => parse_number(p).map_err(|_| RATE.to_string())? / 100.0,
        None => parse_number(t).map_err(|_| RATE.to_string())?,
    };
    if share > 1.0 {
        return Err(RATE.into());
    }
    Ok(share)
}

/// The result of one threshold on one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `None` for the overall figures, else the group's key (`(none)` for rows without one).
    pub scope: Option<String>,
    pub threshold: Threshold,
    /// `None`: no data.
    pub value: Option<f64>,
    pub passed: bool,
}

/// Evaluates every threshold on one scope; without data a threshold passes unless `strict`.
pub fn evaluate(scope: Option<&str>, figures: &Figures, thresholds: &[Threshold], strict: bool) -> Vec<Outcome> {
    thresholds
        .iter()
        .map(|t| {
            let value = t.gauge.value(figures);
            Outcome {
                scope: scope.map(str::to_string),
                threshold: t.clone(),
                value,
                passed: value.map_or(!strict, |v| t.holds(v)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        let t = |g, v| Threshold::parse(g, Bound::Max, v).map(|t| t.limit);
        assert_eq!(t(Gauge::LeadTime, "2d"), Ok(48.0));
        assert_eq!(t(Gauge::LeadTime, "36h"), Ok(36.0));
        assert_eq!(t(Gauge::LeadTime, "90m"), Ok(1.5));
        assert_eq!(t(Gauge::TimeToRestore, "1.5 w"), Ok(252.0));
        assert_eq!(t(Gauge::ChangeFailureRate, "15%"), Ok(0.15));
        assert_eq!(t(Gauge::ChangeFailureRate, "0.15"), Ok(0.15));
        assert_eq!(t(Gauge::DeploymentsPerWeek, "3"), Ok(3.0));
        assert!(t(Gauge::LeadTime, "2").unwrap_err().contains("a duration with a unit"));
        assert!(t(Gauge::LeadTime, "2y").unwrap_err().contains("a duration with a unit"));
        assert!(t(Gauge::ChangeFailureRate, "150%").is_err());
        assert!(t(Gauge::DeploymentsPerWeek, "-1").is_err());
        assert!(t(Gauge::DeploymentsPerWeek, "lots").is_err());
    }

    #[test]
    fn bounds_and_missing_data() {
        let mut f = Figures::default();
        f.lead_time_hours.median = Some(50.0);
        let max = Threshold::parse(Gauge::LeadTime, Bound::Max, "2d").unwrap();
        let min = Threshold::parse(Gauge::DeploymentsPerWeek, Bound::Min, "3").unwrap();
        let lenient = evaluate(None, &f, &[max.clone(), min.clone()], false);
        assert!(!lenient[0].passed, "50 h > 48 h");
        assert!(lenient[1].passed && lenient[1].value.is_none(), "no data passes");
        let strict = evaluate(None, &f, &[min], true);
        assert!(!strict[0].passed);
        f.lead_time_hours.median = Some(48.0);
        assert!(evaluate(None, &f, &[max], false)[0].passed, "the limit itself holds");
    }
}
