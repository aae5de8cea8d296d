//! The yearly cost of instability: what failed changes cost while they are being recovered
//! from.
//!
//! DORA's ROI model ("The ROI of DevOps Transformation", DORA and Google Cloud, 2020; the
//! "cost of downtime" of its calculator) estimates it as deployments per year x change failure
//! rate x hours to recover x the cost of an hour of downtime. dora takes each input from the
//! figures of the window: production deployments per day x 365, the change failure rate, and
//! the median failed deployment recovery time. It is an estimate of the order of magnitude, as
//! the model is: a failure does not always take the whole service down.

use serde::Serialize;

use super::figures::Figures;

/// Days in the year the deployment frequency is carried over.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// The estimate and every input it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InstabilityCost {
    /// The given cost of an hour of downtime.
    pub downtime_cost_per_hour: f64,
    /// Production deployments per day of the window, x 365.
    pub deployments_per_year: Option<f64>,
    pub change_failure_rate: Option<f64>,
    /// The median failed deployment recovery time.
    pub recovery_hours: Option<f64>,
    /// Failed deployments a year at this rate.
    pub failed_deployments_per_year: Option<f64>,
    /// The product; `None` when an input is unknown.
    pub yearly_cost: Option<f64>,
}

/// The cost of instability of a scope's figures at `per_hour` an hour of downtime.
pub fn of(f: &Figures, per_hour: f64) -> InstabilityCost {
    let deployments_per_year = f.deployment_frequency.per_day.map(|d| d * DAYS_PER_YEAR);
    let failed = deployments_per_year.zip(f.change_failure_rate).map(|(d, r)| d * r);
    let recovery_hours = f.failed_deployment_recovery_hours.median;
    // No failed deployment: nothing to recover from, whatever the (unknown) recovery time.
    let yearly_cost = match (failed, recovery_hours) {
        (Some(0.0), _) => Some(0.0),
        (Some(n), Some(h)) => Some(n * h * per_hour),
        _ => None,
    };
    InstabilityCost {
        downtime_cost_per_hour: per_hour,
        deployments_per_year,
        change_failure_rate: f.change_failure_rate,
        recovery_hours,
        failed_deployments_per_year: failed,
        yearly_cost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_of_its_inputs_and_zero_without_failures() {
        let mut f = Figures::default();
        f.deployment_frequency.per_day = Some(2.0);
        f.change_failure_rate = Some(0.1);
        f.failed_deployment_recovery_hours.median = Some(3.0);
        let c = of(&f, 10_000.0);
        assert_eq!(c.deployments_per_year, Some(730.0));
        assert!((c.failed_deployments_per_year.unwrap() - 73.0).abs() < 1e-9);
        assert!((c.yearly_cost.unwrap() - 73.0 * 3.0 * 10_000.0).abs() < 1e-6);
        f.change_failure_rate = Some(0.0);
        f.failed_deployment_recovery_hours.median = None;
        assert_eq!(of(&f, 10_000.0).yearly_cost, Some(0.0));
        f.change_failure_rate = Some(0.2);
        assert_eq!(of(&f, 10_000.0).yearly_cost, None);
    }
}
