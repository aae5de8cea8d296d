//! The DORA metrics as one lazy Polars plan.
//!
//! Each metric file turns the canonical tables into "facts" (one row per deployment, per
//! deployed commit, per incident) with pure `LazyFrame -> LazyFrame` functions. This module
//! tags every fact with its group and period, aggregates at four levels (overall, per group,
//! per period, per group and period), and collects everything in a single `collect_all`, so
//! Polars shares the common sub-plans. Only the aggregated figures (a few per group and period)
//! are read out, with one exception: lead time, the one fact with a row per deployed commit
//! (tens of millions), is reduced by Polars to (group, period, hours) and summarized by
//! [`quantiles`], in one buffer instead of a gather per group, quantile and level.

pub mod ai_assisted;
pub mod batch_size;
pub mod catalogue;
pub mod change_failure;
pub mod cost;
pub mod explain;
pub mod figures;
pub mod gates;
pub mod issues;
mod issues_by_row;
pub mod lead_time;
pub mod levels;
pub mod lines_per_change;
pub mod production;
pub mod pull_requests;
pub mod quantiles;
pub mod quick_check;
pub mod report_period;
pub mod rework;
pub mod time_to_restore;
pub mod views;
pub mod window;

use std::collections::{BTreeSet, HashMap};

use chrono_tz::Tz;
use polars::prelude::*;

pub use window::{PeriodKind, Window};

use crate::analysis::figures::{Figures, Frequency, Group, Levels, PeriodFigures, Recovery, Scorecard, TimeToRestore};
use crate::error::{PolarsContext, Result};
use crate::table::Tables;
use crate::table::schema::{deployments as d, incidents as i};
use crate::timestamp::{MICROS_PER_HOUR, Micros};

// Internal column names. Timestamps are integers (UTC microseconds) inside analysis: cheap to
// compare and subtract, and free of time zone dtypes.
const AT: &str = "deployed_us";
const PREV_AT: &str = "previous_deployed_us";
const NEXT_AT: &str = "next_deployed_us";
const COMMITTED: &str = "committed_us";
const CREATED: &str = "created_us";
const RESOLVED: &str = "resolved_us";
const INCIDENT: &str = "incident_id";
const ATTRIBUTED: &str = "attributed_to";
const RULE: &str = "attribution";
const GROUP: &str = "group";
const PERIOD: &str = "period";
const DAY: &str = "day";

/// The `--by` dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Repo,
    Service,
    Team,
}

impl GroupBy {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Repo => "repo",
            GroupBy::Service => "service",
            GroupBy::Team => "team",
        }
    }
}

/// What the computation cannot run without.
#[derive(Debug, Clone)]
pub struct Context {
    pub window: Window,
    pub zone: Tz,
    /// Environment that counts as production (compared case-insensitively).
    pub environment: String,
    pub group_by: Option<GroupBy>,
    pub period: Option<PeriodKind>,
}

/// A column of UTC microseconds from a timestamp column.
fn micros(name: &str) -> Expr {
    col(name).cast(DataType::Int64)
}

/// `later - earlier` in hours, from microsecond columns.
fn hours(later: Expr, earlier: Expr) -> Expr {
    (later - earlier).cast(DataType::Float64) / lit(MICROS_PER_HOUR as f64)
}

fn null_of(dtype: DataType) -> Expr {
    lit(Null {}).cast(dtype)
}

/// As-of join within groups of `by`; both sides must be sorted by their `on` column.
fn asof(
    left: LazyFrame,
    right: LazyFrame,
    left_on: &str,
    right_on: &str,
    by: &str,
    strategy: AsofStrategy,
) -> LazyFrame {
    let options = AsOfOptions {
        strategy,
        tolerance: None,
        tolerance_str: None,
        left_by: Some(vec![by.into()]),
        right_by: Some(vec![by.into()]),
        allow_eq: true,
        check_sortedness: false,
    };
    left.join_builder()
        .with(right)
        .left_on([col(left_on)])
        .right_on([col(right_on)])
        .how(JoinType::AsOf(Box::new(options)))
        .finish()
}

/// The index of the boundary at or before each value of `column` (`-1` before the first).
fn bucket(column: &str, starts: &[Micros]) -> Expr {
    let bounds = Series::new("bounds".into(), starts);
    lit(bounds)
        .search_sorted(col(column), SearchSortedSide::Right, false)
        .cast(DataType::Int64)
        - lit(1i64)
}

/// Whether `deployment_commits` has rows; without them lead time falls back to commit times.
pub fn has_deployment_commits(tables: &Tables) -> Result<bool> {
    has_rows(&tables.deployment_commits, "deployment_commits")
}

/// Whether a table has any row (from Parquet metadata for a store: nothing is scanned).
/// Whether `frame` has every one of `columns` (a store written before a derived column lacks it).
fn has_columns(frame: &LazyFrame, columns: &[&str]) -> bool {
    frame
        .clone()
        .collect_schema()
        .is_ok_and(|s| columns.iter().all(|c| s.contains(c)))
}

fn has_rows(table: &LazyFrame, name: &str) -> Result<bool> {
    let n = table
        .clone()
        .select([len().alias("n")])
        .collect()
        .context(|| format!("failed to count {name}"))?;
    Ok(n.column("n")
        .ok()
        .and_then(|c| c.get(0).ok())
        .and_then(|v| v.extract::<u64>())
        .unwrap_or(0)
        > 0)
}

/// First and last instant with a deployment or an incident, for `--all`.
pub fn data_span(tables: &Tables) -> Result<Option<(Micros, Micros)>> {
    let deployments = tables.deployments.clone().select([micros(d::DEPLOYED_AT).alias("t")]);
    let incidents = tables.incidents.clone().select([micros(i::CREATED_AT).alias("t")]);
    let span = concat([deployments, incidents], UnionArgs::default())
        .and_then(|lf| {
            lf.select([col("t").min().alias("min"), col("t").max().alias("max")])
                .collect()
        })
        .context(|| "failed to find the span of the data".into())?;
    let get = |name: &str| {
        span.column(name)
            .ok()
            .and_then(|c| c.get(0).ok())
            .and_then(|v| v.extract::<i64>())
    };
    Ok(get("min").zip(get("max")))
}

/// Which rows a figure covers: all of them, or one value of the `--by` dimension (`None` for
/// rows without a value, such as deployments without a service).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Scope {
    All,
    Group(Option<String>),
}

/// A scope and a period index (`None`: the whole window).
type ScopeKey = (Scope, Option<i64>);

/// The facts behind every figure, as lazy frames (nothing is computed until collected).
///
/// `compute` aggregates them; `dora query` and `dora explain` show them row by row, so the rows a
/// user sees are exactly the rows the figures come from.
#[derive(Clone)]
pub struct Facts {
    /// Production deployments of all history, with previous/next deployment and the group.
    pub production: LazyFrame,
    /// Every incident with the production deployment it is attributed to, and the rule.
    pub attribution: LazyFrame,
    /// The window's production deployments with `failed`, recovery, `rework`, period and day.
    pub deployments: LazyFrame,
    /// The window's deployed commits with their lead time and period.
    pub changes: LazyFrame,
    /// What the lead-time figures are computed from (the same pairs as `changes`, reduced).
    pub lead_time_input: lead_time::FigureInput<LazyFrame>,
    /// The window's incidents with attribution, restore time, group and period.
    pub incidents: LazyFrame,
    /// One row per issue with its delivery ([`issues::deliveries`]), with the period of its
    /// delivery.
    pub issues: LazyFrame,
    /// The issues' links, with each linked commit's time ([`issues::commits_of`]).
    pub linked: issues::Linked,
    /// Whether there are issues: without them the feedback loop's figures are `null`.
    pub with_issues: bool,
    /// Whether lead time comes from `deployment_commits` (else from commit times).
    pub mapped: bool,
    /// The periods of the window (empty without `--period`).
    pub periods: Vec<window::Period>,
    pub window: Window,
}

/// Builds the facts for the context's window, groups and periods.
pub fn facts(tables: &Tables, ctx: &Context) -> Result<Facts> {
    let mapped = has_deployment_commits(tables)?;
    let window = ctx.window;
    let periods = ctx
        .period
        .map(|k| window::periods(window, k, ctx.zone))
        .unwrap_or_default();
    let period_starts: Vec<Micros> = periods.iter().map(|p| p.start_utc).collect();
    let days = window::periods(window, PeriodKind::Day, ctx.zone);
    let day_starts: Vec<Micros> = days.iter().map(|p| p.start_utc).collect();
    let in_window = |c: &str| col(c).gt_eq(lit(window.since)).and(col(c).lt(lit(window.until)));
    let period_of = |c: &str| {
        if ctx.period.is_some() {
            bucket(c, &period_starts)
        } else {
            null_of(DataType::Int64)
        }
    };

    let group_column = ctx.group_by.map(|g| match g {
        GroupBy::Repo => d::REPO,
        GroupBy::Service => d::SERVICE,
        GroupBy::Team => d::TEAM,
    });
    let group_of_deployment = group_column.map_or_else(|| null_of(DataType::String), col);

    let production = production::production(tables.deployments.clone(), &ctx.environment)?
        .with_column(group_of_deployment.cast(group_dtype()).alias(GROUP))
        .cache();
    let attribution = change_failure::attribution(tables.incidents.clone(), &production)?.cache();
    let with_issues = issues::present(tables)?;
    let linked = issues::Linked::new(tables, &production, mapped);
    // Read only by row (derived columns): lead time and the fix-only check share one read.
    let deployed = lead_time::deployed_by_row(tables).cache();

    // Deployments of the window, with failure, recovery and rework.
    let window_deployments = production.clone().filter(in_window(AT));
    let deployments = rework::with_rework(
        change_failure::with_failures(window_deployments, &attribution),
        tables.incidents.clone(),
        with_issues.then(|| issues::fix_only(tables, &deployed, &linked, &production, mapped)),
    )?
    .with_columns([period_of(AT).alias(PERIOD), bucket(AT, &day_starts).alias(DAY)])
    // Each fact frame feeds up to four aggregation levels: computed once, not four times.
    .cache();

    // Deployed commits of the window's deployments.
    let with_period = production.clone().with_column(period_of(AT).alias(PERIOD));
    let changes = lead_time::facts(lead_time::pairs(tables, &with_period, mapped, true).filter(in_window(AT))).cache();
    let lead_time_input = lead_time::figure_input(tables, &deployed, &with_period, &deployments, mapped, in_window(AT));

    // Incidents of the window, grouped by the incident's repository, or by the service or team
    // of the deployment it is attributed to (for service: its own `service` first), falling back
    // to the repository's latest production deployment.
    let incident_group = match ctx.group_by {
        None => null_of(DataType::String),
        Some(GroupBy::Repo) => col(i::REPO),
        Some(g) => {
            let own = if g == GroupBy::Service {
                col(i::SERVICE)
            } else {
                null_of(DataType::String)
            };
            own.fill_null(col("deployment_group")).fill_null(col("repo_group"))
        }
    };
    let mut incidents = tables
        .incidents
        .clone()
        .select([col(i::ID).alias(INCIDENT), col(i::SERVICE), col(i::URL)])
        .join(
            attribution.clone(),
            [col(INCIDENT)],
            [col(INCIDENT)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(in_window(CREATED));
    if matches!(ctx.group_by, Some(GroupBy::Service | GroupBy::Team)) {
        // Only these groupings look up the deployment's (or the repository's) value.
        let by_deployment = production
            .clone()
            .select([col(d::ID), col(GROUP).alias("deployment_group")]);
        let by_repo = production.clone().group_by([col(d::REPO)]).agg([col(GROUP)
            .sort_by([col(AT)], SortMultipleOptions::default())
            .last()
            .alias("repo_group")]);
        incidents = incidents
            .join(
                by_deployment,
                [col(ATTRIBUTED)],
                [col(d::ID)],
                JoinArgs::new(JoinType::Left),
            )
            .join(by_repo, [col(i::REPO)], [col(d::REPO)], JoinArgs::new(JoinType::Left));
    }
    let incidents = incidents.with_columns([
        incident_group.cast(group_dtype()).alias(GROUP),
        period_of(CREATED).alias(PERIOD),
    ]);
    let incidents = time_to_restore::facts(incidents).cache();
    let issues = issues::deliveries(tables, &linked, &production, mapped, ctx.group_by)?
        .with_column(period_of(issues::DELIVERED).alias(PERIOD))
        .cache();
    Ok(Facts {
        production,
        attribution,
        deployments,
        changes,
        lead_time_input,
        incidents,
        issues,
        linked,
        with_issues,
        mapped,
        periods,
        window,
    })
}

/// Computes every figure for the context's window, groups and periods.
pub fn compute(tables: &Tables, ctx: &Context) -> Result<Scorecard> {
    let Facts {
        production,
        deployments,
        lead_time_input,
        incidents,
        issues,
        with_issues,
        mapped,
        periods,
        ..
    } = facts(tables, ctx)?;
    let window = ctx.window;
    let production_all = production.clone();

    let deployment_aggs = vec![
        len().cast(DataType::Int64).alias("deployments"),
        col(change_failure::FAILED).sum().cast(DataType::Int64).alias("failed"),
        col(rework::REWORK).sum().cast(DataType::Int64).alias("rework"),
        col(DAY).n_unique().cast(DataType::Int64).alias("days"),
        col(change_failure::RECOVERY_HOURS)
            .count()
            .cast(DataType::Int64)
            .alias("rec_count"),
        col(change_failure::RECOVERY_HOURS)
            .quantile(lit(0.5), QuantileMethod::Linear)
            .alias("rec_median"),
        col(change_failure::RECOVERY_HOURS)
            .quantile(lit(0.9), QuantileMethod::Linear)
            .alias("rec_p90"),
        col(change_failure::RECOVERY_OPEN)
            .sum()
            .cast(DataType::Int64)
            .alias("rec_open"),
        // Progressive delivery.
        col(production::COMPLETED)
            .not()
            .sum()
            .cast(DataType::Int64)
            .alias("aborted"),
        col(change_failure::FAILED)
            .and(col(production::COMPLETED))
            .sum()
            .cast(DataType::Int64)
            .alias("escaped"),
        col(change_failure::RECOVERY_UNKNOWN)
            .sum()
            .cast(DataType::Int64)
            .alias("rec_unknown"),
        rollout_hours().count().cast(DataType::Int64).alias("rollout_count"),
        rollout_hours()
            .quantile(lit(0.5), QuantileMethod::Linear)
            .alias("rollout_median"),
        rollout_hours()
            .quantile(lit(0.9), QuantileMethod::Linear)
            .alias("rollout_p90"),
        aborted_exposure().count().cast(DataType::Int64).alias("exposure_count"),
        aborted_exposure()
            .quantile(lit(0.5), QuantileMethod::Linear)
            .alias("exposure_median"),
    ];
    let levels = scope_levels(ctx);
    let mut plans = vec![
        at_levels(&deployments, &deployment_aggs, &levels)?,
        at_levels(&incidents, &time_to_restore::aggregations(), &levels)?,
        production
            .select([col(GROUP).cast(DataType::String), lead_time::group_code()])
            .unique(None, UniqueKeepStrategy::Any),
    ];
    // Lead time, the biggest facts, is summarized outside Polars (`quantiles`).
    match &lead_time_input {
        lead_time::FigureInput::ByRow { deployments, commits } => {
            plans.extend([deployments.clone(), commits.clone()]);
        }
        lead_time::FigureInput::Pairs { deployments, pairs } => plans.extend([deployments.clone(), pairs.clone()]),
    }
    if with_issues {
        // Only what the figures read (not the titles, links or commit lists of the views).
        plans.push(issues.clone().select(issues::SUMMARIZED.map(col)));
    }
    let mut frames = collect_all(plans)?.into_iter();
    let mut scopes: HashMap<ScopeKey, Figures> = HashMap::new();
    let mut next = || frames.next().unwrap_or_default();
    let with_rollouts = has_rollouts(tables)?;
    read_deployments(&next(), &mut scopes, with_rollouts)?;
    read_restore(&next(), &mut scopes)?;
    let production_groups = next();
    let lead_time_input = match lead_time_input {
        lead_time::FigureInput::ByRow { .. } => lead_time::FigureInput::ByRow {
            deployments: next(),
            commits: next(),
        },
        lead_time::FigureInput::Pairs { .. } => lead_time::FigureInput::Pairs {
            deployments: next(),
            pairs: next(),
        },
    };
    let issue_frame = with_issues.then(&mut next);
    // Both summaries run outside Polars, one per core: the feedback loop's while lead time's.
    let (with_ai, issue_figures) = rayon::join(
        || {
            read_lead_time(
                &lead_time_input,
                &production_groups,
                &levels,
                periods.len(),
                &mut scopes,
            )
        },
        || {
            issue_frame
                .map(|frame| issues::summarize(&frame, window, &periods, ctx.group_by.is_some()))
                .transpose()
        },
    );
    let with_ai = with_ai?;
    for (key, f) in issue_figures?.into_iter().flatten() {
        scopes.entry(key).or_default().issues = Some(f);
    }

    // Figures that derive from others, and levels.
    let window_days = window::local_days(window.since, window.until, ctx.zone);
    let period_days: Vec<f64> = periods
        .iter()
        .map(|p| window::local_days(p.start_utc.max(window.since), p.end_utc.min(window.until), ctx.zone))
        .collect();
    // Rates, frequency and levels from the counts; with issue data, every scope has the three
    // kinds (zeros where it has none), and with rollouts their figures.
    let complete = |f: &mut Figures, period: Option<i64>| {
        let days = period
            .and_then(|p| period_days.get(usize::try_from(p).ok()?).copied())
            .unwrap_or(window_days);
        finish(f, days);
        if with_issues && f.issues.is_none() {
            f.issues = Some(figures::IssueFigures::default());
        }
        if with_rollouts && f.rollouts.is_none() {
            f.rollouts = Some(figures::Rollouts::default());
        }
        if with_ai && f.ai.is_none() {
            f.ai = Some(figures::AiAssisted::default());
        }
    };
    for ((_, period), f) in &mut scopes {
        complete(f, *period);
    }
    let figures = |key: &ScopeKey| {
        scopes.get(key).cloned().unwrap_or_else(|| {
            let mut f = Figures::default();
            complete(&mut f, key.1);
            f
        })
    };
    let period_list = |scope: &Scope| -> Vec<PeriodFigures> {
        periods
            .iter()
            .enumerate()
            .map(|(n, p)| PeriodFigures {
                start: p.start,
                end: p.end,
                figures: figures(&(scope.clone(), Some(n as i64))),
            })
            .collect()
    };

    let groups = if ctx.group_by.is_some() {
        let mut keys: BTreeSet<Option<String>> = scopes
            .keys()
            .filter_map(|(scope, _)| match scope {
                Scope::Group(g) => Some(g.clone()),
                Scope::All => None,
            })
            .collect();
        // A group without events in the window still appears, with zero deployments.
        if let Ok(c) = production_groups.column(GROUP).and_then(|c| c.str().cloned()) {
            keys.extend(c.iter().map(|v| v.map(str::to_string)));
        }
        keys.into_iter()
            .map(|key| {
                let scope = Scope::Group(key.clone());
                Group {
                    figures: figures(&(scope.clone(), None)),
                    periods: if ctx.period.is_some() {
                        period_list(&scope)
                    } else {
                        Vec::new()
                    },
                    key,
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    Ok(Scorecard {
        since: window.since,
        until: window.until,
        time_zone: ctx.zone.name().to_string(),
        environment: ctx.environment.clone(),
        group_by: ctx.group_by.map(GroupBy::as_str),
        period: ctx.period.map(PeriodKind::as_str),
        lead_time_source: if mapped { "deployment_commits" } else { "commit times" },
        overall: figures(&(Scope::All, None)),
        groups,
        periods: if ctx.period.is_some() {
            period_list(&Scope::All)
        } else {
            Vec::new()
        },
        inputs: None,
        pull_requests: pull_requests::breakdown(tables, &production_all, mapped, window)?,
        lines_per_commit: lines_per_change::per_commit(tables, window)?,
        benchmark: quick_check::Benchmark::default(),
        level_scale: levels::LevelScale::default(),
        instability_cost: None,
    })
}

/// A completed deployment's rollout time, from its start to its end (null without a start, or
/// when the start is after the end: clock skew).
pub(crate) fn rollout_hours() -> Expr {
    let started = col(production::STARTED);
    when(
        col(production::COMPLETED)
            .and(started.clone().is_not_null())
            .and(col(AT).gt_eq(started.clone())),
    )
    .then(hours(col(AT), started))
    .otherwise(null_of(DataType::Float64))
}

/// An aborted deployment's exposure (null for the completed ones).
fn aborted_exposure() -> Expr {
    when(col(production::COMPLETED).not())
        .then(col(d::EXPOSURE))
        .otherwise(null_of(DataType::Float64))
}

/// Whether any deployment (any environment, any time) has `started_at` or status `aborted`:
/// without one, there are no rollouts to speak of and their figures are `null`.
fn has_rollouts(tables: &Tables) -> Result<bool> {
    let any = tables
        .deployments
        .clone()
        .select([col(d::STARTED_AT)
            .is_not_null()
            .or(col(d::STATUS).eq(lit(crate::table::schema::status::ABORTED)))
            .any(true)
            .alias("any")])
        .collect()
        .context(|| "failed to look for rollouts".into())?;
    Ok(any
        .column("any")
        .ok()
        .and_then(|c| c.get(0).ok())
        .is_some_and(|v| v == AnyValue::Boolean(true)))
}

/// The grouping levels: (keep the group column, keep the period column).
fn scope_levels(ctx: &Context) -> Vec<(bool, bool)> {
    let mut levels = vec![(false, false)];
    if ctx.group_by.is_some() {
        levels.push((true, false));
    }
    if ctx.period.is_some() {
        levels.push((false, true));
    }
    if ctx.group_by.is_some() && ctx.period.is_some() {
        levels.push((true, true));
    }
    levels
}

/// Aggregates `facts` at each level into one frame keyed by (group, period), null meaning "all".
///
/// The ungrouped level cannot tell "all rows" from "rows whose group is null"; a marker column
/// `grouped` keeps them apart. The whole window needs no group-by at all, and the group key is
/// categorical, so the grouping levels hash small integer codes instead of strings: at millions
/// of deployed commits this is most of the difference in speed.
fn at_levels(facts: &LazyFrame, aggs: &[Expr], levels: &[(bool, bool)]) -> Result<LazyFrame> {
    let parts: Vec<LazyFrame> = levels
        .iter()
        .map(|&(by_group, by_period)| {
            let keys: Vec<Expr> = [(by_group, GROUP), (by_period, PERIOD)]
                .into_iter()
                .filter(|(wanted, _)| *wanted)
                .map(|(_, key)| col(key))
                .collect();
            let aggregated = if keys.is_empty() {
                facts.clone().select(aggs)
            } else {
                facts.clone().group_by(keys).agg(aggs)
            };
            let group = if by_group {
                col(GROUP).cast(DataType::String)
            } else {
                null_of(DataType::String)
            };
            let period = if by_period {
                col(PERIOD)
            } else {
                null_of(DataType::Int64)
            };
            aggregated.with_columns([group.alias(GROUP), period.alias(PERIOD), lit(by_group).alias("grouped")])
        })
        .collect();
    concat_lf_diagonal(parts, UnionArgs::default()).context(|| "failed to plan the metrics".into())
}

/// The dtype of the group column in facts: categorical, for cheap grouping (see `at_levels`).
fn group_dtype() -> DataType {
    DataType::from_categories(Categories::global())
}

fn collect_all(plans: Vec<LazyFrame>) -> Result<Vec<DataFrame>> {
    let opt = plans
        .first()
        .map(LazyFrame::get_current_optimizations)
        .unwrap_or_default();
    let dsl = plans.into_iter().map(|lf| lf.logical_plan).collect();
    LazyFrame::collect_all_with_engine(dsl, Engine::Auto, opt).context(|| "failed to compute the metrics".into())
}

/// Reads one aggregated frame row by row (a few rows per group and period).
fn for_each_scope(frame: &DataFrame, mut f: impl FnMut(ScopeKey, &dyn Fn(&str) -> Option<f64>)) -> Result<()> {
    let ctx = || "failed to read the computed metrics".to_string();
    let groups = frame.column(GROUP).and_then(|c| c.str().cloned()).context(ctx)?;
    let periods = frame.column(PERIOD).and_then(|c| c.i64().cloned()).context(ctx)?;
    let grouped = frame.column("grouped").and_then(|c| c.bool().cloned()).context(ctx)?;
    let numeric: HashMap<String, Float64Chunked> = frame
        .columns()
        .iter()
        .filter(|c| c.dtype().is_primitive_numeric())
        .filter_map(|c| {
            Some((
                c.name().to_string(),
                c.cast(&DataType::Float64).ok()?.f64().ok()?.clone(),
            ))
        })
        .collect();
    for row in 0..frame.height() {
        let scope = if grouped.get(row).unwrap_or(false) {
            Scope::Group(groups.get(row).map(str::to_string))
        } else {
            Scope::All
        };
        let value = |name: &str| numeric.get(name).and_then(|c| c.get(row));
        f((scope, periods.get(row)), &value);
    }
    Ok(())
}

#[expect(clippy::cast_sign_loss, reason = "counts and sums of flags are never negative")]
fn count(v: Option<f64>) -> u64 {
    v.map_or(0, |x| x as u64)
}

fn read_deployments(frame: &DataFrame, scopes: &mut HashMap<ScopeKey, Figures>, rollouts: bool) -> Result<()> {
    for_each_scope(frame, |key, v| {
        let f = scopes.entry(key).or_default();
        if rollouts {
            let (aborted, escaped) = (count(v("aborted")), count(v("escaped")));
            f.rollouts = Some(figures::Rollouts {
                aborted,
                escaped_failures: escaped,
                catch_rate: (aborted + escaped > 0).then(|| aborted as f64 / (aborted + escaped) as f64),
                rollout_time_hours: figures::Spread {
                    count: count(v("rollout_count")),
                    median: v("rollout_median"),
                    p90: v("rollout_p90"),
                },
                exposure_at_abort: figures::Spread {
                    count: count(v("exposure_count")),
                    median: v("exposure_median"),
                    p90: None,
                },
                recovery_unknown: count(v("rec_unknown")),
            });
        }
        f.deployments = count(v("deployments"));
        f.failed_deployments = count(v("failed"));
        f.rework_deployments = count(v("rework"));
        f.deployment_frequency.days_with_deployments = count(v("days"));
        f.failed_deployment_recovery_hours = Recovery {
            count: count(v("rec_count")),
            median: v("rec_median"),
            p90: v("rec_p90"),
            open: count(v("rec_open")),
        };
    })
}

/// Lead-time figures of every scope, from the collected input (see [`lead_time::summarize`]),
/// with the batch sizes and the AI-assisted split; whether there was a split (some deployed
/// commit has a flag). Like a Polars group-by, a scope gets figures only when it has facts; the
/// whole window always.
fn read_lead_time(
    input: &lead_time::FigureInput<DataFrame>,
    production_groups: &DataFrame,
    levels: &[(bool, bool)],
    periods: usize,
    scopes: &mut HashMap<ScopeKey, Figures>,
) -> Result<bool> {
    let context = || "failed to read the groups".to_string();
    let names = production_groups
        .column(GROUP)
        .and_then(|c| c.str().cloned())
        .context(context)?;
    let codes = production_groups
        .column(lead_time::GROUP_CODE)
        .and_then(|c| c.u32().cloned())
        .context(context)?;
    let codes: Vec<Option<u32>> = codes.iter().collect();
    let groups = lead_time::GroupIndex::new(&codes);
    // The same levels as the Polars aggregations ([`scope_levels`]).
    let levels = quantiles::Levels {
        group: levels.contains(&(true, false)),
        period: levels.contains(&(false, true)),
        group_period: levels.contains(&(true, true)),
    };
    let periods = if levels.period { periods } else { 1 };
    let (summaries, batches, ai) = lead_time::summarize(input, &groups, periods, levels)?;
    let group_name = |g: usize| Scope::Group(names.get(g).map(str::to_string));
    let lead_time = lead_time::figure;
    for (key, s) in by_scope(
        &summaries.group,
        &summaries.period,
        &summaries.group_period,
        &group_name,
        periods,
    ) {
        if s.count > 0 || s.below_zero > 0 {
            scopes.entry(key).or_default().lead_time_hours = lead_time(s);
        }
    }
    scopes.entry((Scope::All, None)).or_default().lead_time_hours = lead_time(&summaries.overall);
    for (key, b) in by_scope(
        &batches.group,
        &batches.period,
        &batches.group_period,
        &group_name,
        periods,
    ) {
        if b.deployments > 0 {
            scopes.entry(key).or_default().changes_per_deployment = b.clone();
        }
    }
    scopes.entry((Scope::All, None)).or_default().changes_per_deployment = batches.overall;
    let Some(ai) = ai else {
        return Ok(false);
    };
    for (key, a) in by_scope(ai.group, ai.period, ai.group_period, &group_name, periods) {
        if a.commits > 0 {
            scopes.entry(key).or_default().ai = Some(a);
        }
    }
    scopes.entry((Scope::All, None)).or_default().ai = Some(ai.overall);
    Ok(true)
}

/// The scope of each figure of the levels laid out as [`quantiles::Summaries`]: per group, per
/// period, and per (group, period) bucket (`group * periods + period`).
fn by_scope<'a, T: 'a>(
    group: impl IntoIterator<Item = T> + 'a,
    period: impl IntoIterator<Item = T> + 'a,
    group_period: impl IntoIterator<Item = T> + 'a,
    group_name: &'a dyn Fn(usize) -> Scope,
    periods: usize,
) -> impl Iterator<Item = (ScopeKey, T)> + 'a {
    let group = group.into_iter().enumerate().map(|(g, f)| ((group_name(g), None), f));
    let period = period
        .into_iter()
        .enumerate()
        .map(|(p, f)| ((Scope::All, Some(p as i64)), f));
    let group_period = group_period
        .into_iter()
        .enumerate()
        .map(move |(b, f)| ((group_name(b / periods), Some((b % periods) as i64)), f));
    group.chain(period).chain(group_period)
}

fn read_restore(frame: &DataFrame, scopes: &mut HashMap<ScopeKey, Figures>) -> Result<()> {
    for_each_scope(frame, |key, v| {
        let f = scopes.entry(key).or_default();
        f.time_to_restore_hours = TimeToRestore {
            count: count(v("ttr_count")),
            median: v("ttr_median"),
            p90: v("ttr_p90"),
            open: count(v("ttr_open")),
        };
        f.unattributed_incidents = count(v("unattributed"));
    })
}

/// Rates, frequency and levels, from the counts.
fn finish(f: &mut Figures, days: f64) {
    let rate = |n: u64| (f.deployments > 0).then(|| n as f64 / f.deployments as f64);
    f.change_failure_rate = rate(f.failed_deployments);
    f.rework_rate = rate(f.rework_deployments);
    let per_day = (days > 0.0).then(|| f.deployments as f64 / days);
    f.deployment_frequency = Frequency {
        per_day,
        per_week: per_day.map(|d| d * 7.0),
        days_with_deployments: f.deployment_frequency.days_with_deployments,
    };
    f.quick_check = quick_check::of(f);
    f.levels = Levels {
        deployment_frequency: levels::deployment_frequency(per_day),
        lead_time: levels::lead_time(f.lead_time_hours.median),
        change_failure_rate: levels::change_failure_rate(f.change_failure_rate),
        time_to_restore: levels::time_to_restore(f.time_to_restore_hours.median),
    };
}

#[cfg(test)]
mod tests;
