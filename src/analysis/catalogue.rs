//! The metric catalogue: every metric dora reports, declared once.
//!
//! An entry says what the metric is called where people read it, what unit its values are in,
//! how to read its headline value, sample and level from the [`Figures`], which `dora check`
//! flag gates it, and every number of its figures ([`Field`]) with its name in each output. The
//! summary tables, the CSV export, the JSON artifact, the `periods` query view, the delivery
//! report, the badges, the gates and `dora explain` iterate [`Metric::ALL`] and read
//! [`Metric::spec`]; adding a metric is one variant, one entry here, and the analysis file that
//! computes its figures.

use super::figures::{AiAssisted, AiSide, ChangesPerDeployment, Figures, KindFigures, Rollouts};
use super::levels::Level;
use super::quick_check::Measure;

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
    /// From a user's report to the fix in production (its headline: bugs).
    IssueLeadTime,
    OpenBugs,
    /// The share of failed deployments a rollout caught before they reached everyone.
    CatchRate,
    RolloutTime,
}

/// Where a metric is listed: with the DORA metrics, or in the feedback loop beside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Dora,
    /// From users' reports to fixes in production (from issue data).
    FeedbackLoop,
    /// Rollouts that reach users step by step (from `started_at` and `aborted` deployments).
    ProgressiveDelivery,
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
    /// A number of things (open bugs).
    Count,
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

/// One number of a scope's figures.
#[derive(Debug, Clone, Copy)]
pub enum Cell {
    /// A count of events.
    Count(u64),
    /// A rate, a duration in hours or a frequency; `None` without data.
    Number(Option<f64>),
}

/// Where a field sits in the JSON artifact's figures of a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKey {
    /// A key of the scope's object: `deployments`.
    Top(&'static str),
    /// A key of the metric's own object ([`Spec::json_object`]): `lead_time_hours.median`.
    Nested(&'static str),
}

/// One number of a metric's figures, and its name in each output. The names differ between
/// outputs because each output's names are stable: scripts read them.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub read: fn(&Figures) -> Cell,
    /// Its column in `dora metrics --format csv`.
    pub csv: &'static str,
    /// Its column in the `periods` view of `dora query`; `None`: not in the view.
    pub view: Option<&'static str>,
    pub json: JsonKey,
    /// Its key in the figure of `dora explain --format json`.
    pub explain: &'static str,
}

/// How a metric's DORA level is named: `lead_time` is `levels.lead_time` in JSON,
/// `level_lead_time` in CSV and `lead_time_level` in the `periods` view.
pub type LevelKey = &'static str;

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
    /// Its column in the delivery report's table of groups.
    pub column: &'static str,
    /// The numbers of its figures, in the order the CSV export and the `periods` view list
    /// them. A number belongs to one metric (`deployments`: the deployment frequency's).
    pub fields: &'static [Field],
    /// The object its nested fields sit in, in the JSON artifact: `lead_time_hours`.
    pub json_object: Option<&'static str>,
    /// Numbers of other metrics that its `dora explain` figure also shows (the
    /// deployments a rate is a share of).
    pub explain_also: &'static [Field],
    /// The name of its level, for the metrics the DORA report defines levels for.
    pub level_key: Option<LevelKey>,
    /// Its measure in DORA's Quick Check (2025), for the five the Quick Check scores.
    pub quick_check: Option<Measure>,
    pub section: Section,
}

/// One number of a block of figures (`T`: a kind of issue's feedback loop, the rollouts), and
/// its names: JSON `<block>.<object>.<key>` (`issues.bug.lead_time_hours.median`,
/// `rollouts.catch_rate`), CSV `<prefix>_<csv>` (`bug_lead_time_median_hours`).
#[derive(Debug)]
pub struct BlockField<T> {
    pub read: fn(&T) -> Cell,
    /// The object it sits in, within the block's: `lead_time_hours`; `None`: the block's own.
    pub object: Option<&'static str>,
    pub key: &'static str,
    pub csv: &'static str,
}

impl Cell {
    pub fn json(self) -> serde_json::Value {
        match self {
            Cell::Count(n) => n.into(),
            Cell::Number(x) => x.into(),
        }
    }
}

/// A block's numbers as a JSON object (keys in alphabetical order, its objects nested).
pub fn block_json<T>(fields: &[BlockField<T>], value: &T) -> serde_json::Value {
    let mut block = serde_json::Map::new();
    for field in fields {
        let cell = (field.read)(value).json();
        match field.object {
            None => {
                block.insert(field.key.into(), cell);
            }
            Some(object) => {
                let inner = block
                    .entry(object)
                    .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
                if let Some(inner) = inner.as_object_mut() {
                    inner.insert(field.key.into(), cell);
                }
            }
        }
    }
    block.into()
}

/// The feedback loop of a scope as JSON: `null` without issue data.
pub fn issues_json(f: &Figures) -> serde_json::Value {
    f.issues.as_ref().map_or(serde_json::Value::Null, |issues| {
        issues
            .kinds()
            .into_iter()
            .map(|(kind, k)| (kind.to_string(), block_json(ISSUE_FIELDS, k)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    })
}

/// Progressive delivery of a scope as JSON: `null` without rollouts.
pub fn rollouts_json(f: &Figures) -> serde_json::Value {
    f.rollouts
        .as_ref()
        .map_or(serde_json::Value::Null, |r| block_json(ROLLOUT_FIELDS, r))
}

/// The numbers of each kind's feedback loop, in the order the CSV export lists them.
pub const ISSUE_FIELDS: &[BlockField<KindFigures>] = &[
    block_field(|k| Cell::Count(k.delivered), None, "delivered", "delivered"),
    block_field(
        |k| Cell::Count(k.lead_time_hours.count),
        Some("lead_time_hours"),
        "count",
        "lead_time_count",
    ),
    block_field(
        |k| Cell::Number(k.lead_time_hours.median),
        Some("lead_time_hours"),
        "median",
        "lead_time_median_hours",
    ),
    block_field(
        |k| Cell::Number(k.lead_time_hours.p75),
        Some("lead_time_hours"),
        "p75",
        "lead_time_p75_hours",
    ),
    block_field(
        |k| Cell::Number(k.lead_time_hours.p90),
        Some("lead_time_hours"),
        "p90",
        "lead_time_p90_hours",
    ),
    block_field(
        |k| Cell::Count(k.lead_time_hours.negative_dropped),
        Some("lead_time_hours"),
        "negative_dropped",
        "lead_time_negative_dropped",
    ),
    block_field(
        |k| Cell::Count(k.awaiting_deployment_hours.count),
        Some("awaiting_deployment_hours"),
        "count",
        "awaiting_deployment_count",
    ),
    block_field(
        |k| Cell::Number(k.awaiting_deployment_hours.median),
        Some("awaiting_deployment_hours"),
        "median",
        "awaiting_deployment_median_hours",
    ),
    block_field(
        |k| Cell::Number(k.awaiting_deployment_hours.p90),
        Some("awaiting_deployment_hours"),
        "p90",
        "awaiting_deployment_p90_hours",
    ),
    block_field(|k| Cell::Count(k.open), None, "open", "open"),
    block_field(
        |k| Cell::Number(k.open_age_hours_median),
        None,
        "open_age_hours_median",
        "open_age_median_hours",
    ),
    block_field(
        |k| Cell::Count(k.closed_without_fix),
        None,
        "closed_without_fix",
        "closed_without_fix",
    ),
];

/// The numbers of progressive delivery (JSON `rollouts`, CSV `rollouts_*`).
pub const ROLLOUT_FIELDS: &[BlockField<Rollouts>] = &[
    block_field(|r| Cell::Count(r.aborted), None, "aborted", "aborted"),
    block_field(
        |r| Cell::Count(r.escaped_failures),
        None,
        "escaped_failures",
        "escaped_failures",
    ),
    block_field(|r| Cell::Number(r.catch_rate), None, "catch_rate", "catch_rate"),
    block_field(
        |r| Cell::Count(r.rollout_time_hours.count),
        Some("rollout_time_hours"),
        "count",
        "rollout_time_count",
    ),
    block_field(
        |r| Cell::Number(r.rollout_time_hours.median),
        Some("rollout_time_hours"),
        "median",
        "rollout_time_median_hours",
    ),
    block_field(
        |r| Cell::Number(r.rollout_time_hours.p90),
        Some("rollout_time_hours"),
        "p90",
        "rollout_time_p90_hours",
    ),
    block_field(
        |r| Cell::Count(r.exposure_at_abort.count),
        Some("exposure_at_abort"),
        "count",
        "exposure_at_abort_count",
    ),
    block_field(
        |r| Cell::Number(r.exposure_at_abort.median),
        Some("exposure_at_abort"),
        "median",
        "exposure_at_abort_median",
    ),
    block_field(
        |r| Cell::Count(r.recovery_unknown),
        None,
        "recovery_unknown",
        "recovery_unknown",
    ),
];

/// Batch size: commits shipped per deployment, JSON `batch_size.changes_per_deployment`, CSV
/// `batch_<csv>`. The size classes are [`super::batch_size::CLASSES`].
pub const BATCH_FIELDS: &[BlockField<ChangesPerDeployment>] = &[
    block_field(
        |b| Cell::Count(b.deployments),
        Some(CHANGES_PER_DEPLOYMENT),
        "deployments",
        "deployments",
    ),
    block_field(
        |b| Cell::Number(b.median),
        Some(CHANGES_PER_DEPLOYMENT),
        "median",
        "median_commits",
    ),
    block_field(
        |b| Cell::Count(b.by_size[0]),
        Some(CHANGES_PER_DEPLOYMENT),
        "none",
        "deployments_none",
    ),
    block_field(
        |b| Cell::Count(b.by_size[1]),
        Some(CHANGES_PER_DEPLOYMENT),
        "1",
        "deployments_1",
    ),
    block_field(
        |b| Cell::Count(b.by_size[2]),
        Some(CHANGES_PER_DEPLOYMENT),
        "2_10",
        "deployments_2_10",
    ),
    block_field(
        |b| Cell::Count(b.by_size[3]),
        Some(CHANGES_PER_DEPLOYMENT),
        "11_50",
        "deployments_11_50",
    ),
    block_field(
        |b| Cell::Count(b.by_size[4]),
        Some(CHANGES_PER_DEPLOYMENT),
        "51_100",
        "deployments_51_100",
    ),
    block_field(
        |b| Cell::Count(b.by_size[5]),
        Some(CHANGES_PER_DEPLOYMENT),
        "over_100",
        "deployments_over_100",
    ),
];

const CHANGES_PER_DEPLOYMENT: &str = "changes_per_deployment";

/// AI-assisted changes (JSON `ai`, CSV `ai_<csv>`): the share of deployed commits, then each
/// side's lead time and change failure rate (JSON `ai.ai_assisted.*`, `ai.other.*`).
pub const AI_FIELDS: &[BlockField<AiAssisted>] = &[
    block_field(|a| Cell::Count(a.commits), None, "commits", "commits"),
    block_field(|a| Cell::Count(a.commits_read), None, "commits_read", "commits_read"),
    block_field(
        |a| Cell::Count(a.ai_assisted_commits),
        None,
        "ai_assisted_commits",
        "assisted_commits",
    ),
    block_field(|a| Cell::Number(a.share), None, "share", "share"),
    block_field(|a| Cell::Number(a.coverage), None, "coverage", "coverage"),
    block_field(
        |a| side_count(&a.ai_assisted),
        Some(AI_SIDE),
        "lead_time_count",
        "assisted_lead_time_count",
    ),
    block_field(
        |a| Cell::Number(a.ai_assisted.lead_time_hours.median),
        Some(AI_SIDE),
        "lead_time_median_hours",
        "assisted_lead_time_median_hours",
    ),
    block_field(
        |a| Cell::Number(a.ai_assisted.lead_time_hours.p90),
        Some(AI_SIDE),
        "lead_time_p90_hours",
        "assisted_lead_time_p90_hours",
    ),
    block_field(
        |a| Cell::Count(a.ai_assisted.deployments),
        Some(AI_SIDE),
        "deployments",
        "assisted_deployments",
    ),
    block_field(
        |a| Cell::Count(a.ai_assisted.failed_deployments),
        Some(AI_SIDE),
        "failed_deployments",
        "assisted_failed_deployments",
    ),
    block_field(
        |a| Cell::Number(a.ai_assisted.change_failure_rate),
        Some(AI_SIDE),
        "change_failure_rate",
        "assisted_change_failure_rate",
    ),
    block_field(
        |a| side_count(&a.other),
        Some(OTHER_SIDE),
        "lead_time_count",
        "other_lead_time_count",
    ),
    block_field(
        |a| Cell::Number(a.other.lead_time_hours.median),
        Some(OTHER_SIDE),
        "lead_time_median_hours",
        "other_lead_time_median_hours",
    ),
    block_field(
        |a| Cell::Number(a.other.lead_time_hours.p90),
        Some(OTHER_SIDE),
        "lead_time_p90_hours",
        "other_lead_time_p90_hours",
    ),
    block_field(
        |a| Cell::Count(a.other.deployments),
        Some(OTHER_SIDE),
        "deployments",
        "other_deployments",
    ),
    block_field(
        |a| Cell::Count(a.other.failed_deployments),
        Some(OTHER_SIDE),
        "failed_deployments",
        "other_failed_deployments",
    ),
    block_field(
        |a| Cell::Number(a.other.change_failure_rate),
        Some(OTHER_SIDE),
        "change_failure_rate",
        "other_change_failure_rate",
    ),
];

const AI_SIDE: &str = "ai_assisted";
const OTHER_SIDE: &str = "other";

fn side_count(side: &AiSide) -> Cell {
    Cell::Count(side.lead_time_hours.count)
}

/// AI-assisted changes of a scope as JSON: `null` when no deployed commit has a flag.
pub fn ai_json(f: &Figures) -> serde_json::Value {
    f.ai.as_ref()
        .map_or(serde_json::Value::Null, |a| block_json(AI_FIELDS, a))
}

/// A scope's batch size as JSON.
pub fn batch_json(f: &Figures) -> serde_json::Value {
    block_json(BATCH_FIELDS, &f.changes_per_deployment)
}

const fn block_field<T>(
    read: fn(&T) -> Cell,
    object: Option<&'static str>,
    key: &'static str,
    csv: &'static str,
) -> BlockField<T> {
    BlockField { read, object, key, csv }
}

/// Numbers of a scope's figures that belong to no one metric, listed after the metrics'.
pub const SCOPE_FIELDS: &[Field] = &[UNATTRIBUTED_INCIDENTS];

const UNATTRIBUTED_INCIDENTS: Field = top(|f| Cell::Count(f.unattributed_incidents), "unattributed_incidents");

const DEPLOYMENTS: Field = top(|f| Cell::Count(f.deployments), "deployments");

/// A field at the top of a scope's JSON object, named alike in every output.
const fn top(read: fn(&Figures) -> Cell, name: &'static str) -> Field {
    Field {
        read,
        csv: name,
        view: Some(name),
        json: JsonKey::Top(name),
        explain: name,
    }
}

/// A field in the metric's own JSON object.
const fn nested(
    read: fn(&Figures) -> Cell,
    csv: &'static str,
    view: Option<&'static str>,
    json: &'static str,
    explain: &'static str,
) -> Field {
    Field {
        read,
        csv,
        view,
        json: JsonKey::Nested(json),
        explain,
    }
}

impl Metric {
    /// Every metric, in the order outputs list them.
    pub const ALL: [Metric; 10] = [
        Metric::DeploymentFrequency,
        Metric::LeadTime,
        Metric::ChangeFailureRate,
        Metric::TimeToRestore,
        Metric::RecoveryTime,
        Metric::ReworkRate,
        Metric::IssueLeadTime,
        Metric::OpenBugs,
        Metric::CatchRate,
        Metric::RolloutTime,
    ];

    /// The metrics of one section, in [`Metric::ALL`]'s order.
    pub fn of(section: Section) -> impl Iterator<Item = Metric> {
        Metric::ALL.into_iter().filter(move |m| m.spec().section == section)
    }

    pub fn spec(self) -> &'static Spec {
        match self {
            Metric::DeploymentFrequency => &DEPLOYMENT_FREQUENCY,
            Metric::LeadTime => &LEAD_TIME,
            Metric::ChangeFailureRate => &CHANGE_FAILURE_RATE,
            Metric::TimeToRestore => &TIME_TO_RESTORE,
            Metric::RecoveryTime => &RECOVERY_TIME,
            Metric::ReworkRate => &REWORK_RATE,
            Metric::IssueLeadTime => &ISSUE_LEAD_TIME,
            Metric::OpenBugs => &OPEN_BUGS,
            Metric::CatchRate => &CATCH_RATE,
            Metric::RolloutTime => &ROLLOUT_TIME,
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
    column: "Per week",
    fields: &[
        DEPLOYMENTS,
        nested(
            |f| Cell::Number(f.deployment_frequency.per_day),
            "deployments_per_day",
            None,
            "per_day",
            "per_day",
        ),
        nested(
            |f| Cell::Number(f.deployment_frequency.per_week),
            "deployments_per_week",
            Some("deployments_per_week"),
            "per_week",
            "per_week",
        ),
        nested(
            |f| Cell::Count(f.deployment_frequency.days_with_deployments),
            "days_with_deployments",
            Some("days_with_deployments"),
            "days_with_deployments",
            "days_with_deployments",
        ),
    ],
    json_object: Some("deployment_frequency"),
    explain_also: &[],
    level_key: Some("deployment_frequency"),
    quick_check: Some(Measure::DeploymentFrequency),
    section: Section::Dora,
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
    column: "Lead time p50",
    fields: &[
        nested(
            |f| Cell::Count(f.lead_time_hours.count),
            "lead_time_count",
            Some("lead_time_count"),
            "count",
            "count",
        ),
        nested(
            |f| Cell::Number(f.lead_time_hours.median),
            "lead_time_median_hours",
            Some("lead_time_median_hours"),
            "median",
            "median_hours",
        ),
        nested(
            |f| Cell::Number(f.lead_time_hours.p75),
            "lead_time_p75_hours",
            Some("lead_time_p75_hours"),
            "p75",
            "p75_hours",
        ),
        nested(
            |f| Cell::Number(f.lead_time_hours.p90),
            "lead_time_p90_hours",
            Some("lead_time_p90_hours"),
            "p90",
            "p90_hours",
        ),
        nested(
            |f| Cell::Count(f.lead_time_hours.negative_dropped),
            "lead_time_negative_dropped",
            None,
            "negative_dropped",
            "negative_dropped",
        ),
    ],
    json_object: Some("lead_time_hours"),
    explain_also: &[],
    level_key: Some("lead_time"),
    quick_check: Some(Measure::LeadTime),
    section: Section::Dora,
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
    column: "Change failure",
    fields: &[
        top(|f| Cell::Count(f.failed_deployments), "failed_deployments"),
        top(|f| Cell::Number(f.change_failure_rate), "change_failure_rate"),
    ],
    json_object: None,
    explain_also: &[DEPLOYMENTS],
    level_key: Some("change_failure_rate"),
    quick_check: Some(Measure::ChangeFailureRate),
    section: Section::Dora,
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
    column: "Restore p50",
    fields: &[
        nested(
            |f| Cell::Count(f.time_to_restore_hours.count),
            "time_to_restore_count",
            Some("restore_count"),
            "count",
            "count",
        ),
        nested(
            |f| Cell::Number(f.time_to_restore_hours.median),
            "time_to_restore_median_hours",
            Some("restore_median_hours"),
            "median",
            "median_hours",
        ),
        nested(
            |f| Cell::Number(f.time_to_restore_hours.p90),
            "time_to_restore_p90_hours",
            Some("restore_p90_hours"),
            "p90",
            "p90_hours",
        ),
        nested(
            |f| Cell::Count(f.time_to_restore_hours.open),
            "time_to_restore_open",
            Some("restore_open"),
            "open",
            "open",
        ),
    ],
    json_object: Some("time_to_restore_hours"),
    explain_also: &[UNATTRIBUTED_INCIDENTS],
    level_key: Some("time_to_restore"),
    quick_check: None,
    section: Section::Dora,
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
    column: "Recovery p50",
    fields: &[
        nested(
            |f| Cell::Count(f.failed_deployment_recovery_hours.count),
            "recovery_count",
            Some("recovery_count"),
            "count",
            "count",
        ),
        nested(
            |f| Cell::Number(f.failed_deployment_recovery_hours.median),
            "recovery_median_hours",
            Some("recovery_median_hours"),
            "median",
            "median_hours",
        ),
        nested(
            |f| Cell::Number(f.failed_deployment_recovery_hours.p90),
            "recovery_p90_hours",
            None,
            "p90",
            "p90_hours",
        ),
        nested(
            |f| Cell::Count(f.failed_deployment_recovery_hours.open),
            "recovery_open",
            Some("recovery_open"),
            "open",
            "open",
        ),
    ],
    json_object: Some("failed_deployment_recovery_hours"),
    explain_also: &[],
    level_key: None,
    quick_check: Some(Measure::FailedDeploymentRecovery),
    section: Section::Dora,
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
    column: "Rework",
    fields: &[
        top(|f| Cell::Count(f.rework_deployments), "rework_deployments"),
        top(|f| Cell::Number(f.rework_rate), "rework_rate"),
    ],
    json_object: None,
    explain_also: &[DEPLOYMENTS],
    level_key: None,
    quick_check: Some(Measure::ReworkRate),
    section: Section::Dora,
};

static ISSUE_LEAD_TIME: Spec = Spec {
    id: "issue-lead-time",
    name: "Bug lead time",
    headline: "Bug lead time (median)",
    badge: "bug lead time",
    unit: Unit::Hours,
    value: |f| f.issues.as_ref().and_then(|i| i.bug.lead_time_hours.median),
    level: |_| None,
    sample: |f| f.issues.as_ref().map_or(0, |i| i.bug.lead_time_hours.count),
    sample_noun: "delivered bugs",
    lower_is_better: true,
    gate: Gate {
        flag: "--max-bug-lead-time",
        bound: Bound::Max,
        name: "bug lead time (median)",
        value_name: DURATION,
        help: "Median bug lead time (from the report to the fix in production) at most this long",
    },
    rows: "issues delivered in the window, longest lead time first (negative ones, not counted, last)",
    column: "Bug p50",
    fields: &[],
    json_object: None,
    explain_also: &[],
    level_key: None,
    quick_check: None,
    section: Section::FeedbackLoop,
};

static OPEN_BUGS: Spec = Spec {
    id: "open-bugs",
    name: "Open bugs",
    headline: "Open bugs",
    badge: "open bugs",
    unit: Unit::Count,
    value: |f| f.issues.as_ref().map(|i| i.bug.open as f64),
    level: |_| None,
    sample: |f| f.issues.as_ref().map_or(0, |i| i.bug.open),
    sample_noun: "open bugs",
    lower_is_better: true,
    gate: Gate {
        flag: "--max-open-bugs",
        bound: Bound::Max,
        name: "open bugs",
        value_name: "N",
        help: "At most this many bugs open at the window's end",
    },
    rows: "issues open at the window's end, oldest first",
    column: "Open bugs",
    fields: &[],
    json_object: None,
    explain_also: &[],
    level_key: None,
    quick_check: None,
    section: Section::FeedbackLoop,
};

static CATCH_RATE: Spec = Spec {
    id: "catch-rate",
    name: "Failures caught during rollout",
    headline: "Failures caught during rollout",
    badge: "caught in rollout",
    unit: Unit::Share,
    value: |f| f.rollouts.as_ref().and_then(|r| r.catch_rate),
    level: |_| None,
    sample: |f| f.rollouts.as_ref().map_or(0, |r| r.aborted + r.escaped_failures),
    sample_noun: "failed deployments",
    lower_is_better: false,
    gate: Gate {
        flag: "--min-catch-rate",
        bound: Bound::Min,
        name: "catch rate",
        value_name: "RATE",
        help: "At least this share of failed deployments caught (aborted) during their rollout",
    },
    rows: "failed production deployments, caught (aborted) ones first",
    column: "Caught",
    fields: &[],
    json_object: None,
    explain_also: &[],
    level_key: None,
    quick_check: None,
    section: Section::ProgressiveDelivery,
};

static ROLLOUT_TIME: Spec = Spec {
    id: "rollout-time",
    name: "Rollout time",
    headline: "Rollout time (median)",
    badge: "rollout time",
    unit: Unit::Hours,
    value: |f| f.rollouts.as_ref().and_then(|r| r.rollout_time_hours.median),
    level: |_| None,
    sample: |f| f.rollouts.as_ref().map_or(0, |r| r.rollout_time_hours.count),
    sample_noun: "completed rollouts",
    lower_is_better: true,
    gate: Gate {
        flag: "--max-rollout-time",
        bound: Bound::Max,
        name: "rollout time (median)",
        value_name: DURATION,
        help: "Median rollout time (from the first users reached to all of them) at most this long",
    },
    rows: "completed production deployments with a start, longest rollout first",
    column: "Rollout p50",
    fields: &[],
    json_object: None,
    explain_also: &[],
    level_key: None,
    quick_check: None,
    section: Section::ProgressiveDelivery,
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

    #[test]
    fn every_field_has_one_name_per_output() {
        let mut csv = std::collections::HashSet::new();
        let mut view = std::collections::HashSet::new();
        let mut json = std::collections::HashSet::new();
        let fields = Metric::ALL
            .iter()
            .flat_map(|m| m.spec().fields.iter().map(move |f| (Some(*m), f)));
        for (metric, field) in fields.chain(SCOPE_FIELDS.iter().map(|f| (None, f))) {
            assert!(csv.insert(field.csv), "CSV column {} twice", field.csv);
            if let Some(name) = field.view {
                assert!(view.insert(name), "view column {name} twice");
            }
            let place = match field.json {
                JsonKey::Top(key) => (None, key),
                // A nested key needs its metric's object.
                JsonKey::Nested(key) => (Some(metric.and_then(|m| m.spec().json_object).expect("an object")), key),
            };
            assert!(json.insert(place), "JSON key {place:?} twice");
        }
        for m in Metric::ALL {
            let spec = m.spec();
            let mut explain = std::collections::HashSet::new();
            for field in spec.fields.iter().chain(spec.explain_also) {
                assert!(
                    explain.insert(field.explain),
                    "{}: explain key {} twice",
                    spec.id,
                    field.explain
                );
            }
        }
    }

    #[test]
    fn a_level_is_named_exactly_when_the_metric_has_one() {
        let mut f = Figures::default();
        f.levels.deployment_frequency = Some(Level::Elite);
        f.levels.lead_time = Some(Level::Elite);
        f.levels.change_failure_rate = Some(Level::Elite);
        f.levels.time_to_restore = Some(Level::Elite);
        for m in Metric::ALL {
            let spec = m.spec();
            assert_eq!(spec.level_key.is_some(), (spec.level)(&f).is_some(), "{}", spec.id);
        }
    }

    #[test]
    fn fields_read_their_own_number() {
        let mut f = Figures::default();
        f.lead_time_hours.p75 = Some(4.5);
        f.rework_deployments = 2;
        let field = |m: Metric, csv: &str| {
            let field = m.spec().fields.iter().find(|f| f.csv == csv).expect("a field");
            (field.read)(&f)
        };
        assert!(
            matches!(field(Metric::LeadTime, "lead_time_p75_hours"), Cell::Number(Some(x)) if (x - 4.5).abs() < 1e-12)
        );
        assert!(matches!(
            field(Metric::ReworkRate, "rework_deployments"),
            Cell::Count(2)
        ));
    }
}
