//! The columns a snapshot adds to `deployment_commits` (docs/store.md): each deployed commit's
//! commit time, its deployment's row, and whether it is AI-assisted. They spare lead time a
//! join on the 40-character sha and one on the text id of every deployed commit at every
//! analysis.
//!
//! Both are found here by hash lookups written for the purpose rather than by two Polars joins
//! per partition: Polars rebuilt the deployments' hash table for every partition and encoded the
//! (repository, sha) pair into a row key for each of millions of rows; at 10M commits those
//! joins were a quarter of the merge phase of an import (perf).

use std::sync::atomic::{AtomicU64, Ordering};

use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::table::keys::fold_hash;
use crate::table::schema::{commits as c, deployment_commits as dc, deployments as d};

pub use crate::table::schema::{DERIVED_AI_ASSISTED, DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROW};

/// Deployments by id: their row in the table as the snapshot writes it, and their repository.
/// Built once per import, for every partition.
pub struct DeploymentIndex<'a> {
    by_id: PlHashMap<&'a str, (u32, Option<&'a str>)>,
    repos: Vec<Option<&'a str>>,
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
        Ok(DeploymentIndex {
            by_id,
            repos: repos.iter().collect(),
        })
    }

    /// The repository of the deployment at `row`.
    pub fn repo_of_row(&self, row: u32) -> Option<&'a str> {
        self.repos.get(row as usize).copied().flatten()
    }
}

/// Ranges of hashes walked in parallel.
const RANGES: usize = 64;

/// Pairs compared exactly per task.
const COMPARED_PER_TASK: usize = 1 << 16;

/// A pair without a commit of the same hash.
const NO_CANDIDATE: u64 = u64::MAX;

/// A deployment as a pair finds it: its row and repository.
type Found<'a> = Option<(u32, Option<&'a str>)>;

/// A text column in one piece, for access by row. Its cells are read where they are: copying
/// them into a vector of `Option<&str>` wrote 24 bytes per row into fresh pages (~5% of
/// `--input` at 2M commits, most of it the kernel's page faults; perf).
pub(super) fn text(frame: &DataFrame, name: &str) -> Result<StringChunked> {
    let column = frame
        .column(name)
        .and_then(|s| s.str())
        .context(|| format!("failed to read column `{name}`"))?;
    Ok(one_piece(column))
}

/// `column` as exactly one chunk (`downcast_as_array` asserts one; Polars' concatenation of
/// none fails).
pub(super) fn one_piece<T: PolarsDataType>(column: &ChunkedArray<T>) -> ChunkedArray<T>
where
    ChunkedArray<T>: ChunkFullNull,
{
    if column.chunks().is_empty() {
        ChunkedArray::<T>::full_null(column.name().clone(), 0)
    } else {
        column.rechunk().into_owned()
    }
}

/// `deployment_commits` (canonical columns) with the derived columns: `committed_at`, the time
/// of the commit `sha` in the deployment's repository (null when `commits` has no such commit),
/// `deployment_row` (null when there is no such deployment), and `ai_assisted`, that commit's
/// flag (null when unknown, or without the commit). `commits` holds (at least)
/// the commits of the same shas: one partition of each table. Rows keep their order.
///
/// Commits are found by a sort-merge on a 64-bit hash of the sha (then the sha and the
/// repository compared exactly): a hash table of 2M text keys missed the cache on nearly every
/// probe (1.1 s per partition of 2M rows on one core, perf); sorted hashes are walked in
/// order, in parallel by ranges of hashes.
pub fn with_derived_columns(
    pairs: &DataFrame,
    deployments: &DeploymentIndex,
    commits: &DataFrame,
) -> Result<DataFrame> {
    let ctx = || "failed to derive the columns of deployment_commits".to_string();
    let (commit_repos, commit_sha_column) = (text(commits, c::REPO)?, text(commits, c::SHA)?);
    let (commit_repos, commit_shas) = (commit_repos.downcast_as_array(), commit_sha_column.downcast_as_array());
    let commit_times = commits.column(c::COMMITTED_AT).context(ctx)?;
    let time_type = commit_times.dtype().clone();
    let commit_times = one_piece(
        commit_times
            .as_materialized_series()
            .to_physical_repr()
            .i64()
            .context(ctx)?,
    );
    let commit_times = commit_times.downcast_as_array();
    // A frame without the column (commits of a store written before it) knows no flag.
    let commit_flags = commits
        .column(c::AI_ASSISTED)
        .ok()
        .map(|f| f.bool().map(one_piece))
        .transpose()
        .context(ctx)?;
    let commit_flags = commit_flags.as_ref().map(ChunkedArray::downcast_as_array);
    let ids = pairs.column(dc::DEPLOYMENT_ID).and_then(|s| s.str()).context(ctx)?;
    let sha_column = text(pairs, dc::SHA)?;
    let shas = sha_column.downcast_as_array();

    // Each pair's deployment (row, repository). Exports list a deployment's commits together:
    // a run of one id is looked up once.
    let mut found: Vec<Found> = Vec::with_capacity(pairs.height());
    let mut last: Option<(&str, Found)> = None;
    for id in ids.iter() {
        let deployment = match (id, last) {
            (Some(id), Some((last_id, d))) if id == last_id => d,
            (Some(id), _) => {
                let d = deployments.by_id.get(id).copied();
                last = Some((id, d));
                d
            }
            (None, _) => None,
        };
        found.push(deployment);
    }

    let sorted_hashes = |column: &StringChunked| -> Vec<(u64, u32)> {
        let shas = column.downcast_as_array();
        let keyed: Vec<(u64, u32)> = (0..shas.len())
            .into_par_iter()
            .filter_map(|row| shas.get(row).map(|s| (fold_hash(s.as_bytes()), row as u32)))
            .collect();
        crate::slices::sort_by_top_bits(&keyed, |k| k.0)
    };
    let (commit_keys, pair_keys) = rayon::join(|| sorted_hashes(&commit_sha_column), || sorted_hashes(&sha_column));

    // The walk, by ranges of hashes: each pair's first candidate, a commit of the same hash
    // (its row, and where the run of that hash starts among the commit keys). Nothing is
    // compared yet: the walk reads only the sorted keys, whose order is random against the
    // rows, so looking at the text here missed the cache four times per pair (the shas and
    // repositories of both sides; a fifth of `--input` at 2M commits, perf).
    let first: Vec<AtomicU64> = (0..pairs.height()).map(|_| AtomicU64::new(NO_CANDIDATE)).collect();
    (0..RANGES).into_par_iter().for_each(|range| {
        let bound = |r: usize| -> u64 { ((r as u128 * (1u128 << 64)) / RANGES as u128) as u64 };
        let in_range = |keys: &[(u64, u32)]| {
            let start = keys.partition_point(|(h, _)| *h < bound(range));
            let end = if range + 1 == RANGES {
                keys.len()
            } else {
                keys.partition_point(|(h, _)| *h < bound(range + 1))
            };
            start..end
        };
        let pair_range = &pair_keys[in_range(&pair_keys)];
        let commit_span = in_range(&commit_keys);
        let (offset, commit_range) = (commit_span.start, &commit_keys[commit_span]);
        let mut j = 0;
        for &(hash, row) in pair_range {
            while j < commit_range.len() && commit_range[j].0 < hash {
                j += 1;
            }
            if let Some(&(h, commit)) = commit_range.get(j)
                && h == hash
            {
                first[row as usize].store(u64::from(commit) << 32 | (offset + j) as u64, Ordering::Relaxed);
            }
        }
    });

    // The exact comparisons, in the pairs' order: exports list deployed commits in about the
    // order of the commits, so both sides' text is read mostly in sequence.
    let mut committed: Vec<(Option<i64>, Option<bool>)> = vec![(None, None); pairs.height()];
    committed
        .par_chunks_mut(COMPARED_PER_TASK)
        .enumerate()
        .for_each(|(slice, out)| {
            for (i, cell) in out.iter_mut().enumerate() {
                let row = slice * COMPARED_PER_TASK + i;
                let candidate = first[row].load(Ordering::Relaxed);
                if candidate == NO_CANDIDATE {
                    continue;
                }
                let Some((_, Some(repo))) = found[row] else {
                    continue;
                };
                let sha = shas.get(row);
                let same = |c: usize| commit_shas.get(c) == sha && commit_repos.get(c) == Some(repo);
                let likely = (candidate >> 32) as usize;
                let commit = if same(likely) {
                    Some(likely)
                } else {
                    // Another commit of the same hash: the same sha in another repository
                    // (a fork), or a collision of hashes.
                    let start = (candidate & u64::from(u32::MAX)) as usize;
                    let hash = commit_keys[start].0;
                    commit_keys[start + 1..]
                        .iter()
                        .take_while(|(h, _)| *h == hash)
                        .map(|(_, c)| *c as usize)
                        .find(|&c| same(c))
                };
                if let Some(c) = commit {
                    *cell = (commit_times.get(c), commit_flags.and_then(|f| f.get(c)));
                }
            }
        });
    let flags = BooleanChunked::from_iter_options(
        PlSmallStr::from_static(DERIVED_AI_ASSISTED),
        committed.iter().map(|(_, flag)| *flag),
    );
    let committed = Int64Chunked::from_iter_options(
        PlSmallStr::from_static(DERIVED_COMMITTED_AT),
        committed.into_iter().map(|(time, _)| time),
    )
    .into_series()
    .cast(&time_type)
    .context(ctx)?;
    let rows = UInt32Chunked::from_iter_options(
        PlSmallStr::from_static(DERIVED_DEPLOYMENT_ROW),
        found.iter().map(|d| d.map(|(row, _)| row)),
    );
    DataFrame::new(
        pairs.height(),
        vec![
            pairs.column(dc::DEPLOYMENT_ID).context(ctx)?.clone(),
            pairs.column(dc::SHA).context(ctx)?.clone(),
            committed.into_column(),
            rows.into_series().into_column(),
            flags.into_series().into_column(),
        ],
    )
    .context(ctx)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// `committed_at` as the store's timestamps.
    pub(in crate::store) fn utc(frame: DataFrame) -> DataFrame {
        frame
            .lazy()
            .with_column(col(c::COMMITTED_AT).cast(DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))))
            .collect()
            .unwrap()
    }

    /// What the two left joins the lookups replace give.
    fn joined(pairs: &DataFrame, deployments: &DataFrame, commits: &DataFrame) -> DataFrame {
        pairs
            .clone()
            .lazy()
            .with_row_index("order", None)
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
                    col(c::AI_ASSISTED).alias(DERIVED_AI_ASSISTED),
                ]),
                [col(d::REPO), col(dc::SHA)],
                [col(c::REPO), col(c::SHA)],
                JoinArgs::new(JoinType::Left),
            )
            .sort(["order"], SortMultipleOptions::default())
            .select([
                col(dc::DEPLOYMENT_ID),
                col(dc::SHA),
                col(DERIVED_COMMITTED_AT),
                col(DERIVED_DEPLOYMENT_ROW).cast(DataType::UInt32),
                col(DERIVED_AI_ASSISTED),
            ])
            .collect()
            .unwrap()
    }

    #[test]
    fn one_piece_of_none_many_and_one() {
        let none =
            StringChunked::from_chunk_iter(PlSmallStr::EMPTY, Vec::<<StringType as PolarsDataType>::Array>::new());
        assert_eq!(one_piece(&none).chunks().len(), 1);
        let mut many = StringChunked::from_slice(PlSmallStr::EMPTY, &["a", "b"]);
        many.append(&StringChunked::from_slice(PlSmallStr::EMPTY, &["c"]))
            .unwrap();
        let joined = one_piece(&many);
        assert_eq!(joined.chunks().len(), 1);
        assert_eq!(joined.downcast_as_array().get(2), Some("c"));
    }

    #[test]
    fn same_as_the_joins() {
        let deployments = df!(
            d::ID => ["d1", "d2", "d3"],
            d::REPO => ["a", "b", "a"],
        )
        .unwrap();
        let commits = utc(df!(
            c::REPO => ["a", "b", "a", "b"],
            c::SHA => ["s1", "s1", "s2", "s3"],
            c::COMMITTED_AT => [Some(10i64), Some(20), None, Some(40)],
            c::AI_ASSISTED => [Some(true), None, Some(false), Some(true)],
        )
        .unwrap());
        let pairs = df!(
            dc::DEPLOYMENT_ID => ["d1", "d2", "d3", "d9", "d2", "d1"],
            dc::SHA => ["s1", "s1", "s2", "s1", "s3", "s3"],
        )
        .unwrap();
        let index = DeploymentIndex::new(&deployments).unwrap();
        let got = with_derived_columns(&pairs, &index, &commits).unwrap();
        let expected = joined(&pairs, &deployments, &commits);
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

    /// Random tables: shas shared by repositories, unknown deployments and commits, runs of one
    /// deployment and interleaved ones.
    #[test]
    fn same_as_the_joins_on_random_tables() {
        use proptest::prelude::*;
        let strategy = (
            proptest::collection::vec(0u8..4, 1..6),
            proptest::collection::btree_map(
                (0u8..3, 0u16..300),
                (proptest::option::of(0i64..1_000), proptest::option::of(any::<bool>())),
                0..200,
            ),
            proptest::collection::vec((0u8..8, 0u16..300), 0..400),
        );
        proptest!(|((deployment_repos, commit_rows, pair_rows) in strategy)| {
            let deployments = df!(
                d::ID => (0..deployment_repos.len()).map(|i| format!("d{i}")).collect::<Vec<_>>(),
                d::REPO => deployment_repos.iter().map(|r| format!("r{r}")).collect::<Vec<_>>(),
            )
            .unwrap();
            let commits = utc(df!(
                c::REPO => commit_rows.keys().map(|(r, _)| format!("r{r}")).collect::<Vec<_>>(),
                c::SHA => commit_rows.keys().map(|(_, s)| format!("{s:040x}")).collect::<Vec<_>>(),
                c::COMMITTED_AT => commit_rows.values().map(|v| v.0).collect::<Vec<_>>(),
                c::AI_ASSISTED => commit_rows.values().map(|v| v.1).collect::<Vec<_>>(),
            )
            .unwrap());
            let pairs = df!(
                dc::DEPLOYMENT_ID => pair_rows.iter().map(|(d, _)| format!("d{d}")).collect::<Vec<_>>(),
                dc::SHA => pair_rows.iter().map(|(_, s)| format!("{s:040x}")).collect::<Vec<_>>(),
            )
            .unwrap();
            let index = DeploymentIndex::new(&deployments).unwrap();
            let got = with_derived_columns(&pairs, &index, &commits).unwrap();
            let expected = joined(&pairs, &deployments, &commits);
            prop_assert!(got.equals_missing(&expected), "{}\n{}", got, expected);
        });
    }
}
