//! Which deployment shipped each commit, by ancestry rather than by time.
//!
//! Deployment k ships the commits its commit contains that no earlier deployment contained:
//! `git rev-list sha_k --not sha_1 ... sha_(k-1)`. One walk over the graph does it for all
//! deployments at once: visiting deployments in order, each claims the commits reachable from
//! its commit that are not claimed yet, and stops at claimed ones (whose ancestors are claimed
//! too, by the deployment that claimed them or an earlier one). Every commit is visited once,
//! so a history of any size costs one pass. Merge commits and the commits they bring in are
//! reached through their parents like any other.
//!
//! The git collector and the GitHub collector both feed this module.

use std::collections::HashMap;

/// A commit graph: commits by index, parents as indices.
#[derive(Debug, Default)]
pub struct Graph {
    shas: Vec<String>,
    parents: Vec<Vec<u32>>,
    index: HashMap<String, u32>,
}

impl Graph {
    /// Builds the graph from `(sha, parent shas)`; parents outside the list (beyond a shallow
    /// clone's boundary, or not fetched) are left out.
    pub fn new<'a>(commits: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>) -> Self {
        let commits: Vec<(&str, Vec<&str>)> = commits.into_iter().collect();
        let mut index = HashMap::with_capacity(commits.len());
        let mut shas = Vec::with_capacity(commits.len());
        for (sha, _) in &commits {
            if !index.contains_key(*sha) {
                index.insert((*sha).to_string(), u32::try_from(shas.len()).unwrap_or(u32::MAX));
                shas.push((*sha).to_string());
            }
        }
        let mut parents = vec![Vec::new(); shas.len()];
        for (sha, ps) in &commits {
            if let Some(&i) = index.get(*sha) {
                parents[i as usize] = ps.iter().filter_map(|p| index.get(*p).copied()).collect();
            }
        }
        Graph { shas, parents, index }
    }

    pub fn len(&self) -> usize {
        self.shas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shas.is_empty()
    }

    pub fn contains(&self, sha: &str) -> bool {
        self.index.contains_key(sha)
    }

    /// For each deployment commit, in deployment order, the commits it ships (the commit itself
    /// first). A deployment whose commit is not in the graph, or whose commit an earlier
    /// deployment already shipped (a redeploy), ships nothing.
    pub fn assign(&self, deployment_shas: &[&str]) -> Vec<Vec<&str>> {
        self.assign_after(&[], deployment_shas)
    }

    /// Like [`Graph::assign`], for deployments that come after others which already shipped
    /// `claimed` (and, with them, their ancestors): an incremental sync.
    pub fn assign_after(&self, claimed: &[&str], deployment_shas: &[&str]) -> Vec<Vec<&str>> {
        let mut claimed_flags = vec![false; self.shas.len()];
        for sha in claimed {
            if let Some(&i) = self.index.get(*sha) {
                claimed_flags[i as usize] = true;
            }
        }
        let mut claimed = claimed_flags;
        let mut stack = Vec::new();
        deployment_shas
            .iter()
            .map(|sha| {
                let mut shipped = Vec::new();
                if let Some(&tip) = self.index.get(*sha) {
                    stack.push(tip);
                }
                while let Some(n) = stack.pop() {
                    let n = n as usize;
                    if claimed[n] {
                        continue;
                    }
                    claimed[n] = true;
                    shipped.push(self.shas[n].as_str());
                    stack.extend(self.parents[n].iter().copied().filter(|p| !claimed[*p as usize]));
                }
                shipped
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_unstable();
        v
    }

    /// a - b - c ------- m - e
    ///      \           /
    ///       x1 - x2 --
    #[test]
    fn each_commit_goes_to_the_first_deployment_that_contains_it() {
        let g = Graph::new([
            ("a", vec![]),
            ("b", vec!["a"]),
            ("c", vec!["b"]),
            ("x1", vec!["b"]),
            ("x2", vec!["x1"]),
            ("m", vec!["c", "x2"]),
            ("e", vec!["m"]),
        ]);
        let shipped = g.assign(&["b", "m", "e"]);
        assert_eq!(sorted(shipped[0].clone()), ["a", "b"]);
        assert_eq!(sorted(shipped[1].clone()), ["c", "m", "x1", "x2"]);
        assert_eq!(shipped[2], ["e"]);
    }

    #[test]
    fn order_is_deployment_order_not_ancestry() {
        // A hotfix deployed from a side branch before main's deployment.
        let g = Graph::new([("a", vec![]), ("b", vec!["a"]), ("h", vec!["a"]), ("m", vec!["b", "h"])]);
        let shipped = g.assign(&["h", "m"]);
        assert_eq!(sorted(shipped[0].clone()), ["a", "h"]);
        assert_eq!(sorted(shipped[1].clone()), ["b", "m"]);
    }

    #[test]
    fn redeploys_and_unknown_commits_ship_nothing() {
        let g = Graph::new([("a", vec!["gone"]), ("b", vec!["a"])]);
        let shipped = g.assign(&["b", "b", "zzz", "a"]);
        assert_eq!(sorted(shipped[0].clone()), ["a", "b"]);
        assert!(shipped[1].is_empty() && shipped[2].is_empty() && shipped[3].is_empty());
    }

    #[test]
    fn an_incremental_run_skips_what_earlier_deployments_shipped() {
        let g = Graph::new([("a", vec![]), ("b", vec!["a"]), ("c", vec!["b"])]);
        let shipped = g.assign_after(&["b"], &["c"]);
        assert_eq!(shipped[0], ["c"]);
    }

    #[test]
    fn a_long_history_does_not_recurse() {
        let n = 200_000;
        let shas: Vec<String> = (0..n).map(|i| format!("{i:x}")).collect();
        let g = Graph::new((0..n).map(|i| {
            (
                shas[i].as_str(),
                if i == 0 { vec![] } else { vec![shas[i - 1].as_str()] },
            )
        }));
        let shipped = g.assign(&[shas[n / 2].as_str(), shas[n - 1].as_str()]);
        assert_eq!(shipped[0].len(), n / 2 + 1);
        assert_eq!(shipped[1].len(), n / 2 - 1);
    }
}
