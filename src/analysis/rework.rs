//! Rework rate (DORA 2024): the share of production deployments that fix rather than add.
//!
//! A deployment is rework when its `kind` says so (hotfix or rollback). When `kind` is empty,
//! it is rework when it was deployed while a resolved incident of the same repository was open
//! (`created_at <= deployed_at < resolved_at`), or when it is fix-only (DORA 2025: "deployments
//! not planned but performed to address a user-facing bug"): it shipped at least one commit
//! and every commit it shipped is linked to a `bug` issue of its repository
//! ([`super::issues::fix_only`]). Unresolved incidents mark nothing.

use polars::prelude::*;

use super::{AT, CREATED, RESOLVED, asof, micros};
use crate::error::{PolarsContext, Result};
use crate::table::schema::{deployments as d, incidents as i, kind};

pub const REWORK: &str = "rework";
/// Whether every commit the deployment shipped fixes a bug.
pub const FIX_ONLY: &str = "fix_only";
const COVERED_UNTIL: &str = "covered_until";

/// Adds `rework` to the window's production deployments.
/// `fix_only`: the ids of the fix-only deployments (with [`FIX_ONLY`]), when there are issues.
pub fn with_rework(
    window_deployments: LazyFrame,
    incidents: LazyFrame,
    fix_only: Option<LazyFrame>,
) -> Result<LazyFrame> {
    // For each repository and incident start, the latest end of any incident started at or
    // before it: a deployment is inside some incident exactly when the running maximum of the
    // last incident started at or before it reaches past it.
    let running_end = col(RESOLVED)
        .cum_max(false)
        .over([col(i::REPO)])
        .context(|| "failed to plan the rework rate".into())?;
    let coverage = incidents
        .select([
            col(i::REPO),
            micros(i::CREATED_AT).alias(CREATED),
            micros(i::RESOLVED_AT).alias(RESOLVED),
        ])
        .filter(col(RESOLVED).is_not_null())
        .group_by([col(i::REPO), col(CREATED)])
        .agg([col(RESOLVED).max()])
        .sort([i::REPO, CREATED], SortMultipleOptions::default())
        .with_column(running_end.alias(COVERED_UNTIL))
        .select([col(i::REPO), col(CREATED), col(COVERED_UNTIL)])
        .sort([CREATED], SortMultipleOptions::default());
    let stated = col(d::KIND).is_not_null().and(col(d::KIND).neq(lit("")));
    let by_kind = col(d::KIND)
        .eq(lit(kind::HOTFIX))
        .or(col(d::KIND).eq(lit(kind::ROLLBACK)));
    let window_deployments = match fix_only {
        Some(ids) => window_deployments
            .join(ids, [col(d::ID)], [col(d::ID)], JoinArgs::new(JoinType::Left))
            .with_column(col(FIX_ONLY).fill_null(lit(false))),
        None => window_deployments.with_column(lit(false).alias(FIX_ONLY)),
    };
    Ok(asof(
        window_deployments.sort([AT], SortMultipleOptions::default()),
        coverage,
        AT,
        CREATED,
        d::REPO,
        AsofStrategy::Backward,
    )
    .with_column(
        when(stated)
            .then(by_kind)
            .otherwise(col(COVERED_UNTIL).gt(col(AT)).fill_null(lit(false)).or(col(FIX_ONLY)))
            .alias(REWORK),
    ))
}
