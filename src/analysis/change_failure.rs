//! Which production deployments failed, which incidents they caused, and when they recovered.
//!
//! A deployment failed when its status is `rolled_back` or `aborted` (a rollout caught it), or
//! an incident names it as the cause, or an incident of the same repository without a named
//! cause was created in `[deployed_at, next deployed_at)` of the repository's completed
//! production deployments (an aborted one owns no interval: the completed one before it runs
//! on to the next completed one). Incidents before the first deployment, or naming a deployment
//! that is not a production one, stay unattributed.

use polars::prelude::*;

use super::production::{COMPLETED, STARTED};
use super::{AT, ATTRIBUTED, CREATED, INCIDENT, NEXT_AT, RESOLVED, RULE, asof, hours, micros, null_of};
use crate::error::{PolarsContext, Result};
use crate::table::schema::{deployments as d, incidents as i, status};

pub const FAILED: &str = "failed";
pub const RECOVERY_HOURS: &str = "recovery_hours";
pub const RECOVERY_OPEN: &str = "recovery_open";
/// An aborted deployment without `started_at`: its recovery time is unknown.
pub const RECOVERY_UNKNOWN: &str = "recovery_unknown";

/// Each incident with the production deployment it is attributed to (null when none) and why:
/// `named` (its `deployment_id`) or `time` (created while that deployment was the latest).
pub fn attribution(incidents: LazyFrame, production: &LazyFrame) -> Result<LazyFrame> {
    let incidents = incidents.select([
        col(i::ID).alias(INCIDENT),
        col(i::REPO),
        micros(i::CREATED_AT).alias(CREATED),
        micros(i::RESOLVED_AT).alias(RESOLVED),
        col(i::DEPLOYMENT_ID),
    ]);
    let named = incidents
        .clone()
        .filter(col(i::DEPLOYMENT_ID).is_not_null())
        .join(
            production.clone().select([col(d::ID)]),
            [col(i::DEPLOYMENT_ID)],
            [col(d::ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            col(INCIDENT),
            col(i::DEPLOYMENT_ID).alias(ATTRIBUTED),
            lit("named").alias(RULE),
        ]);
    // Deployments at the same instant as the next one own an empty interval and can never be
    // blamed; leaving them out makes the as-of keys unique per repository.
    let candidates = production
        .clone()
        .filter(col(COMPLETED).and(col(NEXT_AT).is_null().or(col(NEXT_AT).neq(col(AT)))))
        .select([col(d::REPO), col(AT), col(d::ID).alias(ATTRIBUTED), col(NEXT_AT)])
        .sort([AT], SortMultipleOptions::default());
    let timed = asof(
        incidents
            .clone()
            .filter(col(i::DEPLOYMENT_ID).is_null())
            .sort([CREATED], SortMultipleOptions::default()),
        candidates,
        CREATED,
        AT,
        i::REPO,
        AsofStrategy::Backward,
    )
    .filter(
        col(ATTRIBUTED)
            .is_not_null()
            .and(col(NEXT_AT).is_null().or(col(CREATED).lt(col(NEXT_AT)))),
    )
    .select([col(INCIDENT), col(ATTRIBUTED), lit("time").alias(RULE)]);
    let attributed =
        concat([named, timed], UnionArgs::default()).context(|| "failed to plan incident attribution".into())?;
    Ok(incidents.join(
        attributed,
        [col(INCIDENT)],
        [col(INCIDENT)],
        JoinArgs::new(JoinType::Left),
    ))
}

/// The window's production deployments with `failed` and recovery columns added.
///
/// Recovery: the latest `resolved_at` of the incidents attributed to the deployment (open while
/// any is unresolved); a rollback without incidents recovers at the repository's next completed
/// production deployment (open while there is none). An aborted rollout recovers when it is
/// stopped: `deployed_at - started_at`, never open, unknown without `started_at`.
pub fn with_failures(window_deployments: LazyFrame, attribution: &LazyFrame) -> LazyFrame {
    let per_deployment = attribution
        .clone()
        .filter(col(ATTRIBUTED).is_not_null())
        .group_by([col(ATTRIBUTED)])
        .agg([
            len().cast(DataType::Int64).alias("incidents"),
            col(RESOLVED).is_null().sum().cast(DataType::Int64).alias("unresolved"),
            col(RESOLVED).max().alias("last_resolved"),
        ]);
    let has_incident = col("incidents").fill_null(lit(0)).gt(lit(0));
    let recovered = when(has_incident.clone())
        .then(
            when(col("unresolved").gt(lit(0)))
                .then(null_of(DataType::Int64))
                .otherwise(col("last_resolved")),
        )
        .otherwise(col(NEXT_AT));
    window_deployments
        .join(
            per_deployment,
            [col(d::ID)],
            [col(ATTRIBUTED)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(
            col(d::STATUS)
                .eq(lit(status::ROLLED_BACK))
                .or(col(COMPLETED).not())
                .or(has_incident)
                .alias(FAILED),
        )
        .with_column(recovered.alias("recovered"))
        .with_columns([
            when(col(COMPLETED).not())
                .then(hours(col(AT), col(STARTED)))
                .when(col(FAILED))
                .then(hours(col("recovered"), col(AT)))
                .otherwise(null_of(DataType::Float64))
                .alias(RECOVERY_HOURS),
            col(FAILED)
                .and(col(COMPLETED))
                .and(col("recovered").is_null())
                .alias(RECOVERY_OPEN),
            col(COMPLETED).not().and(col(STARTED).is_null()).alias(RECOVERY_UNKNOWN),
        ])
}
