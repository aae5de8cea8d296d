//! Threshold gates for CI: `dora check --max-lead-time 2d --max-change-failure-rate 15% ...`.
//!
//! A gate compares one figure of a scope (overall, or each group with `--by`) with a limit. A
//! figure without data (no deployments, no changes) cannot break a limit; it is reported as
//! such, and `--strict` counts it as a failure.

use std::fmt;

use super::catalogue::Metric;
pub use super::catalogue::{Bound, Unit};
use crate::analysis::figures::Figures;

/// A limit that does not read as its metric's unit; `expected` says what would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}")]
pub struct InvalidLimit {
    pub expected: &'static str,
}

fn invalid(expected: &'static str) -> InvalidLimit {
    InvalidLimit { expected }
}

/// One limit, as given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: Metric,
    pub limit: f64,
    /// The limit as the user wrote it, for messages.
    pub text: String,
}

impl Threshold {
    /// Parses `value` as a limit of `metric`, in the direction of its gate: durations (`90m`,
    /// `36h`, `2d`, `1w`) for times, `15%` or `0.15` for rates, a number for deployments per
    /// week.
    pub fn parse(metric: Metric, value: &str) -> Result<Self, InvalidLimit> {
        let spec = metric.spec();
        let limit = match spec.unit {
            Unit::Hours => parse_hours(value)?,
            Unit::Share => parse_share(value)?,
            Unit::PerWeek | Unit::Count => parse_number(value)?,
        };
        Ok(Threshold {
            metric,
            limit,
            text: value.trim().to_string(),
        })
    }

    /// Whether the value must stay at most or at least the limit: its metric's gate says.
    pub fn bound(&self) -> Bound {
        self.metric.spec().gate.bound
    }

    /// Whether `value` keeps to the limit.
    pub fn holds(&self, value: f64) -> bool {
        match self.bound() {
            Bound::Max => value <= self.limit,
            Bound::Min => value >= self.limit,
        }
    }
}

/// "at most 2d", "at least 3".
impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.bound() {
            Bound::Max => "at most",
            Bound::Min => "at least",
        };
        write!(f, "{op} {}", self.text)
    }
}

fn parse_number(text: &str) -> Result<f64, InvalidLimit> {
    let x: f64 = text.trim().parse().map_err(|_| invalid("a number"))?;
    if !x.is_finite() || x < 0.0 {
        return Err(invalid("a number, zero or more"));
    }
    Ok(x)
}

const DURATION: &str = "a duration with a unit: m, h, d or w (e.g. `36h`, `2d`)";

fn parse_hours(text: &str) -> Result<f64, InvalidLimit> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let factor = match unit.trim() {
        "m" | "min" | "mins" | "minutes" => 1.0 / 60.0,
        "h" | "hour" | "hours" => 1.0,
        "d" | "day" | "days" => 24.0,
        "w" | "week" | "weeks" => 168.0,
        _ => return Err(invalid(DURATION)),
    };
    Ok(parse_number(number).map_err(|_| invalid(DURATION))? * factor)
}

const RATE: &str = "a percentage (`15%`) or a share (`0.15`), at most 100%";

fn parse_share(text: &str) -> Result<f64, InvalidLimit> {
    let t = text.trim();
    let share = match t.strip_suffix('%') {
        Some(p) => parse_number(p).map_err(|_| invalid(RATE))? / 100.0,
        None => parse_number(t).map_err(|_| invalid(RATE))?,
    };
    if share > 1.0 {
        return Err(invalid(RATE));
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
            let value = (t.metric.spec().value)(figures);
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
        let t = |m, v| Threshold::parse(m, v).map(|t| t.limit);
        assert_eq!(t(Metric::LeadTime, "2d"), Ok(48.0));
        assert_eq!(t(Metric::LeadTime, "36h"), Ok(36.0));
        assert_eq!(t(Metric::LeadTime, "90m"), Ok(1.5));
        assert_eq!(t(Metric::TimeToRestore, "1.5 w"), Ok(252.0));
        assert_eq!(t(Metric::ChangeFailureRate, "15%"), Ok(0.15));
        assert_eq!(t(Metric::ChangeFailureRate, "0.15"), Ok(0.15));
        assert_eq!(t(Metric::DeploymentFrequency, "3"), Ok(3.0));
        assert!(
            t(Metric::LeadTime, "2")
                .unwrap_err()
                .expected
                .contains("a duration with a unit")
        );
        assert!(
            t(Metric::LeadTime, "2y")
                .unwrap_err()
                .to_string()
                .contains("a duration with a unit")
        );
        assert!(t(Metric::ChangeFailureRate, "150%").is_err());
        assert!(t(Metric::DeploymentFrequency, "-1").is_err());
        assert!(t(Metric::DeploymentFrequency, "lots").is_err());
    }

    #[test]
    fn bounds_and_missing_data() {
        let mut f = Figures::default();
        f.lead_time_hours.median = Some(50.0);
        let max = Threshold::parse(Metric::LeadTime, "2d").unwrap();
        let min = Threshold::parse(Metric::DeploymentFrequency, "3").unwrap();
        assert_eq!(
            (max.bound(), min.bound()),
            (Bound::Max, Bound::Min),
            "each gate's direction"
        );
        let lenient = evaluate(None, &f, &[max.clone(), min.clone()], false);
        assert!(!lenient[0].passed, "50 h > 48 h");
        assert!(lenient[1].passed && lenient[1].value.is_none(), "no data passes");
        let strict = evaluate(None, &f, &[min], true);
        assert!(!strict[0].passed);
        f.lead_time_hours.median = Some(48.0);
        assert!(evaluate(None, &f, &[max], false)[0].passed, "the limit itself holds");
    }
}
