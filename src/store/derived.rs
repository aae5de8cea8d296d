//! The two columns a snapshot adds to `deployment_commits` (docs/store.md): each deployed
//! commit's commit time and its deployment's row. They spare lead time a join on the
//! 40-character sha and one on the text id of every deployed commit at every analysis.
//!
//! Both are found here by hash lookups written for the purpose rather than by two Polars joins
//! per partition: Polars rebuilt the deployments' hash table for every partition and encoded the
//! (repository, sha) pair into a row key for each of millions of rows; at 10M commits those
//! joins were a quarter of the merge phase of an import (perf).

use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::schema::{commits as c, deployment_commits as dc, deployments as d};

/// The name of the column the store adds to `deployment_commits`: the commit time of each
/// deployed commit, looked up once when the snapshot is written (docs/store.md).
pub const DERIVED_COMMITTED_AT: &str = "committed_at";

/// The name of the second derived column of `deployment_commits`: the 0-based position of the
/// deployment's row in the snapshot's `deployments.parquet` (null when there is no such
/// deployment). Lead time then finds each deployed commit's deployment by position instead of
/// joining 20M rows on the text id (docs/store.md).
pub const DERIVED_DEPLOYMENT_ROW: &str = "deployment_row";

/// Deployments by id: their row in the table as the snapshot writes it, and their repository.
/// Built once per import, for every partition.
pub struct DeploymentIndex<'a> {
    by_id: PlHashMap<&'a str, (u32, Option<&'a str>)>,
}

impl<'a> DeploymentIndex<'a> {
    pub fn new(deployments: &'a DataFrame) -> Result<Self> {
        let ctx = || "failed to index the deployments".to_string();
        let ids = deployments.column(d::ID).and_then(|s| s.str()).context(ctx)?;
        let repos = deployments.column(d::REPO).and_then(|s| s.str()).context(ctx)?;
        let mut by_id = PlHashMap::with_capacity(ids.len());
        for (row, (id, repo)) in ids.iter().zip(repos.iter()).enumerate() {
            if let Some(id) = id {
                // Ids are unique (the table's key); the first stands, as a join's would.
                by_id.entry(id).or_insert((row as u32, repo));
            }
        }
        Ok(DeploymentIndex { by_id })
    }
}

/// `deployment_commits` (canonical columns) with the derived columns: `committed_at`, the time
/// of the commit `sha` in the deployment's repository (null when `commits` has no such commit),
/// and `deployment_row` (null when there is no such deployment). `commits` holds (at least)
/// the commits of the same shas: one partition of each table. Rows keep their order.
pub fn with_derived_columns(pairs: &DataFrame, deployments: &DeploymentIndex, commits: &DataFrame) -> Result<DataFrame> {
    let ctx = || "failed to derive the columns of deployment_commits".to_string();
    let commit_repos = commits.column(c::REPO).and_then(|s| s.str()).context(ctx)?;
    let commit_shas = commits.column(c::SHA).and_then(|s| s.str()).context(ctx)?;
    let commit_times = commits.column(c::COMMITTED_AT).context(ctx)?;
    let time_type = commit_times.dtype().clone();
    let commit_times = commit_times
        .as_materialized_series()
        .to_physical_repr()
        .i64()
        .context(ctx)?
        .clone();

    // (repository, sha) -> commit time; keys are unique (the table's key).
    let mut times: PlHashMap<(&str, &str), Option<i64>> = PlHashMap::with_capacity(commit_shas.len());
    for ((repo, sha), time) in commit_repos.iter().zip(commit_shas.iter()).zip(commit_times.iter()) {
        if let (Some(repo), Some(sha)) = (repo, sha) {
            times.entry((repo, sha)).or_insert(time);
        }
    }

    let ids = pairs.column(dc::DEPLOYMENT_ID).and_then(|s| s.str()).context(ctx)?;
    let shas = pairs.column(dc::SHA).and_then(|s| s.str()).context(ctx)?;
    let mut rows: Vec<Option<u32>> = Vec::with_capacity(pairs.height());
    let mut committed: Vec<Option<i64>> = Vec::with_capacity(pairs.height());
    for (id, sha) in ids.iter().zip(shas.iter()) {
        let deployment = id.and_then(|id| deployments.by_id.get(id));
        rows.push(deployment.map(|(row, _)| *row));
        let time = match (deployment.and_then(|(_, repo)| *repo), sha) {
            (Some(repo), Some(sha)) => times.get(&(repo, sha)).copied().flatten(),
            _ => None,
        };
        committed.push(time);
    }

    let committed = Int64Chunked::from_iter_options(PlSmallStr::from_static(DERIVED_COMMITTED_AT), committed.into_iter())
        .into_series()
        .cast(&time_type)
        .context(ctx)?;
    let rows = UInt32Chunked::from_iter_options(PlSmallStr::from_static(DERIVED_DEPLOYMENT_ROW), rows.into_iter());
    let height = pairs.height();
    DataFrame::new(
        height,
        vec![
            pairs.column(dc::DEPLOYMENT_ID).context(ctx)?.clone(),
            pairs.column(dc::SHA).context(ctx)?.clone(),
            committed.into_column(),
            rows.into_series().into_column(),
        ],
    )
    .context(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookups give what the two left joins they replace gave.
    #[test]
    fn same_as_the_joins() {
        let deployments = df!(
            d::ID => ["d1", "d2", "d3"],
            d::REPO => ["a", "b", "a"],
        )
        .unwrap();
        let commits = df!(
            c::REPO => ["a", "b", "a", "b"],
            c::SHA => ["s1", "s1", "s2", "s3"],
            c::COMMITTED_AT => [Some(10i64), Some(20), None, Some(40)],
        )
        .unwrap()
        .lazy()
        .with_column(col(c::COMMITTED_AT).cast(DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))))
        .collect()
        .unwrap();
        let pairs = df!(
            dc::DEPLOYMENT_ID => ["d1", "d2", "d3", "d9", "d2", "d1"],
            dc::SHA => ["s1", "s1", "s2", "s1", "s3", "s3"],
        )
        .unwrap();
        let index = DeploymentIndex::new(&deployments).unwrap();
        let got = with_derived_columns(&pairs, &index, &commits).unwrap();

        let expected = pairs
            .lazy()
            .join(
                deployments
                    .clone()
                    .lazy()
                    .with_row_index(DERIVED_DEPLOYMENT_ROW, None)
                    .select([col(d::ID), col(d::REPO), col(DERIVED_DEPLOYMENT_ROW)]),
                [col(dc::DEPLOYMENT_ID)],
                [col(d::ID)],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                commits.clone().lazy().select([
                    col(c::REPO),
                    col(c::SHA),
                    col(c::COMMITTED_AT).alias(DERIVED_COMMITTED_AT),
                ]),
                [col(d::REPO), col(dc::SHA)],
                [col(c::REPO), col(c::SHA)],
                JoinArgs::new(JoinType::Left),
            )
            .select([
                col(dc::DEPLOYMENT_ID),
                col(dc::SHA),
                col(DERIVED_COMMITTED_AT),
                col(DERIVED_DEPLOYMENT_ROW).cast(DataType::UInt32),
            ])
            .collect()
            .unwrap();
        assert!(got.equals_missing(&expected), "{got}\n{expected}");
        let times: Vec<Option<i64>> = got
            .column(DERIVED_COMMITTED_AT)
            .unwrap()
            .as_materialized_series()
            .to_physical_repr()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(times, [Some(10), Some(20), None, None, Some(40), None]);
    }
}
