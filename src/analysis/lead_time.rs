//! Lead time for changes: from a commit to the production deployment that first shipped it.
//!
//! The commits of a deployment come from `deployment_commits` when that table has rows;
//! otherwise they are the commits of the same repository committed in
//! (previous production deployment, this deployment], found with an as-of join.

use polars::prelude::*;

use super::ai_assisted::{self, AiSummaries};
use super::batch_size::BatchSummaries;
use super::quantiles::{self, Buckets, Summaries};
use super::{AT, COMMITTED, GROUP, PERIOD, asof, hours, micros, production};
use crate::error::{PolarsContext, Result};
use crate::table::Tables;
use crate::table::schema::{commits as c, deployment_commits as dc, deployments as d};
use crate::timestamp::MICROS_PER_HOUR;

pub const HOURS: &str = "lead_time_hours";

/// Whether the deployed commit is AI-assisted (null: unknown), in the pairs and the facts.
pub const AI: &str = crate::table::schema::DERIVED_AI_ASSISTED;

/// `frame`'s flag of AI-assisted commits, or null where it has none (a store written before
/// the column).
pub(super) fn ai_flag(frame: &LazyFrame) -> Expr {
    if super::has_columns(frame, &[AI]) {
        col(AI)
    } else {
        super::null_of(DataType::Boolean).alias(AI)
    }
}

/// A lead-time summary as its figure (median, p75, p90 of [`QUANTILES`]).
pub fn figure(s: &quantiles::Summary) -> crate::analysis::figures::LeadTime {
    crate::analysis::figures::LeadTime {
        count: s.count as u64,
        median: s.quantiles.first().copied().flatten(),
        p75: s.quantiles.get(1).copied().flatten(),
        p90: s.quantiles.get(2).copied().flatten(),
        negative_dropped: s.below_zero as u64,
    }
}

/// Whether `deployment_commits` carries the commits' AI flags, when commits have them: a store
/// whose links were derived before the flag joins `commits` for it, like a CSV folder.
fn flags_derived(tables: &Tables) -> bool {
    !super::has_columns(&tables.commits, &[c::AI_ASSISTED]) || super::has_columns(&tables.deployment_commits, &[AI])
}

/// Whether `deployment_commits` has the store's derived columns (each row's commit time and
/// its deployment's position): what [`deployed_by_row`] reads.
pub(super) fn by_row(tables: &Tables) -> bool {
    super::has_columns(
        &tables.deployment_commits,
        &[
            crate::table::schema::DERIVED_COMMITTED_AT,
            crate::table::schema::DERIVED_DEPLOYMENT_ROW,
        ],
    )
}

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
    let derived = mapped && has(crate::table::schema::DERIVED_COMMITTED_AT) && flags_derived(tables);
    if derived && has(crate::table::schema::DERIVED_DEPLOYMENT_ROW) {
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
                ai_flag(&tables.deployment_commits),
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
    if derived {
        return tables
            .deployment_commits
            .clone()
            .filter(col(crate::table::schema::DERIVED_COMMITTED_AT).is_not_null())
            .select([
                col(dc::DEPLOYMENT_ID).alias(d::ID),
                col(dc::SHA),
                micros(crate::table::schema::DERIVED_COMMITTED_AT).alias(COMMITTED),
                ai_flag(&tables.deployment_commits),
            ])
            .join(deployments, [col(d::ID)], [col(d::ID)], JoinArgs::new(JoinType::Inner));
    }
    let commits = tables.commits.clone().select([
        col(c::REPO),
        col(c::SHA),
        micros(c::COMMITTED_AT).alias(COMMITTED),
        ai_flag(&tables.commits),
    ]);
    if mapped {
        // Joined on the sha alone, then the repositories compared: the same rows as a join on
        // (sha, repo), without encoding a two-column key for every row (perf, 2M commits).
        tables
            .deployment_commits
            .clone()
            .select([col(dc::DEPLOYMENT_ID).alias(d::ID), col(dc::SHA)])
            .join(deployments, [col(d::ID)], [col(d::ID)], JoinArgs::new(JoinType::Inner))
            .join(
                commits.select([col(c::SHA), col(c::REPO).alias(COMMIT_REPO), col(COMMITTED), col(AI)]),
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
    /// completed production deployments (row, time, group, period, failed), and every deployed
    /// commit's (row, commit time, AI flag). No join: each commit finds its deployment by
    /// position.
    ByRow { deployments: T, commits: T },
    /// The window's completed production deployments (id, group, period, failed), and the pairs
    /// as joined by [`pairs`], reduced to (group, period, hours, deployment id, AI flag).
    Pairs { deployments: T, pairs: T },
}

/// The plans behind the lead-time figures of the window (`in_window` on `AT`). `production`
/// has the period column; `window_deployments` are the deployment facts (with `failed`).
pub fn figure_input(
    tables: &Tables,
    deployed: &LazyFrame,
    production: &LazyFrame,
    window_deployments: &LazyFrame,
    mapped: bool,
    in_window: Expr,
) -> FigureInput<LazyFrame> {
    let by_row = mapped && flags_derived(tables) && by_row(tables);
    let completed = window_deployments.clone().filter(col(production::COMPLETED));
    if by_row {
        return FigureInput::ByRow {
            deployments: completed.select([
                col(production::ROW),
                col(AT),
                group_code(),
                col(PERIOD),
                col(super::change_failure::FAILED),
            ]),
            commits: deployed.clone(),
        };
    }
    FigureInput::Pairs {
        deployments: completed.select([
            col(d::ID),
            group_code(),
            col(PERIOD),
            col(super::change_failure::FAILED),
        ]),
        pairs: pairs(tables, production, mapped, true).filter(in_window).select([
            group_code(),
            col(PERIOD),
            hours(col(AT), col(COMMITTED)).alias(HOURS),
            col(d::ID),
            col(AI),
        ]),
    }
}

/// Every deployed commit by the store's derived columns: its deployment's row
/// (`deployment_row`), its commit time (`committed_us`, null when not in `commits`) and flag
/// (`ai_assisted`). What [`figure_input`] reads by row, and the feedback loop's fix-only check
/// counts: cached once, it is read from Parquet once.
pub fn deployed_by_row(tables: &Tables) -> LazyFrame {
    tables.deployment_commits.clone().select([
        col(crate::table::schema::DERIVED_DEPLOYMENT_ROW).cast(DataType::UInt32),
        micros(crate::table::schema::DERIVED_COMMITTED_AT).alias(COMMITTED),
        ai_flag(&tables.deployment_commits),
    ])
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

/// Calls `each(bucket, hours, flag, deployment row)` for every deployed commit of the window,
/// `flag` None without `flags`. Generic rather than `dyn`, and without the flag column when
/// `flags` is None: it runs once per linked commit, 20M times on a large store.
fn each_deployed_commit(
    rows: &UInt32Chunked,
    committed: &Int64Chunked,
    flags: Option<&BooleanChunked>,
    deployment: &[(u32, i64)],
    mut each: impl FnMut(usize, f64, Option<bool>, usize),
) {
    let mut one = |row: Option<u32>, committed: Option<i64>, flag: Option<bool>| {
        let (Some(row), Some(committed)) = (row, committed) else {
            return;
        };
        if let Some(&(bucket, at)) = deployment.get(row as usize)
            && bucket != u32::MAX
        {
            // As `hours` computes it in Polars, which divides by a scalar by multiplying with its
            // reciprocal: the same figures to the last bit.
            let hours = at.wrapping_sub(committed) as f64 * (1.0 / MICROS_PER_HOUR as f64);
            each(bucket as usize, hours, flag, row as usize);
        }
    };
    match flags {
        Some(flags) => {
            for ((row, committed), flag) in rows.iter().zip(committed.iter()).zip(flags.iter()) {
                one(row, committed, flag);
            }
        }
        None => {
            for (row, committed) in rows.iter().zip(committed.iter()) {
                one(row, committed, None);
            }
        }
    }
}

/// Counts and quantiles of the window's lead times at the wanted levels, from the collected
/// [`figure_input`]; the batch sizes of its deployments (the commits each shipped: its pairs);
/// and, when any deployed commit has an AI flag, the AI-assisted split ([`super::ai_assisted`]).
/// `periods`: the number of periods (1 without periods, whose period is null).
pub fn summarize(
    input: &FigureInput<DataFrame>,
    groups: &GroupIndex,
    periods: usize,
    levels: quantiles::Levels,
) -> Result<(Summaries, BatchSummaries, Option<AiSummaries>)> {
    let ctx = || "failed to compute lead time".to_string();
    let n_buckets = groups.len * periods;
    let flags_of =
        |frame: &DataFrame| -> Result<BooleanChunked> { frame.column(AI).and_then(|c| c.bool().cloned()).context(ctx) };
    // Each window deployment's bucket and the commits it shipped.
    let mut shipped: Vec<(usize, u32)> = Vec::new();
    let mut split = None;
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
            let failed = deployments
                .column(super::change_failure::FAILED)
                .and_then(|c| c.bool().cloned())
                .context(ctx)?;
            let size = rows.max().map_or(0, |m| m as usize + 1);
            let mut deployment = vec![(u32::MAX, 0i64); size];
            let mut failed_row = vec![false; size];
            for ((((row, at), code), period), failed) in rows
                .iter()
                .zip(at.iter())
                .zip(codes.iter())
                .zip(period.iter())
                .zip(failed.iter())
            {
                if let (Some(row), Some(at), Some(bucket)) = (row, at, bucket_of(groups, periods, code, period)) {
                    deployment[row as usize] = (u32::try_from(bucket).unwrap_or(u32::MAX), at);
                    failed_row[row as usize] = failed.unwrap_or(false);
                }
            }
            let rows = commits
                .column(crate::table::schema::DERIVED_DEPLOYMENT_ROW)
                .and_then(|c| c.u32().cloned())
                .context(ctx)?;
            let committed = commits.column(COMMITTED).and_then(|c| c.i64().cloned()).context(ctx)?;
            let flags = flags_of(commits)?;
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
            let flags = (flags.null_count() < flags.len()).then_some(&flags);
            let visit = |each: &mut dyn FnMut(usize, f64, Option<bool>, usize)| {
                each_deployed_commit(&rows, &committed, flags, &deployment, each);
            };
            if flags.is_some() {
                let mut counts = vec![ai_assisted::Counts::default(); n_buckets];
                let mut what = vec![ai_assisted::Shipped::default(); size];
                visit(&mut |_, _, flag, row| what[row].add(flag));
                for (row, &(bucket, _)) in deployment.iter().enumerate() {
                    if let (Some(side), Some(c)) = (what[row].side(), counts.get_mut(bucket as usize)) {
                        c.deployments[side] += 1;
                        c.failed[side] += u64::from(failed_row[row]);
                    }
                }
                split = Some(ai_assisted::Split::of(counts, groups.len, periods, |each| {
                    visit(&mut |bucket, hours, flag, _| each(bucket, hours, flag));
                }));
            }
            Buckets::build(groups.len, periods, |place| {
                each_deployed_commit(&rows, &committed, None, &deployment, |bucket, hours, _, _| {
                    place(bucket, hours);
                });
            })
        }
        FigureInput::Pairs { deployments, pairs } => {
            let ids = pairs.column(d::ID).and_then(|c| c.str().cloned()).context(ctx)?;
            let flags = flags_of(pairs)?;
            let mut per_id: std::collections::HashMap<&str, (u32, ai_assisted::Shipped)> =
                std::collections::HashMap::new();
            for (id, flag) in ids.iter().zip(flags.iter()) {
                if let Some(id) = id {
                    let entry = per_id.entry(id).or_default();
                    entry.0 += 1;
                    entry.1.add(flag);
                }
            }
            let window_ids = deployments.column(d::ID).and_then(|c| c.str().cloned()).context(ctx)?;
            let window_codes = deployments
                .column(GROUP_CODE)
                .and_then(|c| c.u32().cloned())
                .context(ctx)?;
            let window_periods = deployments.column(PERIOD).and_then(|c| c.i64().cloned()).context(ctx)?;
            let window_failed = deployments
                .column(super::change_failure::FAILED)
                .and_then(|c| c.bool().cloned())
                .context(ctx)?;
            let codes = pairs.column(GROUP_CODE).and_then(|c| c.u32().cloned()).context(ctx)?;
            let period = pairs.column(PERIOD).and_then(|c| c.i64().cloned()).context(ctx)?;
            let hours = pairs.column(HOURS).and_then(|c| c.f64().cloned()).context(ctx)?;
            let with_ai = flags.null_count() < flags.len();
            let mut counts = vec![ai_assisted::Counts::default(); if with_ai { n_buckets } else { 0 }];
            for (((id, code), period), failed) in window_ids
                .iter()
                .zip(window_codes.iter())
                .zip(window_periods.iter())
                .zip(window_failed.iter())
            {
                if let (Some(id), Some(bucket)) = (id, bucket_of(groups, periods, code, period)) {
                    let (n, what) = per_id.get(id).copied().unwrap_or_default();
                    shipped.push((bucket, n));
                    if let (Some(side), Some(c)) = (what.side(), counts.get_mut(bucket)) {
                        c.deployments[side] += 1;
                        c.failed[side] += u64::from(failed.unwrap_or(false));
                    }
                }
            }
            let visit = |each: &mut dyn FnMut(usize, f64, Option<bool>)| {
                for (((code, period), hours), flag) in
                    codes.iter().zip(period.iter()).zip(hours.iter()).zip(flags.iter())
                {
                    if let (Some(hours), Some(bucket)) = (hours, bucket_of(groups, periods, code, period)) {
                        each(bucket, hours, flag);
                    }
                }
            };
            if with_ai {
                split = Some(ai_assisted::Split::of(counts, groups.len, periods, visit));
            }
            Buckets::build(groups.len, periods, |place| {
                visit(&mut |bucket, hours, _| place(bucket, hours));
            })
        }
    };
    let batches = super::batch_size::summarize(&shipped, groups.len, periods, levels);
    let ai = split.map(|split| ai_assisted::summarize(split, groups.len, periods, &QUANTILES, levels));
    Ok((buckets.summarize(&QUANTILES, levels), batches, ai))
}

/// The window's pairs with their lead time in hours (negative ones kept, to be counted).
pub fn facts(pairs: LazyFrame) -> LazyFrame {
    pairs.with_column(hours(col(AT), col(COMMITTED)).alias(HOURS))
}
