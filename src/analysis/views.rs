//! The facts behind the metrics, as tables a person can read and query.
//!
//! `dora query` registers these next to the canonical tables, and `dora explain` prints them.
//! They are the very frames `compute` aggregates (see [`Facts`]), renamed and typed for people:
//! timestamps as UTC datetimes (plus the wall-clock time in `--tz` where weekdays and hours
//! matter), periods as their first local day, and the reasons behind each flag spelled out.

use chrono::NaiveDate;
use chrono_tz::Tz;
use polars::prelude::*;

use super::{
    AT, ATTRIBUTED, COMMITTED, CREATED, Facts, INCIDENT, NEXT_AT, PERIOD, PREV_AT, RESOLVED, RULE, change_failure,
    issues, lead_time, null_of, production, rework, time_to_restore,
};
use crate::analysis::catalogue::{Cell, Metric, SCOPE_FIELDS};
use crate::analysis::figures::{Figures, Scorecard};
use crate::error::{PolarsContext, Result};
use crate::table::schema::{commits as c, deployments as d, incidents as i, issues as iss, status};

/// Names of the derived views, in the order `dora query --tables` lists them.
pub const NAMES: [&str; 7] = [
    "changes",
    "production_deployments",
    "incident_attribution",
    "issue_deliveries",
    "open_issues",
    "rollouts",
    "periods",
];

/// An integer column of UTC microseconds as a UTC datetime.
fn utc(column: &str) -> Expr {
    col(column).cast(DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))
}

/// The local wall-clock time in `zone` (a datetime without a zone), for weekday and hour.
fn local(column: &str, zone: Tz) -> Expr {
    let Ok(Some(tz)) = TimeZone::opt_try_new(Some(zone.name())) else {
        // chrono-tz and Polars share the IANA database; a zone one knows, the other knows.
        return null_of(DataType::Datetime(TimeUnit::Microseconds, None));
    };
    utc(column)
        .dt()
        .convert_time_zone(tz)
        .dt()
        .replace_time_zone(None, lit("raise"), NonExistent::Raise)
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from((date - epoch).num_days()).unwrap_or(i32::MAX)
}

fn dates(name: &str, values: impl Iterator<Item = NaiveDate>) -> Result<Column> {
    let days: Vec<i32> = values.map(days_since_epoch).collect();
    Series::new(name.into(), days)
        .cast(&DataType::Date)
        .map(Column::from)
        .context(|| "failed to build the period dates".into())
}

/// Adds `period_start` (first local day of the fact's period; null without `--period`).
fn with_period_start(frame: LazyFrame, facts: &Facts) -> Result<LazyFrame> {
    if facts.periods.is_empty() {
        return Ok(frame.with_column(null_of(DataType::Date).alias("period_start")));
    }
    let index: Vec<i64> = (0..facts.periods.len() as i64).collect();
    let table = DataFrame::new(
        index.len(),
        vec![
            Column::new(PERIOD.into(), index),
            dates("period_start", facts.periods.iter().map(|p| p.start))?,
        ],
    )
    .context(|| "failed to build the period table".into())?;
    Ok(frame.join(
        table.lazy(),
        [col(PERIOD)],
        [col(PERIOD)],
        JoinArgs::new(JoinType::Left),
    ))
}

/// `changes`: one row per deployed commit of the window's production deployments.
pub fn changes(facts: &Facts) -> Result<LazyFrame> {
    let frame = with_period_start(facts.changes.clone(), facts)?;
    Ok(frame.select([
        col(d::ID).alias("deployment_id"),
        col(d::REPO),
        col(c::SHA),
        utc(COMMITTED).alias("committed_at"),
        utc(AT).alias("deployed_at"),
        col(lead_time::HOURS),
        // Negative lead times (commit dated after the deployment) are counted apart.
        col(lead_time::HOURS).gt_eq(lit(0.0)).alias("counted"),
        col(lead_time::AI),
        col("period_start"),
    ]))
}

/// `production_deployments`: the window's production deployments, with failure, recovery and
/// rework, and why.
pub fn production_deployments(facts: &Facts, zone: Tz) -> Result<LazyFrame> {
    let incident_ids = facts
        .attribution
        .clone()
        .filter(col(ATTRIBUTED).is_not_null())
        .group_by([col(ATTRIBUTED)])
        .agg([col(INCIDENT).sort(SortOptions::default()).alias("incident_ids")]);
    let rolled_back = col(d::STATUS).eq(lit(status::ROLLED_BACK));
    let aborted = col(d::STATUS).eq(lit(status::ABORTED));
    let has_incident = col("incidents").fill_null(lit(0)).gt(lit(0));
    let failure_reason = when(rolled_back.clone().and(has_incident.clone()))
        .then(lit("rolled back; incident"))
        .when(rolled_back)
        .then(lit("rolled back"))
        .when(aborted.clone().and(has_incident.clone()))
        .then(lit("aborted during its rollout; incident"))
        .when(aborted)
        .then(lit("aborted during its rollout"))
        .when(has_incident)
        .then(lit("incident"))
        .otherwise(null_of(DataType::String));
    let stated = col(d::KIND).is_not_null().and(col(d::KIND).neq(lit("")));
    let rework_reason = when(col(rework::REWORK).and(stated))
        .then(lit("kind ").cast(DataType::String) + col(d::KIND))
        .when(col(rework::REWORK).and(col(rework::FIX_ONLY)))
        .then(lit("every commit it shipped fixes a bug"))
        .when(col(rework::REWORK))
        .then(lit("deployed during an incident"))
        .otherwise(null_of(DataType::String));
    let recovered = when(col(change_failure::FAILED))
        .then(utc("recovered"))
        .otherwise(null_of(DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))));
    // Batch size: the commits each shipped (its lead-time pairs, as `changes` lists them).
    // AI-assisted when one of them is; not when some have a flag and none is; else unknown
    // (the sides of the AI-assisted split of the change failure rate).
    let shipped = facts.changes.clone().group_by([col(d::ID).alias(SHIPPED_ID)]).agg([
        len().cast(DataType::Int64).alias(COMMITS_SHIPPED),
        when(col(lead_time::AI).is_not_null().any(true))
            .then(col(lead_time::AI).any(true))
            .otherwise(null_of(DataType::Boolean))
            .alias(lead_time::AI),
    ]);
    let frame = with_period_start(facts.deployments.clone(), facts)?
        .join(
            incident_ids,
            [col(d::ID)],
            [col(ATTRIBUTED)],
            JoinArgs::new(JoinType::Left),
        )
        .join(shipped, [col(d::ID)], [col(SHIPPED_ID)], JoinArgs::new(JoinType::Left));
    Ok(frame.select([
        col(d::ID),
        col(d::REPO),
        col(d::SERVICE),
        col(d::TEAM),
        col(d::STATUS),
        col(d::KIND),
        utc(AT).alias(d::DEPLOYED_AT),
        local(AT, zone).alias("deployed_local"),
        col("period_start"),
        col(change_failure::FAILED),
        failure_reason.alias("failure_reason"),
        col("incidents").fill_null(lit(0i64)).alias("incidents"),
        col("incident_ids"),
        recovered.alias("recovered_at"),
        col(change_failure::RECOVERY_HOURS),
        col(change_failure::RECOVERY_OPEN),
        col(rework::REWORK),
        rework_reason.alias("rework_reason"),
        utc(PREV_AT).alias("previous_deployed_at"),
        utc(NEXT_AT).alias("next_deployed_at"),
        utc(production::STARTED).alias(d::STARTED_AT),
        super::rollout_hours().alias(ROLLOUT_HOURS),
        col(d::EXPOSURE),
        col(d::URL),
        col(COMMITS_SHIPPED).fill_null(lit(0i64)),
        col(lead_time::AI),
    ]))
}

/// The commits a deployment shipped, in `production_deployments`.
pub const COMMITS_SHIPPED: &str = "commits_shipped";
const SHIPPED_ID: &str = "shipped_deployment_id";

/// A completed deployment's rollout time, in the views.
pub const ROLLOUT_HOURS: &str = "rollout_hours";

/// `rollouts`: the window's production deployments that have a rollout (a `started_at`, or
/// status `aborted`): when it started and ended, its exposure, and whether a failure was caught
/// during the rollout (`caught`: aborted) or reached everyone (`escaped`).
pub fn rollouts(facts: &Facts, zone: Tz) -> Result<LazyFrame> {
    let aborted = col(d::STATUS).eq(lit(status::ABORTED));
    Ok(production_deployments(facts, zone)?
        .filter(col(d::STARTED_AT).is_not_null().or(aborted.clone()))
        .select([
            col(d::ID),
            col(d::REPO),
            col(d::STATUS),
            col(d::STARTED_AT),
            col(d::DEPLOYED_AT),
            col(ROLLOUT_HOURS),
            col(d::EXPOSURE),
            col(change_failure::FAILED),
            aborted.clone().alias("caught"),
            col(change_failure::FAILED).and(aborted.not()).alias("escaped"),
            col("failure_reason"),
            col("incident_ids"),
            col(change_failure::RECOVERY_HOURS),
            col("period_start"),
            col(d::URL),
        ]))
}

/// `incident_attribution`: the window's incidents, the deployment each is attributed to, and by
/// which rule (`named`: its `deployment_id`; `time`: created while that deployment was the
/// repository's latest; null: none).
pub fn incident_attribution(facts: &Facts, zone: Tz) -> Result<LazyFrame> {
    let frame = with_period_start(facts.incidents.clone(), facts)?;
    Ok(frame.select([
        col(INCIDENT).alias(i::ID),
        col(i::REPO),
        col(i::SERVICE),
        utc(CREATED).alias(i::CREATED_AT),
        local(CREATED, zone).alias("created_local"),
        utc(RESOLVED).alias(i::RESOLVED_AT),
        col(time_to_restore::HOURS),
        col(time_to_restore::OPEN).alias("open"),
        col(i::DEPLOYMENT_ID).alias("named_deployment_id"),
        col(ATTRIBUTED).alias("deployment_id"),
        col(RULE).alias("rule"),
        col("period_start"),
        col(i::URL),
    ]))
}

/// `issue_deliveries`: the issues delivered in the window, the deployment that delivered each
/// (its last linked commit to ship), and the stages: reported -> last commit -> in production.
pub fn issue_deliveries(facts: &Facts, zone: Tz) -> Result<LazyFrame> {
    let window = facts.window;
    let delivered = col(issues::DELIVERED);
    let frame = facts
        .issues
        .clone()
        .filter(
            delivered
                .clone()
                .gt_eq(lit(window.since))
                .and(delivered.lt(lit(window.until))),
        )
        .join(
            issues::commits_of(&facts.linked),
            [col(iss::ID)],
            [col(iss::ID)],
            JoinArgs::new(JoinType::Left),
        );
    let lead = super::hours(col(issues::DELIVERED), col(CREATED));
    Ok(with_period_start(frame, facts)?.select([
        col(iss::ID),
        col(iss::REPO),
        col(iss::KIND),
        col(iss::TITLE),
        utc(CREATED).alias(iss::CREATED_AT),
        utc(issues::LAST_COMMIT).alias("last_commit_at"),
        utc(issues::DELIVERED).alias("delivered_at"),
        local(issues::DELIVERED, zone).alias("delivered_local"),
        col(issues::DELIVERED_BY).alias("deployment_id"),
        lead.clone().alias(issues::LEAD_HOURS),
        // The stages: from the report to the last linked commit, then to production.
        super::hours(col(issues::LAST_COMMIT), col(CREATED)).alias("reported_to_last_commit_hours"),
        // Negative lead times (reported after the fix shipped) are counted apart.
        lead.gt_eq(lit(0.0)).alias("counted"),
        super::hours(col(issues::DELIVERED), col(issues::LAST_COMMIT)).alias(issues::AWAITING_HOURS),
        utc(issues::CLOSED).alias(iss::CLOSED_AT),
        col(issues::COMMITS).fill_null(lit("")),
        col("period_start"),
        col(iss::URL),
    ]))
}

/// `open_issues`: the issues open at the window's end (reported before it, not closed by then),
/// with their age then.
pub fn open_issues(facts: &Facts) -> LazyFrame {
    let end = facts.window.until;
    facts
        .issues
        .clone()
        .filter(
            col(CREATED)
                .lt(lit(end))
                .and(col(issues::CLOSED).is_null().or(col(issues::CLOSED).gt_eq(lit(end)))),
        )
        .select([
            col(iss::ID),
            col(iss::REPO),
            col(iss::KIND),
            col(iss::TITLE),
            utc(CREATED).alias(iss::CREATED_AT),
            super::hours(lit(end), col(CREATED)).alias("age_hours"),
            col(issues::LINKED).alias("linked"),
            utc(issues::DELIVERED).alias("delivered_at"),
            col(iss::URL),
        ])
}

/// `periods`: the figures of `dora metrics` per period, overall (`group` null) and, with
/// `--by`, per group.
pub fn periods(report: &Scorecard) -> Result<DataFrame> {
    let mut rows: Vec<(Option<&str>, &crate::analysis::figures::PeriodFigures)> =
        report.periods.iter().map(|p| (None, p)).collect();
    for g in &report.groups {
        rows.extend(g.periods.iter().map(|p| (Some(g.key.as_deref().unwrap_or("")), p)));
    }
    let mut columns = vec![
        Column::new(
            "scope".into(),
            rows.iter()
                .map(|(g, _)| if g.is_some() { "group" } else { "all" })
                .collect::<Vec<_>>(),
        ),
        Column::new("group".into(), rows.iter().map(|(g, _)| *g).collect::<Vec<_>>()),
        dates("period_start", rows.iter().map(|(_, p)| p.start))?,
        dates("period_end", rows.iter().map(|(_, p)| p.end))?,
    ];
    // Each metric's fields, the scope's own, then the levels, from the metric catalogue.
    let fields = Metric::ALL.iter().flat_map(|m| m.spec().fields).chain(SCOPE_FIELDS);
    for field in fields {
        let Some(name) = field.view else { continue };
        let cells = rows.iter().map(|(_, p)| (field.read)(&p.figures));
        // A field reads one kind of cell; empty figures tell which, even for no rows.
        columns.push(match (field.read)(&Figures::default()) {
            Cell::Count(_) => Column::new(
                name.into(),
                cells
                    .map(|c| if let Cell::Count(n) = c { n } else { 0 })
                    .collect::<Vec<u64>>(),
            ),
            Cell::Number(_) => Column::new(
                name.into(),
                cells
                    .map(|c| if let Cell::Number(x) = c { x } else { None })
                    .collect::<Vec<Option<f64>>>(),
            ),
        });
    }
    for m in Metric::ALL {
        let spec = m.spec();
        let Some(key) = spec.level_key else { continue };
        let levels = rows
            .iter()
            .map(|(_, p)| (spec.level)(&p.figures).map(super::levels::Level::as_str));
        columns.push(Column::new(format!("{key}_level").into(), levels.collect::<Vec<_>>()));
    }
    DataFrame::new(rows.len(), columns).context(|| "failed to build the periods view".into())
}
