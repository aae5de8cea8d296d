//! The metric catalogue: every metric dora reports, declared once.
//!
//! An entry says what the metric is called where people read it, what unit its values are in,
//! how to read its headline value, sample and level from the [`Figures`], and which `dora check`
//! flag gates it. The summary tables, the delivery report's headline, the badges, the gates and
//! `dora explain` iterate [`Metric::ALL`] and read [`Metric::spec`]; adding a metric is one
//! variant, one entry here, and the analysis file that computes its figures.

use super::figures::Figures;
use super::levels::Level;

/// A metric dora reports (and `dora explain` takes as its argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    DeploymentFrequency,
    LeadTime,
    ChangeFailureRate,
    TimeToRestore,
    /// Failed deployment recovery time.
    RecoveryTime,
    ReworkRate,
}

/// What a metric's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Durations, in hours.
    Hours,
    /// A share of deployments, 0 to 1.
    Share,
    /// Deployments per week.
    PerWeek,
}

/// Whether a gated value must stay at most or at least the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Max,
    Min,
}

/// The `dora check` flag that gates a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    /// The flag: `--max-lead-time`.
    pub flag: &'static str,
    pub bound: Bound,
    /// What the limit applies to, in the results: `lead time (median)`.
    pub name: &'static str,
    /// The flag's value in `--help`: `DURATION`.
    pub value_name: &'static str,
    /// The flag's help line.
    pub help: &'static str,
}

/// One metric's declaration.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The metric's name in commands and file names: `lead-time`.
    pub id: &'static str,
    /// Its name in tables: `Lead time for changes`.
    pub name: &'static str,
    /// Its name where one value stands for it (the report's headline): `... (median)`.
    pub headline: &'static str,
    /// Its label on a badge.
    pub badge: &'static str,
    pub unit: Unit,
    /// The headline value: the median, the rate or the frequency; `None` without data.
    pub value: fn(&Figures) -> Option<f64>,
    /// The DORA 2023 level of the value, for the metrics that report defines one for.
    pub level: fn(&Figures) -> Option<Level>,
    /// How many events the value is computed over, and what they are.
    pub sample: fn(&Figures) -> u64,
    pub sample_noun: &'static str,
    /// Whether a smaller value is better (all but the deployment frequency).
    pub lower_is_better: bool,
    pub gate: Gate,
    /// The rows `dora explain` lists for it, and their order.
    pub rows: &'static str,
}

impl Metric {
    /// Every metric, in the order outputs list them.
    pub const ALL: [Metric; 6] = [
        Metric::DeploymentFrequency,
        Metric::LeadTime,
        Metric::ChangeFailureRate,
        Metric::TimeToRestore,
        Metric::RecoveryTime,
        Metric::ReworkRate,
    ];

    pub fn spec(self) -> &'static Spec {
        match self {
            Metric::DeploymentFrequency => &DEPLOYMENT_FREQUENCY,
            Metric::LeadTime => &LEAD_TIME,
            Metric::ChangeFailureRate => &CHANGE_FAILURE_RATE,
            Metric::TimeToRestore => &TIME_TO_RESTORE,
            Metric::RecoveryTime => &RECOVERY_TIME,
            Metric::ReworkRate => &REWORK_RATE,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.spec().id
    }

    /// What the rows of `dora explain` are and how they are sorted.
    pub fn rows_description(self) -> &'static str {
        self.spec().rows
    }
}

const DURATION: &str = "DURATION";

static DEPLOYMENT_FREQUENCY: Spec = Spec {
    id: "deployment-frequency",
    name: "Deployment frequency",
    headline: "Deployment frequency",
    badge: "deployments",
    unit: Unit::PerWeek,
    value: |f| f.deployment_frequency.per_week,
    level: |f| f.levels.deployment_frequency,
    sample: |f| f.deployments,
    sample_noun: "deployments",
    lower_is_better: false,
    gate: Gate {
        flag: "--min-deployments-per-week",
        bound: Bound::Min,
        name: "deployments per week",
        value_name: "N",
        help: "At least this many production deployments per week",
    },
    rows: "production deployments, in time order",
};

static LEAD_TIME: Spec = Spec {
    id: "lead-time",
    name: "Lead time for changes",
    headline: "Lead time for changes (median)",
    badge: "lead time",
    unit: Unit::Hours,
    value: |f| f.lead_time_hours.median,
    level: |f| f.levels.lead_time,
    sample: |f| f.lead_time_hours.count,
    sample_noun: "changes",
    lower_is_better: true,
    gate: Gate {
        flag: "--max-lead-time",
        bound: Bound::Max,
        name: "lead time (median)",
        value_name: DURATION,
        help: "Median lead time for changes at most this long",
    },
    rows: "deployed commits, longest lead time first (negative ones, not counted, last)",
};

static CHANGE_FAILURE_RATE: Spec = Spec {
    id: "change-failure-rate",
    name: "Change failure rate",
    headline: "Change failure rate",
    badge: "change failure rate",
    unit: Unit::Share,
    value: |f| f.change_failure_rate,
    level: |f| f.levels.change_failure_rate,
    sample: |f| f.deployments,
    sample_noun: "deployments",
    lower_is_better: true,
    gate: Gate {
        flag: "--max-change-failure-rate",
        bound: Bound::Max,
        name: "change failure rate",
        value_name: "RATE",
        help: "Change failure rate at most this",
    },
    rows: "production deployments, failed ones first (most incidents first)",
};

static TIME_TO_RESTORE: Spec = Spec {
    id: "time-to-restore",
    name: "Time to restore service",
    headline: "Time to restore service (median)",
    badge: "time to restore",
    unit: Unit::Hours,
    value: |f| f.time_to_restore_hours.median,
    level: |f| f.levels.time_to_restore,
    sample: |f| f.time_to_restore_hours.count,
    sample_noun: "resolved incidents",
    lower_is_better: true,
    gate: Gate {
        flag: "--max-time-to-restore",
        bound: Bound::Max,
        name: "time to restore (median)",
        value_name: DURATION,
        help: "Median time to restore service at most this long",
    },
    rows: "incidents, longest restore first (open ones, not counted, last)",
};

static RECOVERY_TIME: Spec = Spec {
    id: "recovery-time",
    name: "Failed deployment recovery time",
    headline: "Failed deployment recovery time (median)",
    badge: "failed deployment recovery",
    unit: Unit::Hours,
    value: |f| f.failed_deployment_recovery_hours.median,
    level: |_| None,
    sample: |f| f.failed_deployment_recovery_hours.count,
    sample_noun: "recovered deployments",
    lower_is_better: true,
    gate: Gate {
        flag: "--max-recovery-time",
        bound: Bound::Max,
        name: "failed deployment recovery (median)",
        value_name: DURATION,
        help: "Median failed deployment recovery time at most this long",
    },
    rows: "failed deployments, longest recovery first (unrecovered ones last)",
};

static REWORK_RATE: Spec = Spec {
    id: "rework-rate",
    name: "Rework rate",
    headline: "Rework rate",
    badge: "rework rate",
    unit: Unit::Share,
    value: |f| f.rework_rate,
    level: |_| None,
    sample: |f| f.deployments,
    sample_noun: "deployments",
    lower_is_better: true,
    gate: Gate {
        flag: "--max-rework-rate",
        bound: Bound::Max,
        name: "rework rate",
        value_name: "RATE",
        help: "Rework rate at most this",
    },
    rows: "production deployments, rework first",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_flags_are_unique_and_match_the_variant() {
        use clap::ValueEnum;
        let mut ids = std::collections::HashSet::new();
        let mut flags = std::collections::HashSet::new();
        for m in Metric::ALL {
            let spec = m.spec();
            assert!(ids.insert(spec.id) && flags.insert(spec.gate.flag), "{}", spec.id);
            // `dora explain ID` parses back to the same metric.
            let parsed = m.to_possible_value().expect("a value");
            assert_eq!(parsed.get_name(), spec.id);
        }
        assert_eq!(Metric::value_variants().len(), Metric::ALL.len());
    }

    #[test]
    fn accessors_read_their_own_figure() {
        let mut f = Figures::default();
        f.lead_time_hours.median = Some(3.0);
        f.lead_time_hours.count = 7;
        f.deployment_frequency.per_week = Some(2.5);
        f.rework_rate = Some(0.1);
        let lt = Metric::LeadTime.spec();
        assert_eq!(((lt.value)(&f), (lt.sample)(&f)), (Some(3.0), 7));
        assert_eq!((Metric::DeploymentFrequency.spec().value)(&f), Some(2.5));
        assert_eq!((Metric::ReworkRate.spec().value)(&f), Some(0.1));
        assert_eq!((Metric::ChangeFailureRate.spec().value)(&f), None);
        assert!(!Metric::DeploymentFrequency.spec().lower_is_better);
    }
}
