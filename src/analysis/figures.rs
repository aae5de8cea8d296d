//! The computed figures: what analysis produces and every output format renders.

use chrono::NaiveDate;
use serde::Serialize;

use crate::analysis::levels::Level;

/// Lead time for changes, in hours, over (deployment, commit) pairs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LeadTime {
    pub count: u64,
    pub median: Option<f64>,
    pub p75: Option<f64>,
    pub p90: Option<f64>,
    /// Pairs left out because the commit is dated after the deployment (clock skew, rebases).
    pub negative_dropped: u64,
}

/// Time to restore service, in hours, over incidents created in the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimeToRestore {
    /// Resolved incidents.
    pub count: u64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    /// Incidents still open.
    pub open: u64,
}

/// Failed deployment recovery time, in hours, over failed deployments.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Recovery {
    /// Failed deployments that recovered.
    pub count: u64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    /// Failed deployments not recovered yet.
    pub open: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Frequency {
    pub per_day: Option<f64>,
    pub per_week: Option<f64>,
    pub days_with_deployments: u64,
}

/// Changes per deployment, DORA 2025's batch size: the completed production deployments of a
/// scope by how many commits each shipped (its lead-time pairs, negative ones too).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChangesPerDeployment {
    /// Completed production deployments.
    pub deployments: u64,
    /// Median commits shipped per deployment (those that shipped none included).
    pub median: Option<f64>,
    /// Deployments that shipped no commit, 1, 2-10, 11-50, 51-100, more than 100: the 2025
    /// survey's buckets ([`super::batch_size::CLASSES`]) after `none`.
    pub by_size: [u64; 6],
}

/// Performance levels from the DORA 2023 report; `None` where the figure is unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Levels {
    pub deployment_frequency: Option<Level>,
    pub lead_time: Option<Level>,
    pub change_failure_rate: Option<Level>,
    pub time_to_restore: Option<Level>,
}

/// How long finished fixes waited for a deployment: from the latest linked commit to delivery.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Awaiting {
    pub count: u64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// The feedback loop of one kind of issue (bug, feature, other) in one scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KindFigures {
    /// Issues delivered in the scope (those with a negative lead time too).
    pub delivered: u64,
    /// From the report to the deployment that shipped the fix.
    pub lead_time_hours: LeadTime,
    pub awaiting_deployment_hours: Awaiting,
    /// Issues open at the scope's end.
    pub open: u64,
    pub open_age_hours_median: Option<f64>,
    /// Issues closed in the scope as not planned, or with no linked commit.
    pub closed_without_fix: u64,
}

/// The feedback loop per kind of issue.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IssueFigures {
    pub bug: KindFigures,
    pub feature: KindFigures,
    pub other: KindFigures,
}

impl IssueFigures {
    /// Each kind with its name, in the order outputs list them.
    pub fn kinds(&self) -> [(&'static str, &KindFigures); 3] {
        [("bug", &self.bug), ("feature", &self.feature), ("other", &self.other)]
    }
}

/// A count and quantiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Spread {
    pub count: u64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// Progressive delivery in one scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rollouts {
    /// Production deployments aborted during their rollout (caught).
    pub aborted: u64,
    /// Failed production deployments that were not aborted (they reached everyone).
    pub escaped_failures: u64,
    /// aborted / (aborted + escaped failures); `None` without failures.
    pub catch_rate: Option<f64>,
    /// Completed deployments with `started_at`: `deployed_at - started_at` (negatives left out).
    pub rollout_time_hours: Spread,
    /// The exposure (0-100) of the aborted ones that have it; its median (no p90).
    pub exposure_at_abort: Spread,
    /// Aborted deployments without `started_at`: left out of the recovery time.
    pub recovery_unknown: u64,
}

/// One side of the AI-assisted split: the deployed commits (and the deployments that shipped
/// them) with or without an assistant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AiSide {
    pub lead_time_hours: LeadTime,
    /// Completed production deployments on this side: for the AI-assisted side, those that
    /// shipped at least one AI-assisted commit; for the other, those that shipped commits with a
    /// known flag, none AI-assisted.
    pub deployments: u64,
    pub failed_deployments: u64,
    pub change_failure_rate: Option<f64>,
}

/// AI-assisted changes (DORA 2025) in one scope, over the deployed commits of its completed
/// production deployments (the lead-time pairs).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AiAssisted {
    /// Deployed commits in the scope.
    pub commits: u64,
    /// Those with a known flag: a message was read, or the source said.
    pub commits_read: u64,
    pub ai_assisted_commits: u64,
    /// `ai_assisted_commits / commits_read`; `None` without any read.
    pub share: Option<f64>,
    /// `commits_read / commits`; `None` without deployed commits.
    pub coverage: Option<f64>,
    pub ai_assisted: AiSide,
    pub other: AiSide,
}

/// All figures of one scope (overall, a group, a period, or a group in a period).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Production deployments (status `success` or `rolled_back`) in the scope.
    pub deployments: u64,
    pub failed_deployments: u64,
    pub change_failure_rate: Option<f64>,
    pub rework_deployments: u64,
    pub rework_rate: Option<f64>,
    pub lead_time_hours: LeadTime,
    pub time_to_restore_hours: TimeToRestore,
    pub failed_deployment_recovery_hours: Recovery,
    pub deployment_frequency: Frequency,
    /// Incidents created in the scope that no production deployment could be blamed for.
    pub unattributed_incidents: u64,
    pub levels: Levels,
    /// The feedback loop; `None` without issue data.
    pub issues: Option<IssueFigures>,
    /// Progressive delivery; `None` when no deployment has `started_at` or status `aborted`.
    pub rollouts: Option<Rollouts>,
    /// Where the scope stands on DORA's Quick Check (2025).
    pub quick_check: super::quick_check::QuickCheck,
    /// Batch size: commits shipped per deployment.
    pub changes_per_deployment: ChangesPerDeployment,
    /// AI-assisted changes; `None` when no deployed commit has a known flag.
    pub ai: Option<AiAssisted>,
}

/// One period (day, ISO week or month in the report's time zone).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodFigures {
    /// First local day of the period.
    #[serde(serialize_with = "iso_date")]
    pub start: NaiveDate,
    /// First local day after the period.
    #[serde(serialize_with = "iso_date")]
    pub end: NaiveDate,
    #[serde(flatten)]
    pub figures: Figures,
}

/// `YYYY-MM-DD` (chrono's own serde support would rebuild Polars with another chrono feature).
#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "the signature serde's `serialize_with` calls"
)]
fn iso_date<S: serde::Serializer>(date: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&date.format("%Y-%m-%d"))
}

/// One value of the `--by` dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// `None` for rows without a value (a deployment without a service, say).
    pub key: Option<String>,
    pub figures: Figures,
    /// The group's figures per period, when periods were asked for.
    pub periods: Vec<PeriodFigures>,
}

/// One stage of the pull request breakdown, in hours.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stage {
    /// Pull requests with both ends of the stage.
    pub count: u64,
    pub median: Option<f64>,
}

/// Where lead time goes, over the pull requests merged in the window (hours).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breakdown {
    pub pull_requests: u64,
    /// First commit -> opened.
    pub coding: Stage,
    /// Opened -> first review by someone other than the author.
    pub pickup: Stage,
    /// First review -> merged.
    pub review: Stage,
    /// Merged -> the first production deployment that shipped the merge commit.
    pub deploy: Stage,
    /// Lines changed per pull request (additions + deletions), DORA 2025's batch size.
    pub lines_per_change: LinesPerChange,
    /// How many of them are AI-assisted; `None` when no pull request's flag is known.
    pub ai_assisted: Option<AiPullRequests>,
}

/// The AI-assisted pull requests among those merged in the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AiPullRequests {
    /// Pull requests whose flag is known (their own, or their merge commit's).
    pub pull_requests_read: u64,
    pub ai_assisted_pull_requests: u64,
    /// AI-assisted / read.
    pub share: Option<f64>,
    /// Read / merged.
    pub coverage: Option<f64>,
}

impl AiPullRequests {
    /// `None` when no flag was read.
    pub fn of(merged: u64, read: u64, ai_assisted: u64) -> Option<AiPullRequests> {
        (read > 0).then(|| AiPullRequests {
            pull_requests_read: read,
            ai_assisted_pull_requests: ai_assisted,
            share: Some(ai_assisted as f64 / read as f64),
            coverage: (merged > 0).then(|| read as f64 / merged as f64),
        })
    }
}

/// Lines changed per change: the changes (pull requests, commits) with both `additions` and `deletions`, their
/// median, and how many fall in each of the 2025 survey's buckets
/// ([`super::batch_size::LINE_CLASSES`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LinesPerChange {
    pub count: u64,
    pub median: Option<f64>,
    /// 0 lines, 1-10, 11-50, 51-100, 101-250, more than 250.
    pub by_size: std::collections::BTreeMap<&'static str, u64>,
}

/// Which data a report was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inputs {
    /// `store` or `csv`.
    pub source: &'static str,
    /// `sha256:<hex>` over the input files' content (see docs/json-artifact.md).
    pub fingerprint: String,
}

/// Everything `dora metrics` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    pub since: i64,
    pub until: i64,
    pub time_zone: String,
    pub environment: String,
    /// `repo`, `service` or `team` when grouped.
    pub group_by: Option<&'static str>,
    /// `day`, `week` or `month` when split into periods.
    pub period: Option<&'static str>,
    /// Where the commits of each deployment came from.
    pub lead_time_source: &'static str,
    pub overall: Figures,
    pub groups: Vec<Group>,
    pub periods: Vec<PeriodFigures>,
    /// Set by commands that fingerprint their inputs (the JSON artifact).
    pub inputs: Option<Inputs>,
    /// The lead time breakdown over the whole window, when pull request data exists.
    pub pull_requests: Option<Breakdown>,
    /// Lines changed per commit committed in the window (additions + deletions), where the
    /// commits have both counts (`collect git`); `None` without any.
    pub lines_per_commit: Option<LinesPerChange>,
    /// The Quick Check means the scores are compared with (`--industry`, `--org-size`).
    pub benchmark: super::quick_check::Benchmark,
    /// The scale ratings are shown on (`--levels`).
    pub level_scale: super::levels::LevelScale,
    /// The yearly cost of instability, when a downtime cost per hour is given.
    pub instability_cost: Option<super::cost::InstabilityCost>,
}

/// Where the levels come from, printed with them.
pub const LEVELS_SOURCE: &str = "DORA Accelerate State of DevOps Report 2023";
