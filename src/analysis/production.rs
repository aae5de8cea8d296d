//! Production deployments: the rows every metric starts from.
//!
//! A production deployment has the requested environment (any case) and reached users: status
//! `success` or `rolled_back` (completed: it reached every user), or `aborted` (a rollout
//! stopped part-way: it reached some). "Previous" and "next" are the completed deployments
//! before and after a completed one, within the same repository, ordered by `deployed_at`, then
//! `id`, over all of history (not only the window), because attribution of an incident and the
//! commits of the window's first deployment depend on deployments before it. An aborted
//! deployment ships no commit and owns no interval: it has neither.
//! Each keeps its position in the `deployments` table ([`ROW`]), which the store's
//! `deployment_commits` refers to.

use polars::prelude::*;

use super::{AT, NEXT_AT, PREV_AT, micros, null_of};
use crate::error::{PolarsContext, Result};
use crate::table::schema::{deployments as d, status};

/// The position of a deployment's row in the `deployments` table (0-based).
pub const ROW: &str = crate::table::schema::DERIVED_DEPLOYMENT_ROW;

/// Whether the deployment completed (reached every user): not `aborted`.
pub const COMPLETED: &str = "completed";
/// When the rollout first reached users (UTC microseconds), where known.
pub const STARTED: &str = "started_us";

pub fn production(deployments: LazyFrame, environment: &str) -> Result<LazyFrame> {
    let same_repo = |n: i64| col(d::REPO).shift(lit(n)).eq(col(d::REPO)).fill_null(lit(false));
    let neighbour = |n: i64| {
        when(same_repo(n))
            .then(col(AT).shift(lit(n)))
            .otherwise(null_of(DataType::Int64))
    };
    let all = deployments
        .with_row_index(ROW, None)
        .filter(
            col(d::ENVIRONMENT)
                .str()
                .to_lowercase()
                .eq(lit(environment.to_lowercase()))
                .and(col(d::STATUS).neq(lit(status::FAILURE))),
        )
        .select([
            col(d::ID),
            col(d::REPO),
            micros(d::DEPLOYED_AT).alias(AT),
            col(d::STATUS),
            col(d::KIND),
            col(d::SERVICE),
            col(d::TEAM),
            col(d::URL),
            col(ROW),
            micros(d::STARTED_AT).alias(STARTED),
            col(d::EXPOSURE),
            col(d::STATUS).neq(lit(status::ABORTED)).alias(COMPLETED),
        ]);
    let order = || SortMultipleOptions::default().with_maintain_order(true);
    let completed = all
        .clone()
        .filter(col(COMPLETED))
        .sort([d::REPO, AT, d::ID], order())
        .with_columns([neighbour(1).alias(PREV_AT), neighbour(-1).alias(NEXT_AT)]);
    let aborted = all.filter(col(COMPLETED).not()).with_columns([
        null_of(DataType::Int64).alias(PREV_AT),
        null_of(DataType::Int64).alias(NEXT_AT),
    ]);
    Ok(concat([completed, aborted], UnionArgs::default())
        .context(|| "failed to plan the production deployments".into())?
        .sort([d::REPO, AT, d::ID], order()))
}
