//! The two columns a snapshot adds to `issue_commits` (docs/store.md): each linked commit's
//! time in the issue's repository, and the rows of that repository's deployments that list it
//! in `deployment_commits`. With them the feedback loop reads the links alone: finding a
//! million linked shas among 20M commits and 20M deployed commits at every analysis (two joins
//! on the 40-character sha) took 17 s of 20 at 20M commits (perf).
//!
//! `issue_commits` is split by sha like `commits` and `deployment_commits`, so a partition's
//! links find their commits and deployed commits in the same partition.

use polars::prelude::*;
use rayon::prelude::*;

use super::derived::{DeploymentIndex, one_piece, text};
use crate::error::{PolarsContext, Result};
use crate::table::schema::{
    DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROW, DERIVED_DEPLOYMENT_ROWS, commits as c, issue_commits as l,
    issues as i,
};

/// Issues by id: their repository. Built once per import, for every partition.
pub struct IssueIndex<'a> {
    repo_of: PlHashMap<&'a str, Option<&'a str>>,
}

impl<'a> IssueIndex<'a> {
    pub fn new(issues: &'a DataFrame) -> Result<Self> {
        let ctx = || "failed to index the issues".to_string();
        let ids = issues.column(i::ID).and_then(|s| s.str()).context(ctx)?;
        let repos = issues.column(i::REPO).and_then(|s| s.str()).context(ctx)?;
        let mut repo_of = PlHashMap::with_capacity(ids.len());
        for (id, repo) in ids.iter().zip(repos.iter()) {
            if let Some(id) = id {
                repo_of.entry(id).or_insert(repo);
            }
        }
        Ok(IssueIndex { repo_of })
    }
}

/// No further link with the same sha.
const END: u32 = u32::MAX;

/// Rows read per parallel task.
const ROWS_PER_TASK: usize = 1 << 16;

/// `issue_commits` (canonical columns) with the derived columns: `committed_at`, the time of
/// the commit `sha` in the issue's repository (null when `commits` has no such commit, or the
/// issue is unknown), and `deployment_rows`, the rows in the snapshot's `deployments` of the
/// deployments of that repository whose `deployment_commits` list the commit (ascending, empty
/// when none). `commits` and `deployed` (`deployment_commits` with its own derived columns,
/// [`super::derived::with_derived_columns`]) hold at least the rows of the same shas. Rows keep
/// their order.
///
/// Links are few next to commits: their shas go in a hash table, and the commits and deployed
/// commits are read once each, in parallel, probing it.
pub fn with_link_columns(
    links: &DataFrame,
    issues: &IssueIndex,
    deployments: &DeploymentIndex,
    commits: &DataFrame,
    deployed: &DataFrame,
) -> Result<DataFrame> {
    let ctx = || "failed to derive the columns of issue_commits".to_string();
    let link_ids = text(links, l::ISSUE_ID)?;
    let link_shas = text(links, l::SHA)?;
    let repo_of_link: Vec<Option<&str>> = link_ids
        .downcast_as_array()
        .iter()
        .map(|id| id.and_then(|id| issues.repo_of.get(id).copied().flatten()))
        .collect();

    // Each sha's links, chained: `first[sha]`, then `next[link]` until END.
    let mut first: PlHashMap<&str, u32> = PlHashMap::with_capacity(links.height());
    let mut next = vec![END; links.height()];
    for (row, sha) in link_shas.downcast_as_array().iter().enumerate() {
        if let (Some(sha), Some(_)) = (sha, repo_of_link[row]) {
            let head = first.entry(sha).or_insert(END);
            next[row] = *head;
            *head = row as u32;
        }
    }
    // Calls `found` with each link of this sha whose issue is of this repository.
    let links_of = |sha: &str, repo: &str, found: &mut dyn FnMut(u32)| {
        let mut link = first.get(sha).copied().unwrap_or(END);
        while link != END {
            if repo_of_link[link as usize] == Some(repo) {
                found(link);
            }
            link = next[link as usize];
        }
    };
    // Commit times.
    let (commit_repos, commit_shas) = (text(commits, c::REPO)?, text(commits, c::SHA)?);
    let (commit_repos, commit_shas) = (commit_repos.downcast_as_array(), commit_shas.downcast_as_array());
    let times = commits.column(c::COMMITTED_AT).context(ctx)?;
    let time_type = times.dtype().clone();
    let times = one_piece(times.as_materialized_series().to_physical_repr().i64().context(ctx)?);
    let times = times.downcast_as_array();
    let found = gather(commits.height(), |row, found| {
        if let (Some(sha), Some(repo)) = (commit_shas.get(row), commit_repos.get(row)) {
            links_of(sha, repo, &mut |link| found.push((link, times.get(row))));
        }
    });
    let mut committed: Vec<Option<i64>> = vec![None; links.height()];
    for (link, time) in found {
        committed[link as usize] = time;
    }

    // Deployments that list each linked commit.
    let deployed_shas = text(deployed, l::SHA)?;
    let deployed_shas = deployed_shas.downcast_as_array();
    let deployed_times = deployed
        .column(DERIVED_COMMITTED_AT)
        .context(ctx)?
        .as_materialized_series()
        .to_physical_repr()
        .i64()
        .context(ctx)?
        .clone();
    let deployed_times = one_piece(&deployed_times);
    let deployed_times = deployed_times.downcast_as_array();
    let rows = deployed
        .column(DERIVED_DEPLOYMENT_ROW)
        .and_then(|s| s.u32().cloned())
        .context(ctx)?;
    let rows = one_piece(&rows);
    let rows = rows.downcast_as_array();
    let mut listed = gather(deployed.height(), |row, found| {
        // Only the pairs lead time counts: a known deployment, and its commit in `commits`.
        let Some(deployment) = rows.get(row).filter(|_| deployed_times.get(row).is_some()) else {
            return;
        };
        if let (Some(sha), Some(repo)) = (deployed_shas.get(row), deployments.repo_of_row(deployment)) {
            links_of(sha, repo, &mut |link| found.push((link, deployment)));
        }
    });
    listed.par_sort_unstable();
    listed.dedup();

    let mut lists = ListPrimitiveChunkedBuilder::<UInt32Type>::new(
        PlSmallStr::from_static(DERIVED_DEPLOYMENT_ROWS),
        links.height(),
        listed.len(),
        DataType::UInt32,
    );
    let mut rest = listed.as_slice();
    let mut values = Vec::new();
    for link in 0..links.height() as u32 {
        let n = rest.iter().take_while(|(l, _)| *l == link).count();
        values.clear();
        values.extend(rest[..n].iter().map(|(_, d)| *d));
        lists.append_slice(&values);
        rest = &rest[n..];
    }
    let committed =
        Int64Chunked::from_iter_options(PlSmallStr::from_static(DERIVED_COMMITTED_AT), committed.into_iter())
            .into_series()
            .cast(&time_type)
            .context(ctx)?;
    DataFrame::new(
        links.height(),
        vec![
            links.column(l::ISSUE_ID).context(ctx)?.clone(),
            links.column(l::SHA).context(ctx)?.clone(),
            committed.into_column(),
            lists.finish().into_series().into_column(),
        ],
    )
    .context(ctx)
}

/// `visit(row, found)` over rows 0..n, in parallel tasks; the (link, value) pairs found.
fn gather<T: Send>(n: usize, visit: impl Fn(usize, &mut Vec<(u32, T)>) + Sync) -> Vec<(u32, T)> {
    (0..n.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .flat_map_iter(|task| {
            let mut found = Vec::new();
            for row in task * ROWS_PER_TASK..((task + 1) * ROWS_PER_TASK).min(n) {
                visit(row, &mut found);
            }
            found
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::derived::tests::utc;
    use super::super::derived::with_derived_columns;
    use super::*;
    use crate::table::schema::{deployment_commits as dc, deployments as d};

    /// What joins give: each link's commit in its issue's repository, and the rows of the
    /// deployments of that repository listing it.
    fn joined(
        links: &DataFrame,
        issues: &DataFrame,
        deployments: &DataFrame,
        commits: &DataFrame,
        pairs: &DataFrame,
    ) -> Vec<(Option<i64>, Vec<u32>)> {
        let repo: PlHashMap<String, String> = issues
            .column(i::ID)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .zip(issues.column(i::REPO).unwrap().str().unwrap().iter())
            .map(|(a, b)| (a.unwrap().to_string(), b.unwrap().to_string()))
            .collect();
        let strings = |f: &DataFrame, n: &str| -> Vec<String> {
            f.column(n)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|s| s.unwrap().to_string())
                .collect()
        };
        let times: Vec<Option<i64>> = commits
            .column(c::COMMITTED_AT)
            .unwrap()
            .as_materialized_series()
            .to_physical_repr()
            .i64()
            .unwrap()
            .iter()
            .collect();
        let (commit_repos, commit_shas) = (strings(commits, c::REPO), strings(commits, c::SHA));
        let deployment_repos = strings(deployments, d::REPO);
        let deployment_ids = strings(deployments, d::ID);
        let (pair_ids, pair_shas) = (strings(pairs, dc::DEPLOYMENT_ID), strings(pairs, dc::SHA));
        strings(links, l::ISSUE_ID)
            .iter()
            .zip(strings(links, l::SHA))
            .map(|(issue, sha)| {
                let Some(repo) = repo.get(issue) else {
                    return (None, vec![]);
                };
                let commit = (0..commit_shas.len()).find(|&k| commit_shas[k] == sha && &commit_repos[k] == repo);
                let Some(commit) = commit else { return (None, vec![]) };
                let mut rows: Vec<u32> = (0..pair_ids.len())
                    .filter(|&p| pair_shas[p] == sha)
                    .filter_map(|p| deployment_ids.iter().position(|id| *id == pair_ids[p]))
                    .filter(|&row| &deployment_repos[row] == repo && times[commit].is_some())
                    .map(|row| row as u32)
                    .collect();
                rows.sort_unstable();
                rows.dedup();
                (times[commit], rows)
            })
            .collect()
    }

    fn derived(
        links: &DataFrame,
        issues: &DataFrame,
        deployments: &DataFrame,
        commits: &DataFrame,
        pairs: &DataFrame,
    ) -> Vec<(Option<i64>, Vec<u32>)> {
        let index = DeploymentIndex::new(deployments).unwrap();
        let deployed = with_derived_columns(pairs, &index, commits).unwrap();
        let got = with_link_columns(links, &IssueIndex::new(issues).unwrap(), &index, commits, &deployed).unwrap();
        assert!(
            got.column(l::ISSUE_ID)
                .unwrap()
                .equals_missing(links.column(l::ISSUE_ID).unwrap())
        );
        let times = got
            .column(DERIVED_COMMITTED_AT)
            .unwrap()
            .as_materialized_series()
            .to_physical_repr()
            .i64()
            .unwrap()
            .clone();
        let lists = got.column(DERIVED_DEPLOYMENT_ROWS).unwrap().list().unwrap().clone();
        times
            .iter()
            .enumerate()
            .map(|(n, t)| {
                let rows = lists
                    .get_as_series(n)
                    .map(|s| s.u32().unwrap().into_no_null_iter().collect());
                (t, rows.unwrap_or_default())
            })
            .collect()
    }

    #[test]
    fn links_find_their_commit_and_deployments_in_the_issues_repository() {
        let issues = df!(i::ID => ["a#1", "b#1", "a#2"], i::REPO => ["a", "b", "a"]).unwrap();
        let deployments = df!(d::ID => ["d1", "d2", "d3"], d::REPO => ["a", "b", "a"]).unwrap();
        let commits = utc(df!(
            c::REPO => ["a", "b", "a"],
            c::SHA => ["s1", "s1", "s2"],
            c::COMMITTED_AT => [Some(10i64), Some(20), None],
        )
        .unwrap());
        let pairs = df!(dc::DEPLOYMENT_ID => ["d1", "d2", "d3", "d3", "d9"], dc::SHA => ["s1", "s1", "s1", "s2", "s1"])
            .unwrap();
        // a#1 -> s1 in a (d1, d3), b#1 -> s1 in b (d2), a#2 -> s2 (no time: not a pair), an
        // unknown issue, and a sha no commit has.
        let links =
            df!(l::ISSUE_ID => ["a#1", "b#1", "a#2", "z#9", "a#1"], l::SHA => ["s1", "s1", "s2", "s1", "s9"]).unwrap();
        let got = derived(&links, &issues, &deployments, &commits, &pairs);
        assert_eq!(
            got,
            [
                (Some(10), vec![0, 2]),
                (Some(20), vec![1]),
                (None, vec![]),
                (None, vec![]),
                (None, vec![])
            ]
        );
        assert_eq!(got, joined(&links, &issues, &deployments, &commits, &pairs));
    }

    /// Random tables: shas shared by repositories and by issues, unknown issues, deployments
    /// and commits.
    #[test]
    fn same_as_the_joins_on_random_tables() {
        use proptest::prelude::*;
        let strategy = (
            proptest::collection::vec(0u8..3, 1..5),
            proptest::collection::vec(0u8..3, 1..6),
            proptest::collection::btree_map((0u8..3, 0u16..40), proptest::option::of(0i64..1_000), 0..60),
            proptest::collection::btree_set((0u8..7, 0u16..40), 0..80),
            proptest::collection::btree_set((0u8..6, 0u16..40), 0..60),
        );
        proptest!(|((issue_repos, deployment_repos, commit_rows, pair_rows, link_rows) in strategy)| {
            let issues = df!(
                i::ID => (0..issue_repos.len()).map(|n| format!("i{n}")).collect::<Vec<_>>(),
                i::REPO => issue_repos.iter().map(|r| format!("r{r}")).collect::<Vec<_>>(),
            ).unwrap();
            let deployments = df!(
                d::ID => (0..deployment_repos.len()).map(|n| format!("d{n}")).collect::<Vec<_>>(),
                d::REPO => deployment_repos.iter().map(|r| format!("r{r}")).collect::<Vec<_>>(),
            ).unwrap();
            let commits = utc(df!(
                c::REPO => commit_rows.keys().map(|(r, _)| format!("r{r}")).collect::<Vec<_>>(),
                c::SHA => commit_rows.keys().map(|(_, s)| format!("{s:040x}")).collect::<Vec<_>>(),
                c::COMMITTED_AT => commit_rows.values().copied().collect::<Vec<_>>(),
            ).unwrap());
            let pairs = df!(
                dc::DEPLOYMENT_ID => pair_rows.iter().map(|(d, _)| format!("d{d}")).collect::<Vec<_>>(),
                dc::SHA => pair_rows.iter().map(|(_, s)| format!("{s:040x}")).collect::<Vec<_>>(),
            ).unwrap();
            let links = df!(
                l::ISSUE_ID => link_rows.iter().map(|(n, _)| format!("i{n}")).collect::<Vec<_>>(),
                l::SHA => link_rows.iter().map(|(_, s)| format!("{s:040x}")).collect::<Vec<_>>(),
            ).unwrap();
            let got = derived(&links, &issues, &deployments, &commits, &pairs);
            prop_assert_eq!(got, joined(&links, &issues, &deployments, &commits, &pairs));
        });
    }
}
