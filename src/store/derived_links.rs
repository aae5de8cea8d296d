//! The columns a snapshot adds to `issue_commits` (docs/store.md): each linked commit's time in
//! the issue's repository, the rows of that repository's deployments that list it in
//! `deployment_commits`, the issue's row in `issues` and the commit's row in `commits`. With
//! them the feedback loop reads the links alone, and no text: finding a million linked shas
//! among 20M commits and 20M deployed commits at every analysis (two joins on the 40-character
//! sha) took 17 s of 20 at 20M commits, and hashing the links' issue ids and sorting their shas
//! afterwards still doubled the analysis (perf).
//!
//! `issue_commits` is split by sha like `commits` and `deployment_commits`, so a partition's
//! links find their commits and deployed commits in the same partition.

use polars::prelude::*;
use rayon::prelude::*;

use super::derived::{DeploymentIndex, one_piece, text};
use crate::error::{PolarsContext, Result};
use crate::table::schema::{
    DERIVED_COMMIT_ROW, DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROW, DERIVED_DEPLOYMENT_ROWS, DERIVED_ISSUE_ROW,
    commits as c, issue_commits as l, issues as i,
};

/// Issues by id: their row and repository. Built once per import, for every partition.
pub struct IssueIndex<'a> {
    of: PlHashMap<&'a str, (u32, Option<&'a str>)>,
}

impl<'a> IssueIndex<'a> {
    pub fn new(issues: &'a DataFrame) -> Result<Self> {
        let ctx = || "failed to index the issues".to_string();
        let ids = issues.column(i::ID).and_then(|s| s.str()).context(ctx)?;
        let repos = issues.column(i::REPO).and_then(|s| s.str()).context(ctx)?;
        let mut of = PlHashMap::with_capacity(ids.len());
        for (row, (id, repo)) in ids.iter().zip(repos.iter()).enumerate() {
            if let Some(id) = id {
                of.entry(id).or_insert((row_number(row, "issues")?, repo));
            }
        }
        Ok(IssueIndex { of })
    }
}

/// A row's number as the derived columns store it.
fn row_number(row: usize, table: &str) -> Result<u32> {
    u32::try_from(row)
        .map_err(|_| polars_err!(ComputeError: "`{}` has more than {} rows", table, u32::MAX))
        .context(|| "failed to derive the columns of issue_commits".to_string())
}

/// No further link with the same sha.
const END: u32 = u32::MAX;

/// Rows read per parallel task.
const ROWS_PER_TASK: usize = 1 << 16;

/// `issue_commits` (canonical columns) with the derived columns: `committed_at`, the time of
/// the commit `sha` in the issue's repository (null when `commits` has no such commit, or the
/// issue is unknown); `deployment_rows`, the rows in the snapshot's `deployments` of the
/// deployments of that repository whose `deployment_commits` list the commit (ascending, empty
/// when none); `issue_row`, the issue's row in `issues` (null when unknown); and `commit_row`,
/// the commit's row in the snapshot's `commits` (null when there is no such commit or issue),
/// where `commits` starts at row `commit_offset`. `commits` and `deployed` (`deployment_commits`
/// with its own derived columns, [`super::derived::with_derived_columns`]) hold at least the
/// rows of the same shas. Rows keep their order.
///
/// Links are few next to commits: their shas go in a hash table, and the commits and deployed
/// commits are read once each, in parallel, probing it.
pub fn with_link_columns(
    links: &DataFrame,
    issues: &IssueIndex,
    deployments: &DeploymentIndex,
    commits: &DataFrame,
    commit_offset: usize,
    deployed: &DataFrame,
) -> Result<DataFrame> {
    let ctx = || "failed to derive the columns of issue_commits".to_string();
    let link_ids = text(links, l::ISSUE_ID)?;
    let link_shas = text(links, l::SHA)?;
    let issue_of_link: Vec<Option<(u32, Option<&str>)>> = link_ids
        .downcast_as_array()
        .iter()
        .map(|id| id.and_then(|id| issues.of.get(id).copied()))
        .collect();
    let repo_of_link: Vec<Option<&str>> = issue_of_link.iter().map(|i| i.and_then(|(_, repo)| repo)).collect();

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
    row_number(commit_offset + commits.height(), "commits")?;
    let found = gather(commits.height(), |row, found| {
        if let (Some(sha), Some(repo)) = (commit_shas.get(row), commit_repos.get(row)) {
            links_of(sha, repo, &mut |link| found.push((link, (row, times.get(row)))));
        }
    });
    let mut committed: Vec<Option<i64>> = vec![None; links.height()];
    let mut commit_rows: Vec<Option<u32>> = vec![None; links.height()];
    for (link, (row, time)) in found {
        committed[link as usize] = time;
        // Checked above: every row number fits.
        commit_rows[link as usize] = Some((commit_offset + row) as u32);
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
            Column::new(
                PlSmallStr::from_static(DERIVED_ISSUE_ROW),
                issue_of_link.iter().map(|i| i.map(|(row, _)| row)).collect::<Vec<_>>(),
            ),
            Column::new(PlSmallStr::from_static(DERIVED_COMMIT_ROW), commit_rows),
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
pub(super) mod tests {
    use super::super::derived::tests::utc;
    use super::super::derived::with_derived_columns;
    use super::*;
    use crate::table::schema::{deployment_commits as dc, deployments as d};

    /// A link's derived columns: issue row, commit row, commit time, deployment rows.
    type Linked = (Option<u32>, Option<u32>, Option<i64>, Vec<u32>);

    /// A text column without nulls.
    pub(in crate::store) fn strings(f: &DataFrame, n: &str) -> Vec<String> {
        f.column(n)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|s| s.unwrap().to_string())
            .collect()
    }

    /// What joins give: each link's issue row, its commit in its issue's repository, and the
    /// rows of the deployments of that repository listing it.
    fn joined(
        links: &DataFrame,
        issues: &DataFrame,
        deployments: &DataFrame,
        commits: &DataFrame,
        pairs: &DataFrame,
    ) -> Vec<Linked> {
        let issue_ids = strings(issues, i::ID);
        let repo: PlHashMap<String, String> = issues
            .column(i::ID)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .zip(issues.column(i::REPO).unwrap().str().unwrap().iter())
            .map(|(a, b)| (a.unwrap().to_string(), b.unwrap().to_string()))
            .collect();
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
                let issue_row = issue_ids.iter().position(|id| id == issue).map(|r| r as u32);
                let Some(repo) = repo.get(issue) else {
                    return (issue_row, None, None, vec![]);
                };
                let commit = (0..commit_shas.len()).find(|&k| commit_shas[k] == sha && &commit_repos[k] == repo);
                let Some(commit) = commit else {
                    return (issue_row, None, None, vec![]);
                };
                let mut rows: Vec<u32> = (0..pair_ids.len())
                    .filter(|&p| pair_shas[p] == sha)
                    .filter_map(|p| deployment_ids.iter().position(|id| *id == pair_ids[p]))
                    .filter(|&row| &deployment_repos[row] == repo && times[commit].is_some())
                    .map(|row| row as u32)
                    .collect();
                rows.sort_unstable();
                rows.dedup();
                (issue_row, Some(commit as u32), times[commit], rows)
            })
            .collect()
    }

    fn derived(
        links: &DataFrame,
        issues: &DataFrame,
        deployments: &DataFrame,
        commits: &DataFrame,
        pairs: &DataFrame,
    ) -> Vec<Linked> {
        let index = DeploymentIndex::new(deployments).unwrap();
        let deployed = with_derived_columns(pairs, &index, commits).unwrap();
        let got = with_link_columns(links, &IssueIndex::new(issues).unwrap(), &index, commits, 0, &deployed).unwrap();
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
        let rows = |name: &str| -> Vec<Option<u32>> { got.column(name).unwrap().u32().unwrap().iter().collect() };
        let (issue_rows, commit_rows) = (rows(DERIVED_ISSUE_ROW), rows(DERIVED_COMMIT_ROW));
        times
            .iter()
            .enumerate()
            .map(|(n, t)| {
                let rows = lists
                    .get_as_series(n)
                    .map(|s| s.u32().unwrap().into_no_null_iter().collect());
                (issue_rows[n], commit_rows[n], t, rows.unwrap_or_default())
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
                (Some(0), Some(0), Some(10), vec![0, 2]),
                (Some(1), Some(1), Some(20), vec![1]),
                (Some(2), Some(2), None, vec![]),
                (None, None, None, vec![]),
                (Some(0), None, None, vec![])
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
