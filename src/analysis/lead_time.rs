//! Lead time for changes: from a commit to the production deployment that first shipped it.
//!
//! The commits of a deployment come from `deployment_commits` when that table has rows;
//! otherwise they are the commits of the same repository committed in
//! (previous production deployment, this deployment], found with an as-of join.

use polars::prelude::*;

use super::{AT, COMMITTED, GROUP, PERIOD, asof, hours, micros};
use crate::collect::Tables;
use crate::schema::{commits as c, deployment_commits as dc, deployments as d};

pub const HOURS: &str = "lead_time_hours";

/// The repository of a deployed commit, while it is compared with the deployment's.
const COMMIT_REPO: &str = "commit_repo";

/// One row per (production deployment, commit) with the deployment's columns and `committed`.
/// `with_period`: `production` has the period column, and the pairs carry it (each deployment's
/// period is found once, not once per deployed commit: a single-core pass over 20M rows).
pub fn pairs(tables: &Tables, production: &LazyFrame, mapped: bool, with_period: bool) -> LazyFrame {
    let mut columns = vec![col(d::ID), col(d::REPO), col(AT), col(GROUP)];
    if with_period {
        columns.push(col(PERIOD));
    }
    let deployments = production.clone().select(columns);
    // The store writes each deployed commit's time next to it (docs/store.md): no join with
    // `commits` on the sha is needed. A CSV folder (`--input`) has no such column.
    let resolved = mapped
        && tables
            .deployment_commits
            .clone()
            .collect_schema()
            .is_ok_and(|s| s.contains(crate::store::DERIVED_COMMITTED_AT));
    if resolved {
        return tables
            .deployment_commits
            .clone()
            .filter(col(crate::store::DERIVED_COMMITTED_AT).is_not_null())
            .select([
                col(dc::DEPLOYMENT_ID).alias(d::ID),
                col(dc::SHA),
                micros(crate::store::DERIVED_COMMITTED_AT).alias(COMMITTED),
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

/// The window's pairs with their lead time in hours (negative ones kept, to be counted).
pub fn facts(pairs: LazyFrame) -> LazyFrame {
    pairs.with_column(hours(col(AT), col(COMMITTED)).alias(HOURS))
}

/// The facts whose lead time counts: non-negative ones (a commit dated after its deployment is
/// a clock or data error, counted apart by [`negative_aggregations`]). Filtering rows, rather than
/// filtering inside each aggregation, leaves a column without nulls, whose quantiles Polars
/// finds by selection instead of sorting.
pub fn valid(facts: LazyFrame) -> LazyFrame {
    // One chunk, too: over a column in many chunks (as a filter or join leaves it) Polars sorts
    // for each quantile of the whole window, most of `dora metrics` at 20M commits (perf).
    facts
        .filter(col(HOURS).gt_eq(lit(0.0)))
        .with_column(col(HOURS).rechunk())
}

/// Count, median, p75, p90 of the [`valid`] lead times.
pub fn aggregations() -> Vec<Expr> {
    vec![
        len().cast(DataType::Int64).alias("lt_count"),
        col(HOURS).quantile(lit(0.5), QuantileMethod::Linear).alias("lt_median"),
        col(HOURS).quantile(lit(0.75), QuantileMethod::Linear).alias("lt_p75"),
        col(HOURS).quantile(lit(0.9), QuantileMethod::Linear).alias("lt_p90"),
    ]
}

/// The facts with a negative lead time.
pub fn negative(facts: LazyFrame) -> LazyFrame {
    facts.filter(col(HOURS).lt(lit(0.0)))
}

/// How many [`negative`] lead times.
pub fn negative_aggregations() -> Vec<Expr> {
    vec![len().cast(DataType::Int64).alias("lt_negative")]
}
