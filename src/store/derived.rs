//! The two columns a snapshot adds to `deployment_commits` (docs/store.md): each deployed
//! commit's commit time and its deployment's row. They spare lead time a join on the
//! 40-character sha and one on the text id of every deployed commit at every analysis.
//!
//! Both are found here by lookups written for the purpose rather than by two Polars joins per
//! partition: Polars rebuilt the deployments' hash table for every partition and encoded the
//! (repository, sha) pair into a row key for each of millions of rows; at 10M commits those
//! joins were a quarter of the merge phase of an import (perf).

use polars::prelude::*;
use rayon::prelude::*;

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

/// Deployments by id: their row in the table as the snapshot writes it, and a code for their
/// repository. Built once per import, for every partition.
pub struct DeploymentIndex<'a> {
    by_id: PlHashMap<&'a str, Found>,
    /// The deployments' repositories, by code.
    repo_codes: PlHashMap<&'a str, u32>,
}

/// A deployment as a pair finds it: its row and its repository's code (`None`: no repository).
type Found = Option<(u32, Option<u32>)>;

impl<'a> DeploymentIndex<'a> {
    pub fn new(deployments: &'a DataFrame) -> Result<Self> {
        let ctx = || "failed to index the deployments".to_string();
        let ids = deployments.column(d::ID).and_then(|s| s.str()).context(ctx)?;
        let repos = deployments.column(d::REPO).and_then(|s| s.str()).context(ctx)?;
        let mut by_id = PlHashMap::with_capacity(ids.len());
        let mut repo_codes: PlHashMap<&str, u32> = PlHashMap::new();
        for (row, (id, repo)) in ids.iter().zip(repos.iter()).enumerate() {
            let code = repo.map(|r| {
                let next = repo_codes.len() as u32;
                *repo_codes.entry(r).or_insert(next)
            });
            if let Some(id) = id {
                // Ids are unique (the table's key); the first stands, as a join's would.
                by_id.entry(id).or_insert(Some((row as u32, code)));
            }
        }
        Ok(DeploymentIndex { by_id, repo_codes })
    }
}

/// A (sha, repository) key with the sha as the 160 bits its 40 lowercase hex digits spell:
/// compared and sorted without reading the text again. Two such shas are equal exactly when
/// their texts are; any other text (another length, upper case) takes the slower path.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    high: u64,
    middle: u64,
    low: u32,
    repo: u32,
}

/// The 160 bits of a sha written as 40 lowercase hex digits.
fn sha_bits(sha: &str) -> Option<(u64, u64, u32)> {
    let bytes = sha.as_bytes();
    if bytes.len() != 40 {
        return None;
    }
    let mut words = [0u64; 3];
    for (i, &b) in bytes.iter().enumerate() {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        words[i / 16] = (words[i / 16] << 4) | u64::from(digit);
    }
    Some((words[0], words[1], words[2] as u32))
}

/// Ranges of keys walked in parallel.
const RANGES: u64 = 64;

/// The cells of a text column, for access by row.
fn text<'a>(frame: &'a DataFrame, name: &str) -> Result<Vec<Option<&'a str>>> {
    Ok(frame
        .column(name)
        .and_then(|s| s.str())
        .context(|| format!("failed to read column `{name}`"))?
        .iter()
        .collect())
}

/// `deployment_commits` (canonical columns) with the derived columns: `committed_at`, the time
/// of the commit `sha` in the deployment's repository (null when `commits` has no such commit),
/// and `deployment_row` (null when there is no such deployment). `commits` holds (at least)
/// the commits of the same shas: one partition of each table. Rows keep their order.
///
/// Commits are found by a sort-merge on (sha bits, repository code), walked in parallel by
/// ranges of keys. A hash table of 2M text keys missed the cache on nearly every probe (1.1 s
/// per partition of 2M rows on one core), and a sort on a hash of the sha still had to read
/// both texts at random places to compare them (a fifth of `--input` at 2M commits, perf);
/// the keys now hold everything the comparison needs.
pub fn with_derived_columns(
    pairs: &DataFrame,
    deployments: &DeploymentIndex,
    commits: &DataFrame,
) -> Result<DataFrame> {
    let ctx = || "failed to derive the columns of deployment_commits".to_string();
    let commit_repos = text(commits, c::REPO)?;
    let commit_shas = text(commits, c::SHA)?;
    let commit_times = commits.column(c::COMMITTED_AT).context(ctx)?;
    let time_type = commit_times.dtype().clone();
    let commit_times: Vec<Option<i64>> = commit_times
        .as_materialized_series()
        .to_physical_repr()
        .i64()
        .context(ctx)?
        .iter()
        .collect();
    let ids = pairs.column(dc::DEPLOYMENT_ID).and_then(|s| s.str()).context(ctx)?;
    let shas = text(pairs, dc::SHA)?;

    // Each pair's deployment. Exports list a deployment's commits together: a run of one id is
    // looked up once.
    let mut found: Vec<Found> = Vec::with_capacity(pairs.height());
    let mut last: Option<(&str, Found)> = None;
    for id in ids.iter() {
        let deployment = match (id, last) {
            (Some(id), Some((last_id, d))) if id == last_id => d,
            (Some(id), _) => {
                let d = deployments.by_id.get(id).copied().flatten();
                last = Some((id, d));
                d
            }
            (None, _) => None,
        };
        found.push(deployment);
    }

    // Commits in a deployment's repository, keyed; the first of equal keys stands, as a join's
    // would (keys are unique anyway). Shas that are not 40 lowercase hex digits go aside.
    let mut commit_keys: Vec<(Key, u32, Option<i64>)> = Vec::with_capacity(commit_shas.len());
    let mut other_commits: PlHashMap<(&str, u32), Option<i64>> = PlHashMap::new();
    for (row, (sha, repo)) in commit_shas.iter().zip(&commit_repos).enumerate() {
        let (Some(sha), Some(repo)) = (sha, repo) else { continue };
        let Some(&code) = deployments.repo_codes.get(repo) else {
            continue;
        };
        let time = commit_times[row];
        match sha_bits(sha) {
            Some((high, middle, low)) => commit_keys.push((
                Key {
                    high,
                    middle,
                    low,
                    repo: code,
                },
                row as u32,
                time,
            )),
            None => {
                other_commits.entry((sha, code)).or_insert(time);
            }
        }
    }
    commit_keys.par_sort_unstable_by_key(|(key, row, _)| (*key, *row));

    let mut pair_keys: Vec<(Key, u32)> = Vec::with_capacity(shas.len());
    let mut committed: Vec<Option<i64>> = vec![None; pairs.height()];
    for (row, (sha, deployment)) in shas.iter().zip(&found).enumerate() {
        let (Some(sha), Some((_, Some(code)))) = (sha, deployment) else {
            continue;
        };
        match sha_bits(sha) {
            Some((high, middle, low)) => pair_keys.push((
                Key {
                    high,
                    middle,
                    low,
                    repo: *code,
                },
                row as u32,
            )),
            None => committed[row] = other_commits.get(&(*sha, *code)).copied().flatten(),
        }
    }
    pair_keys.par_sort_unstable();

    // The walk, by ranges of keys: (pair row, commit time) for every pair whose commit is there.
    let matches: Vec<(u32, i64)> = (0..RANGES)
        .into_par_iter()
        .flat_map_iter(|range| {
            let bound = |r: u64| -> u64 { ((u128::from(r) << 64) / u128::from(RANGES)) as u64 };
            let start = |keys: &[(Key, u32, Option<i64>)]| keys.partition_point(|(k, _, _)| k.high < bound(range));
            let end = |keys: &[(Key, u32, Option<i64>)]| {
                if range + 1 == RANGES {
                    keys.len()
                } else {
                    keys.partition_point(|(k, _, _)| k.high < bound(range + 1))
                }
            };
            let commits = &commit_keys[start(&commit_keys)..end(&commit_keys)];
            let pair_start = pair_keys.partition_point(|(k, _)| k.high < bound(range));
            let pair_end = if range + 1 == RANGES {
                pair_keys.len()
            } else {
                pair_keys.partition_point(|(k, _)| k.high < bound(range + 1))
            };
            let mut out = Vec::new();
            let mut j = 0;
            for &(key, row) in &pair_keys[pair_start..pair_end] {
                while j < commits.len() && commits[j].0 < key {
                    j += 1;
                }
                if let Some(&(k, _, Some(time))) = commits.get(j)
                    && k == key
                {
                    out.push((row, time));
                }
            }
            out.into_iter()
        })
        .collect();
    for (row, time) in matches {
        committed[row as usize] = Some(time);
    }

    let committed =
        Int64Chunked::from_iter_options(PlSmallStr::from_static(DERIVED_COMMITTED_AT), committed.into_iter())
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
        ],
    )
    .context(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(frame: DataFrame) -> DataFrame {
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
            ])
            .collect()
            .unwrap()
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
        // A sha as 40 lowercase hex digits, the same in upper case (another text: no match), or
        // short: the last two take the path for other texts.
        fn sha(number: u16, form: u8) -> String {
            match form {
                0 => format!("{number:040x}"),
                1 => format!("{number:040X}"),
                _ => format!("s{number}"),
            }
        }
        let strategy = (
            proptest::collection::vec(0u8..4, 1..6),
            proptest::collection::btree_map((0u8..3, 0u16..300, 0u8..3), proptest::option::of(0i64..1_000), 0..200),
            proptest::collection::vec((0u8..8, 0u16..300, 0u8..3), 0..400),
        );
        proptest!(|((deployment_repos, commit_rows, pair_rows) in strategy)| {
            let deployments = df!(
                d::ID => (0..deployment_repos.len()).map(|i| format!("d{i}")).collect::<Vec<_>>(),
                d::REPO => deployment_repos.iter().map(|r| format!("r{r}")).collect::<Vec<_>>(),
            )
            .unwrap();
            // Unique (repository, sha) texts, as the table's key makes them (a number without
            // the digits a-f reads the same in both cases).
            let mut unique = std::collections::BTreeMap::new();
            for ((r, s, f), time) in &commit_rows {
                unique.entry((format!("r{r}"), sha(*s, *f))).or_insert(*time);
            }
            let commits = utc(df!(
                c::REPO => unique.keys().map(|(r, _)| r.clone()).collect::<Vec<_>>(),
                c::SHA => unique.keys().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
                c::COMMITTED_AT => unique.values().copied().collect::<Vec<_>>(),
            )
            .unwrap());
            let pairs = df!(
                dc::DEPLOYMENT_ID => pair_rows.iter().map(|(d, _, _)| format!("d{d}")).collect::<Vec<_>>(),
                dc::SHA => pair_rows.iter().map(|(_, s, f)| sha(*s, *f)).collect::<Vec<_>>(),
            )
            .unwrap();
            let index = DeploymentIndex::new(&deployments).unwrap();
            let got = with_derived_columns(&pairs, &index, &commits).unwrap();
            let expected = joined(&pairs, &deployments, &commits);
            prop_assert!(got.equals_missing(&expected), "{}\n{}", got, expected);
        });
    }
}
