//! The lead time breakdown by pull request: where the time between a first commit and
//! production goes.
//!
//! For each pull request merged in the window: coding (first commit -> opened), pickup (opened
//! -> first review by someone other than the author), review (first review -> merged), deploy
//! (merged -> the first production deployment that shipped its merge commit). Each stage is
//! the median over the pull requests that have both ends; a negative stage (a commit dated
//! after the pull request was opened, say) is left out. And their size, DORA 2025's lines per
//! change: additions + deletions, where the source gives both.
//!
//! A pull request is AI-assisted when its own flag says so (a label from `[ai] labels` or
//! `--ai-label` sets it on import and collection) or its merge commit is AI-assisted: a squash
//! merge's message carries the `Co-authored-by` trailers of the commits it squashed. Its flag
//! is known when either is.

use polars::prelude::*;

use super::{AT, COMMITTED, Window, hours, lead_time, micros};
use crate::analysis::figures::{AiPullRequests, Breakdown, Stage};
use crate::error::{PolarsContext, Result};
use crate::table::Tables;
use crate::table::schema::{commits as c, deployments as d, pull_requests as pr};

/// `None` when no pull request was merged in the window.
/// Lines changed by a pull request: additions + deletions.
const LINES: &str = "lines";
/// The merge commit's AI flag, beside the pull request's own.
const MERGE_AI: &str = "merge_ai_assisted";

pub fn breakdown(tables: &Tables, production: &LazyFrame, mapped: bool, window: Window) -> Result<Option<Breakdown>> {
    // Without pull requests, skip the join to every deployed commit (the costly part).
    if !super::has_rows(&tables.pull_requests, "pull requests")? {
        return Ok(None);
    }
    // The first production deployment of each (repo, commit), over all history.
    let shipped = lead_time::pairs(tables, production, mapped, false)
        .group_by([col(d::REPO), col(c::SHA)])
        .agg([col(AT).min().alias(AT)])
        .select([col(d::REPO), col(c::SHA).alias("merge_sha_key"), col(AT)]);
    let merge_flags = tables
        .commits
        .clone()
        .select([
            col(c::REPO).alias("flag_repo"),
            col(c::SHA).alias("flag_sha"),
            lead_time::ai_flag(&tables.commits).alias(MERGE_AI),
        ])
        .filter(col(MERGE_AI).is_not_null());
    let merged = micros(pr::MERGED_AT);
    let prs = tables
        .pull_requests
        .clone()
        .filter(
            merged
                .clone()
                .gt_eq(lit(window.since))
                .and(merged.lt(lit(window.until))),
        )
        .select([
            col(pr::REPO),
            col(pr::MERGE_SHA),
            micros(pr::FIRST_COMMIT_AT).alias(COMMITTED),
            micros(pr::CREATED_AT).alias("opened"),
            micros(pr::FIRST_REVIEW_AT).alias("reviewed"),
            micros(pr::MERGED_AT).alias("merged"),
            (col(pr::ADDITIONS).cast(DataType::Int64) + col(pr::DELETIONS).cast(DataType::Int64)).alias(LINES),
            own_flag(&tables.pull_requests),
        ])
        .join(
            merge_flags,
            [col(pr::REPO), col(pr::MERGE_SHA)],
            [col("flag_repo"), col("flag_sha")],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            shipped,
            [col(pr::REPO), col(pr::MERGE_SHA)],
            [col(d::REPO), col("merge_sha_key")],
            JoinArgs::new(JoinType::Left),
        );
    let stage = |later: &str, earlier: &str, name: &str| {
        let h = hours(col(later), col(earlier));
        let valid = h.clone().filter(h.gt_eq(lit(0.0)));
        [
            valid
                .clone()
                .count()
                .cast(DataType::Int64)
                .alias(format!("{name}_count")),
            valid
                .quantile(lit(0.5), QuantileMethod::Linear)
                .alias(format!("{name}_median")),
        ]
    };
    let mut aggs = vec![len().cast(DataType::Int64).alias("pull_requests")];
    aggs.extend(stage("opened", COMMITTED, "coding"));
    aggs.extend(stage("reviewed", "opened", "pickup"));
    aggs.extend(stage("merged", "reviewed", "review"));
    aggs.extend(stage(AT, "merged", "deploy"));
    aggs.extend(super::lines_per_change::aggregates(&col(LINES)));
    let (own, merge) = (col(pr::AI_ASSISTED), col(MERGE_AI));
    aggs.push(
        own.clone()
            .is_not_null()
            .or(merge.clone().is_not_null())
            .sum()
            .cast(DataType::Int64)
            .alias("ai_read"),
    );
    aggs.push(
        own.fill_null(lit(false))
            .or(merge.fill_null(lit(false)))
            .sum()
            .cast(DataType::Int64)
            .alias("ai_assisted"),
    );
    let frame = prs
        .select(aggs)
        .collect()
        .context(|| "failed to compute the pull request breakdown".into())?;
    let value = |name: &str| frame.column(name).ok().and_then(|c| c.get(0).ok());
    let count = |name: &str| value(name).and_then(|v| v.extract::<u64>()).unwrap_or(0);
    let median = |name: &str| value(name).and_then(|v| v.extract::<f64>());
    let n = count("pull_requests");
    if n == 0 {
        return Ok(None);
    }
    let stage = |name: &str| Stage {
        count: count(&format!("{name}_count")),
        median: median(&format!("{name}_median")),
    };
    Ok(Some(Breakdown {
        pull_requests: n,
        coding: stage("coding"),
        pickup: stage("pickup"),
        review: stage("review"),
        deploy: stage("deploy"),
        lines_per_change: super::lines_per_change::from_row(&frame),
        ai_assisted: AiPullRequests::of(n, count("ai_read"), count("ai_assisted")),
    }))
}

/// The pull requests' own AI flag, or null where the table has none (a store written before
/// the column).
fn own_flag(pulls: &LazyFrame) -> Expr {
    if pulls
        .clone()
        .collect_schema()
        .is_ok_and(|s| s.contains(pr::AI_ASSISTED))
    {
        col(pr::AI_ASSISTED)
    } else {
        super::null_of(DataType::Boolean).alias(pr::AI_ASSISTED)
    }
}
