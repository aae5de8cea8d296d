//! The local git collector: commits from a branch's history, deployments from tags, and the
//! commits each deployment shipped, by ancestry.
//!
//! A run reads from git only what the store does not have: `git log BRANCH --not TIPS`, where
//! the tips are the store's newest commits of the repository. The assignment of commits to
//! deployments is then recomputed over the whole graph (store + new commits) in memory, which
//! takes milliseconds even for 100,000 commits, so a moved, deleted or backdated tag is handled
//! exactly. The rows the collector writes for a repository (its commits, its tag deployments
//! and their commits) are replaced as a whole, so a rerun is idempotent.

pub mod repo;
pub mod tags;

use polars::prelude::*;

use super::ancestry::Graph;
use super::closing;
use crate::error::{Error, Result};
use crate::table::schema::{self, Table, commits as c, deployment_commits as dc, deployments as d, status};
use crate::table::{Tables, empty_frame, frame_from};
use crate::timestamp::Micros;
pub use repo::Repo;
pub use tags::TagPattern;

/// What to read and how to name it.
#[derive(Debug, Clone)]
pub struct Options {
    /// `owner/name` in the store; default: from the `origin` remote, else the folder's name.
    pub repo_name: Option<String>,
    pub tags: TagPattern,
    /// Default: the branch HEAD points at.
    pub branch: Option<String>,
    /// Leave the first deployment's commits (all history before it) out of lead time.
    pub skip_first: bool,
    pub environment: String,
    /// Count the lines each commit adds and deletes (`git log --numstat`: a diff per commit).
    pub line_counts: bool,
    /// How AI-assisted commits are recognised in their messages.
    pub assistants: super::assistants::Rules,
}

/// A tag that was not taken as a deployment, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub tag: String,
    pub reason: &'static str,
}

/// One deployment from a tag.
#[derive(Debug, Clone)]
pub struct TagDeployment {
    pub tag: String,
    pub sha: String,
    pub deployed_at: Micros,
    /// Commits it shipped (before `--skip-first`).
    pub commits: usize,
}

/// What a run found, and the rows to write.
#[derive(Debug)]
pub struct Collected {
    pub repo: String,
    pub branch: String,
    pub shallow: bool,
    /// Commits read from git in this run (new to the store).
    pub new_commits: usize,
    /// Commits of the branch known after this run.
    pub total_commits: usize,
    pub deployments: Vec<TagDeployment>,
    pub skipped: Vec<Skipped>,
    /// Tags that do not match the pattern.
    pub other_tags: usize,
    pub skip_first: bool,
    /// Rows for the store, and which existing rows they replace.
    pub updates: Vec<(&'static Table, DataFrame)>,
    pub owned: Vec<(&'static Table, Expr)>,
}

/// The store's commits of the repository: `(sha, parents)`.
pub type Known = Vec<(String, Vec<String>)>;

/// The deployment id of a tag: the tag qualified by the repository, because deployment ids are
/// unique across the store and every repository has its `v1.0.0`.
pub fn deployment_id(repo: &str, tag: &str) -> String {
    format!("{repo}@{tag}")
}

/// The repository's name: as given, else from the `origin` remote, else the folder's name.
pub fn repo_name(repo: &Repo, given: Option<&str>) -> String {
    given
        .map(str::to_string)
        .or_else(|| repo.origin_name())
        .or_else(|| {
            repo.path()
                .canonicalize()
                .ok()?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "local".into())
}

/// Reads the repository and computes the rows to write. `known` is what the store has.
pub fn collect(repo: &Repo, options: &Options, name: &str, known: &Known) -> Result<Collected> {
    let branch = repo.branch(options.branch.as_deref())?;
    let shallow = repo.is_shallow()?;

    // Only what the store lacks: commits reachable from the branch but not from its tips.
    let parents_of_known: std::collections::HashSet<&str> =
        known.iter().flat_map(|(_, ps)| ps.iter().map(String::as_str)).collect();
    let tips: Vec<String> = known
        .iter()
        .filter(|(sha, _)| !parents_of_known.contains(sha.as_str()))
        .map(|(sha, _)| sha.clone())
        .collect();
    let new = repo.log(&branch, &tips)?;
    let lines = if options.line_counts && !new.is_empty() {
        repo.line_counts(&branch, &tips)?
    } else {
        std::collections::HashMap::new()
    };

    let graph = Graph::new(
        known
            .iter()
            .map(|(sha, ps)| (sha.as_str(), ps.iter().map(String::as_str).collect()))
            .chain(
                new.iter()
                    .map(|cm| (cm.sha.as_str(), cm.parents.iter().map(String::as_str).collect())),
            ),
    );

    let all_tags = repo.tags()?;
    let (matching, other): (Vec<_>, Vec<_>) = all_tags.into_iter().partition(|t| options.tags.matches(&t.name));
    if matching.is_empty() {
        return Err(if other.is_empty() {
            Error::NoTags {
                path: repo.path().into(),
            }
        } else {
            Error::NoMatchingTag {
                path: repo.path().into(),
                pattern: options.tags.describe(),
                others: other.len(),
                examples: other.iter().take(5).map(|t| t.name.clone()).collect(),
            }
        });
    }

    let mut skipped = Vec::new();
    let mut deployments: Vec<TagDeployment> = Vec::new();
    for tag in matching {
        let (Some(sha), Some(at)) = (tag.commit.clone(), tag.deployed_at()) else {
            skipped.push(Skipped {
                tag: tag.name,
                reason: "does not name a commit",
            });
            continue;
        };
        if !graph.contains(&sha) {
            skipped.push(Skipped {
                tag: tag.name,
                reason: "not reachable from the branch",
            });
            continue;
        }
        deployments.push(TagDeployment {
            tag: tag.name,
            sha,
            deployed_at: at,
            commits: 0,
        });
    }
    deployments.sort_by(|a, b| {
        a.deployed_at
            .cmp(&b.deployed_at)
            .then_with(|| tags::version_cmp(&a.tag, &b.tag))
    });
    let shas: Vec<&str> = deployments.iter().map(|t| t.sha.as_str()).collect();
    let assignment = graph.assign(&shas);
    for (deployment, commits) in deployments.iter_mut().zip(&assignment) {
        deployment.commits = commits.len();
    }

    let updates = vec![
        (
            &schema::COMMITS,
            commits_frame(name, &new, &lines, &options.assistants)?,
        ),
        (
            &schema::DEPLOYMENTS,
            deployments_frame(name, &deployments, &options.environment)?,
        ),
        (
            &schema::DEPLOYMENT_COMMITS,
            deployment_commits_frame(name, &deployments, &assignment, options.skip_first)?,
        ),
        // The issues the new commits name with a closing keyword or a tracker key.
        (
            &schema::ISSUE_COMMITS,
            closing::links_frame(name, new.iter().map(|cm| (cm.sha.as_str(), full_message(cm))))?,
        ),
    ];
    let prefix = deployment_id(name, "");
    let owned = vec![
        (
            &schema::DEPLOYMENTS,
            col(d::REPO)
                .eq(lit(name.to_string()))
                .and(col(d::ID).str().starts_with(lit(prefix.clone()))),
        ),
        (
            &schema::DEPLOYMENT_COMMITS,
            col(dc::DEPLOYMENT_ID).str().starts_with(lit(prefix)),
        ),
    ];
    Ok(Collected {
        repo: name.to_string(),
        branch,
        shallow,
        new_commits: new.len(),
        total_commits: graph.len(),
        deployments,
        skipped,
        other_tags: other.len(),
        skip_first: options.skip_first,
        updates,
        owned,
    })
}

/// The subject and the body, as the message was written.
fn full_message(commit: &repo::Commit) -> std::borrow::Cow<'_, str> {
    if commit.body.is_empty() {
        std::borrow::Cow::Borrowed(commit.subject.as_str())
    } else {
        std::borrow::Cow::Owned(format!("{}\n\n{}", commit.subject, commit.body))
    }
}

fn strings<'a>(name: &str, values: impl Iterator<Item = &'a str>) -> Column {
    Column::new(name.into(), values.collect::<Vec<_>>())
}

/// `lines`: additions and deletions by sha (none for merges, or without `--numstat`). Each
/// commit's AI flag is read from its whole message (trailers end it) and its author.
fn commits_frame(
    repo: &str,
    commits: &[repo::Commit],
    lines: &std::collections::HashMap<String, (i64, i64)>,
    assistants: &super::assistants::Rules,
) -> Result<DataFrame> {
    if commits.is_empty() {
        return Ok(empty_frame(&schema::COMMITS));
    }
    let n = commits.len();
    let parents: Vec<String> = commits.iter().map(|cm| cm.parents.join(" ")).collect();
    frame_from(
        &schema::COMMITS,
        n,
        &[
            strings(c::REPO, std::iter::repeat_n(repo, n)),
            strings(c::SHA, commits.iter().map(|cm| cm.sha.as_str())),
            Column::new(
                c::COMMITTED_AT.into(),
                commits.iter().map(|cm| cm.committed_at).collect::<Vec<_>>(),
            ),
            Column::new(
                c::AUTHORED_AT.into(),
                commits.iter().map(|cm| cm.authored_at).collect::<Vec<_>>(),
            ),
            strings(c::AUTHOR, commits.iter().map(|cm| cm.author.as_str())),
            strings(c::MESSAGE, commits.iter().map(|cm| cm.subject.as_str())),
            strings(c::PARENTS, parents.iter().map(String::as_str)),
            Column::new(
                c::ADDITIONS.into(),
                commits
                    .iter()
                    .map(|cm| lines.get(&cm.sha).map(|l| l.0))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                c::DELETIONS.into(),
                commits
                    .iter()
                    .map(|cm| lines.get(&cm.sha).map(|l| l.1))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                c::AI_ASSISTED.into(),
                commits
                    .iter()
                    .map(|cm| assistants.is_ai_assisted(&full_message(cm), Some(&cm.author)))
                    .collect::<Vec<_>>(),
            ),
        ],
    )
}

fn deployments_frame(repo: &str, deployments: &[TagDeployment], environment: &str) -> Result<DataFrame> {
    let n = deployments.len();
    let ids: Vec<String> = deployments.iter().map(|t| deployment_id(repo, &t.tag)).collect();
    frame_from(
        &schema::DEPLOYMENTS,
        n,
        &[
            strings(d::ID, ids.iter().map(String::as_str)),
            strings(d::REPO, std::iter::repeat_n(repo, n)),
            Column::new(
                d::DEPLOYED_AT.into(),
                deployments.iter().map(|t| t.deployed_at).collect::<Vec<_>>(),
            ),
            strings(d::ENVIRONMENT, std::iter::repeat_n(environment, n)),
            strings(d::STATUS, std::iter::repeat_n(status::SUCCESS, n)),
            strings(d::SHA, deployments.iter().map(|t| t.sha.as_str())),
        ],
    )
}

fn deployment_commits_frame(
    repo: &str,
    deployments: &[TagDeployment],
    shipped: &[Vec<&str>],
    skip_first: bool,
) -> Result<DataFrame> {
    let mut ids = Vec::new();
    let mut shas = Vec::new();
    for (k, (deployment, commits)) in deployments.iter().zip(shipped).enumerate() {
        if skip_first && k == 0 {
            continue;
        }
        let id = deployment_id(repo, &deployment.tag);
        for sha in commits {
            ids.push(id.clone());
            shas.push(*sha);
        }
    }
    frame_from(
        &schema::DEPLOYMENT_COMMITS,
        ids.len(),
        &[
            strings(dc::DEPLOYMENT_ID, ids.iter().map(String::as_str)),
            strings(dc::SHA, shas.into_iter()),
        ],
    )
}

/// The store's commits of `repo` as `(sha, parents)`, for an incremental read.
pub fn known_commits(tables: &Tables, repo: &str) -> Result<Known> {
    let frame = tables
        .commits
        .clone()
        .filter(col(c::REPO).eq(lit(repo.to_string())))
        .select([col(c::SHA), col(c::PARENTS)])
        .collect()
        .map_err(|e| Error::Polars {
            context: "failed to read the store's commits".into(),
            source: e,
        })?;
    let shas = frame.column(c::SHA).and_then(|s| s.str().cloned());
    let parents = frame.column(c::PARENTS).and_then(|s| s.str().cloned());
    let (Ok(shas), Ok(parents)) = (shas, parents) else {
        return Ok(Vec::new());
    };
    Ok(shas
        .iter()
        .zip(parents.iter())
        .filter_map(|(sha, ps)| {
            Some((
                sha?.to_string(),
                ps.unwrap_or_default().split_whitespace().map(str::to_string).collect(),
            ))
        })
        .collect())
}
