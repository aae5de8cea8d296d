//! Lead time for changes: from a commit to the production deployment that first shipped it.
//!
//! The commits of a deployment come from `deployment_commits` when that table has rows;
//! otherwise they are the commits of the same repository committed in
//! (previous production deployment, this deployment], found with an as-of join.

use polars::prelude::*;

use super::batch_size::BatchSummaries;
use super::quantiles::{self, Buckets, Summaries};
use super::{AT, COMMITTED, GROUP, PERIOD, asof, hours, micros, production};
use crate::error::{PolarsContext, Result};
use crate::table::Tables;
use crate::table::schema::{commits as c, deployment_commits as dc, deployments as d};
use crate::timestamp::MICROS_PER_HOUR;

pub const HOURS: &str = "lead_time_hours";

/// The repository of a deployed commit, while it is compared with the deployment's.
const COMMIT_REPO: &str = "commit_repo";

/// One row per (production deployment, commit) with the deployment's columns and `committed`.
/// `with_period`: `production` has the period column, and the pairs carry it (each deployment's
/// period is found once, not once per deployed commit: a single-core pass over 20M rows).
pub fn pairs(tables: &Tables, production: &LazyFrame, mapped: bool, with_period: bool) -> LazyFrame {
    // Only a completed deployment ships commits: an aborted rollout's wait for the next one.
    let production = &production.clone().filter(col(production::COMPLETED));
    let mut columns = vec![col(d::ID), col(d::REPO), col(AT), col(GROUP)];
    if with_period {
        columns.push(col(PERIOD));
    }
    let schema = tables.deployment_commits.clone().collect_schema();
    let has = |column: &str| schema.as_ref().is_ok_and(|s| s.contains(column));
    // The store writes each deployed commit's time next to it (docs/store.md): no join with
    // `commits` on the sha is needed; and its deployment's row, which an integer join finds
    // (the join on the text id took most of `dora explain lead-time` at 10M commits).
    if mapped && has(crate::table::schema::DERIVED_COMMITTED_AT) && has(crate::table::schema::DERIVED_DEPLOYMENT_ROW) {
        columns.push(col(production::ROW).cast(DataType::UInt32));
        return tables
            .deployment_commits
            .clone()
            .filter(col(crate::table::schema::DERIVED_COMMITTED_AT).is_not_null())
            .select([
                col(crate::table::schema::DERIVED_DEPLOYMENT_ROW)
                    .cast(DataType::UInt32)
                    .alias(production::ROW),
                col(dc::SHA),
                micros(crate::table::schema::DERIVED_COMMITTED_AT).alias(COMMITTED),
            ])
            .join(
                production.clone().select(columns),
                [col(production::ROW)],
                [col(production::ROW)],
                JoinArgs::new(JoinType::Inner),
            )
            .drop(cols([production::ROW]));
    }
    let deployments = production.clone().select(columns);
    if mapped && has(crate::table::schema::DERIVED_COMMITTED_AT) {
        return tables
            .deployment_commits
            .clone()
            .filter(col(crate::table::schema::DERIVED_COMMITTED_AT).is_not_null())
            .select([
                col(dc::DEPLOYMENT_ID).alias(d::ID),
                col(dc::SHA),
                micros(crate::table::schema::DERIVED_COMMITTED_AT).alias(COMMITTED),
            ])
            .join(deployments, [col(d::ID)], [col(d::ID)], JoinArgs::new(JoinType::Inner));
    }
    let commits = tables
        .commits
        .clone()
        .select([col(c::REPO), col(c::SHA), micros(c::COMMITTED_AT).alias(COMMITTED)]);
    if mapped {
        // Joined on the sha alone, then the repositories compared: the same rows as a join on
        // (sha, repo), without encoding a two-column key for every row (perf, 2M commits).
        tables
            .deployment_commits
            .clone()
            .select([col(dc::DEPLOYMENT_ID).alias(d::ID), col(dc::SHA)])
            .join(deployments, [col(d::ID)], [col(d::ID)], JoinArgs::new(JoinType::Inner))
            .join(
                commits.select([col(c::SHA), col(c::REPO).alias(COMMIT_REPO), col(COMMITTED)]),
                [col(c::SHA)],
                [col(c::SHA)],
                JoinArgs::new(JoinType::Inner),
            )
            .filter(col(COMMIT_REPO).eq(col(d::REPO)))
            .drop(cols([COMMIT_REPO]))
    } else {
        // Each commit goes to the first deployment at or after it: (previous, this].
        asof(
            commits.sort([COMMITTED], SortMultipleOptions::default()),
            deployments.sort([AT], SortMultipleOptions::default()),
            COMMITTED,
            AT,
            d::REPO,
            AsofStrategy::Forward,
        )
        .filter(col(d::ID).is_not_null())
    }
}

/// The quantiles of the lead-time figures: median, p75, p90.
pub const QUANTILES: [f64; 3] = [0.5, 0.75, 0.9];

/// The group key of a fact as an integer: the code of its categorical group.
pub(super) const GROUP_CODE: &str = "group_code";

pub(super) fn group_code() -> Expr {
    col(GROUP).to_physical().cast(DataType::UInt32).alias(GROUP_CODE)
}

/// What the lead-time figures are computed from: plans collected with the other figures.
#[derive(Clone)]
pub enum FigureInput<T> {
    /// A store's `deployment_commits` with `deployment_row` and `committed_at`: the window's
    /// production deployments (row, time, group, period), and every deployed commit's (row, commit
    /// time). No join: each commit finds its deployment by position.
    ByRow { deployments: T, commits: T },
    /// The window's production deployments (id, group, period), and the pairs as joined by
    /// [`pairs`], reduced to (group, period, hours, deployment id).
    Pairs { deployments: T, pairs: T },
}

/// The plans behind the lead-time figures of the window (`in_window` on `AT`). `production`
/// has the period column.
pub fn figure_input(tables: &Tables, production: &LazyFrame, mapped: bool, in_window: Expr) -> FigureInput<LazyFrame> {
    let by_row = mapped
        && tables.deployment_commits.clone().collect_schema().is_ok_and(|s| {
            s.contains(crate::table::schema::DERIVED_COMMITTED_AT)
                && s.contains(crate::table::schema::DERIVED_DEPLOYMENT_ROW)
        });
    if by_row {
        return FigureInput::ByRow {
            deployments: production
                .clone()
                .filter(in_window.and(col(production::COMPLETED)))
                .select([col(production::ROW), col(AT), group_code(), col(PERIOD)]),
            commits: tables.deployment_commits.clone().select([
                col(crate::table::schema::DERIVED_DEPLOYMENT_ROW).cast(DataType::UInt32),
                micros(crate::table::schema::DERIVED_COMMITTED_AT).alias(COMMITTED),
            ]),
        };
    }
    FigureInput::Pairs {
        deployments: production
            .clone()
            .filter(in_window.clone().and(col(production::COMPLETED)))
            .select([col(d::ID), group_code(), col(PERIOD)]),
        pairs: pairs(tables, production, mapped, true).filter(in_window).select([
            group_code(),
            col(PERIOD),
            hours(col(AT), col(COMMITTED)).alias(HOURS),
            col(d::ID),
        ]),
    }
}

/// Dense indexes for the group codes of the facts.
pub struct GroupIndex {
    /// Index of each code (`u32::MAX`: unknown).
    by_code: Vec<u32>,
    /// Index of the null group.
    null: u32,
    pub len: usize,
}

impl GroupIndex {
    /// From the codes of the groups, in the order of their indexes (`None`: the null group).
    pub fn new(codes: &[Option<u32>]) -> GroupIndex {
        let mut by_code = Vec::new();
        let mut null = u32::MAX;
        for (index, code) in codes.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            match code {
                None => null = index,
                Some(code) => {
                    let code = *code as usize;
                    if by_code.len() <= code {
                        by_code.resize(code + 1, u32::MAX);
                    }
                    by_code[code] = index;
                }
            }
        }
        GroupIndex {
            by_code,
            null,
            len: codes.len(),
        }
    }

    fn get(&self, code: Option<u32>) -> Option<usize> {
        let index = match code {
            None => self.null,
            Some(code) => *self.by_code.get(code as usize)?,
        };
        (index != u32::MAX).then_some(index as usize)
    }
}

/// The (group, period) bucket of a fact; `None` outside the groups and periods.
fn bucket_of(groups: &GroupIndex, periods: usize, code: Option<u32>, period: Option<i64>) -> Option<usize> {
    let group = groups.get(code)?;
    let period = match period {
        None if periods == 1 => 0,
        None => return None,
        Some(p) => usize::try_from(p).ok().filter(|p| *p < periods)?,
    };
    Some(group * periods + period)
}

/// Counts and quantiles of the window's lead times at the wanted levels, from the collected
/// [`figure_input`], and the batch sizes of its deployments (the commits each shipped: its
/// pairs). `periods`: the number of periods (1 without periods, whose period is null).
pub fn summarize(
    input: &FigureInput<DataFrame>,
    groups: &GroupIndex,
    periods: usize,
    levels: quantiles::Levels,
) -> Result<(Summaries, BatchSummaries)> {
    let ctx = || "failed to compute lead time".to_string();
    // Each window deployment's bucket and the commits it shipped.
    let mut shipped: Vec<(usize, u32)> = Vec::new();
    let buckets = match input {
        FigureInput::ByRow { deployments, commits } => {
            // Each production deployment of the window, by row: its bucket and time.
            let rows = deployments
                .column(production::ROW)
                .and_then(|c| c.idx().cloned())
                .context(ctx)?;
            let at = deployments.column(AT).and_then(|c| c.i64().cloned()).context(ctx)?;
            let codes = deployments
                .column(GROUP_CODE)
                .and_then(|c| c.u32().cloned())
                .context(ctx)?;
            let period = deployments.column(PERIOD).and_then(|c| c.i64().cloned()).context(ctx)?;
            let size = rows.max().map_or(0, |m| m as usize + 1);
            let mut deployment = vec![(u32::MAX, 0i64); size];
            for (((row, at), code), period) in rows.iter().zip(at.iter()).zip(codes.iter()).zip(period.iter()) {
                if let (Some(row), Some(at), Some(bucket)) = (row, at, bucket_of(groups, periods, code, period)) {
                    deployment[row as usize] = (u32::try_from(bucket).unwrap_or(u32::MAX), at);
                }
            }
            let rows = commits
                .column(crate::table::schema::DERIVED_DEPLOYMENT_ROW)
                .and_then(|c| c.u32().cloned())
                .context(ctx)?;
            let committed = commits.column(COMMITTED).and_then(|c| c.i64().cloned()).context(ctx)?;
            let mut per_row = vec![0u32; size];
            for (row, committed) in rows.iter().zip(committed.iter()) {
                if let (Some(row), Some(_)) = (row, committed)
                    && let Some(n) = per_row.get_mut(row as usize)
                {
                    *n += 1;
                }
            }
            shipped = deployment
                .iter()
                .zip(&per_row)
                .filter(|((bucket, _), _)| *bucket != u32::MAX)
                .map(|((bucket, _), n)| (*bucket as usize, *n))
                .collect();
            Buckets::build(groups.len, periods, |place| {
                for (row, committed) in rows.iter().zip(committed.iter()) {
                    let (Some(row), Some(committed)) = (row, committed) else {
                        continue;
                    };
                    if let Some(&(bucket, at)) = deployment.get(row as usize)
                        && bucket != u32::MAX
                    {
                        // As `hours` computes it in Polars, which divides by a scalar by
                        // multiplying with its reciprocal: the same figures to the last bit.
                        place(
                            bucket as usize,
                            at.wrapping_sub(committed) as f64 * (1.0 / MICROS_PER_HOUR as f64),
                        );
                    }
                }
            })
        }
        FigureInput::Pairs { deployments, pairs } => {
            let ids = pairs.column(d::ID).and_then(|c| c.str().cloned()).context(ctx)?;
            let mut per_id: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
            for id in ids.iter().flatten() {
                *per_id.entry(id).or_default() += 1;
            }
            let window_ids = deployments.column(d::ID).and_then(|c| c.str().cloned()).context(ctx)?;
            let window_codes = deployments
                .column(GROUP_CODE)
                .and_then(|c| c.u32().cloned())
                .context(ctx)?;
            let window_periods = deployments.column(PERIOD).and_then(|c| c.i64().cloned()).context(ctx)?;
            for ((id, code), period) in window_ids.iter().zip(window_codes.iter()).zip(window_periods.iter()) {
                if let (Some(id), Some(bucket)) = (id, bucket_of(groups, periods, code, period)) {
                    shipped.push((bucket, per_id.get(id).copied().unwrap_or(0)));
                }
            }
            let codes = pairs.column(GROUP_CODE).and_then(|c| c.u32().cloned()).context(ctx)?;
            let period = pairs.column(PERIOD).and_then(|c| c.i64().cloned()).context(ctx)?;
            let hours = pairs.column(HOURS).and_then(|c| c.f64().cloned()).context(ctx)?;
            Buckets::build(groups.len, periods, |place| {
                for ((code, period), hours) in codes.iter().zip(period.iter()).zip(hours.iter()) {
                    if let (Some(hours), Some(bucket)) = (hours, bucket_of(groups, periods, code, period)) {
                        place(bucket, hours);
                    }
                }
            })
        }
    };
    let batches = super::batch_size::summarize(&shipped, groups.len, periods, levels);
    Ok((buckets.summarize(&QUANTILES, levels), batches))
}

/// The window's pairs with their lead time in hours (negative ones kept, to be counted).
pub fn facts(pairs: LazyFrame) -> LazyFrame {
    pairs.with_column(hours(col(AT), col(COMMITTED)).alias(HOURS))
}
