//! The GitHub collector: deployments, commits (with what each deployment shipped, by ancestry),
//! and incidents from the REST API, into the canonical tables.
//!
//! Per repository, one sync reads the default branch's history since the cursor (100 commits a
//! request), the deployments from the chosen source, and the incident issues, then assigns
//! commits to deployments locally with the same graph code as the git collector
//! ([`crate::collect::ancestry`]). Only a deployed commit that is not on the fetched history (a
//! release or hotfix branch) costs a compare request. A rerun starts from what the store has,
//! and asks again with `If-None-Match`: an unchanged list answers 304, which GitHub does not count
//! against the rate limit.

pub mod client;
mod deployments;
mod frames;
mod incidents;
mod issues;
pub mod models;
mod pull_requests;
pub mod token;

use deployments::{deployments, reverted_deployments};
use frames::{commits_frame, deployments_frame, pairs_frame};
use incidents::incidents;
use pull_requests::pull_requests;

use std::collections::{BTreeMap, HashMap, HashSet};

use polars::prelude::*;

use super::ancestry::Graph;
use crate::error::{Error, GithubError, Result};
use crate::table::Tables;
use crate::table::schema::{self, Table, commits as c, deployment_commits as dc, deployments as d, status};
use crate::timestamp::{self, Micros};
pub use client::Client;

/// Where a repository's deployments come from (`--deployments-from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The Deployments API; status from the latest terminal deployment status.
    Deployments,
    /// Published, non-draft releases.
    Releases,
    /// Tags matching the tag pattern.
    Tags,
    /// Runs of a GitHub Actions workflow (file name or id) on the default branch.
    Workflow(String),
    /// Each pull request merged into the default branch.
    MergedPrs,
}

impl Source {
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        Ok(match text {
            "deployments" => Source::Deployments,
            "releases" => Source::Releases,
            "tags" => Source::Tags,
            "merged-prs" => Source::MergedPrs,
            _ => match text.strip_prefix("workflow:") {
                Some(w) if !w.is_empty() => Source::Workflow(w.to_string()),
                _ => {
                    return Err("deployments, releases, tags, workflow:<file or id> or merged-prs".to_string());
                }
            },
        })
    }
}

/// What to read.
#[derive(Debug, Clone)]
pub struct Options {
    pub source: Source,
    /// Environments that count (`--environment`, a glob; `production` by default).
    pub environment: glob::Pattern,
    /// Environments that are a production rollout's first stage (`--canary-environment`).
    pub canary_environment: Option<glob::Pattern>,
    /// Labels that make an issue an incident (any of them).
    pub incident_labels: Vec<String>,
    /// Labels that make an issue a bug report, and a feature request (any of them; the issue
    /// types Bug and Feature count too).
    pub bug_labels: Vec<String>,
    pub feature_labels: Vec<String>,
    /// Nothing older than this is read.
    pub since: Micros,
    pub prereleases: bool,
    pub tags: super::git::TagPattern,
    /// A merged pull request that reverts another marks the deployment that shipped the
    /// reverted change as rolled back.
    pub revert_as_failure: bool,
    /// How AI-assisted commits are recognised in their messages, and pull requests by their
    /// labels (which mark their merge commits too).
    pub assistants: super::assistants::Rules,
}

/// What the store already has of a repository.
#[derive(Debug, Default)]
pub struct Known {
    /// `(sha, parents)` of its commits.
    pub commits: Vec<(String, Vec<String>)>,
    pub latest_commit: Option<Micros>,
    /// Commits some deployment already shipped, and that deployment (its id). Ordered, so that
    /// a short sha naming several commits resolves the same way on every run.
    pub shipped: BTreeMap<String, String>,
    /// Deployments of the repository in the store, by id. A known deployment's statuses are not
    /// fetched again.
    pub deployments: HashMap<String, KnownDeployment>,
    /// Numbers of the repository's pull requests in the store: not fetched again.
    pub pull_requests: HashSet<String>,
    /// Ids of the repository's issues the store has closed: their events are not asked again.
    pub closed_issues: HashSet<String>,
}

/// A deployment the store has.
#[derive(Debug, Clone)]
pub struct KnownDeployment {
    pub sha: String,
    pub deployed_at: Micros,
    pub status: String,
    pub environment: String,
    pub url: Option<String>,
    pub started_at: Option<Micros>,
}

/// One repository's rows and counts.
#[derive(Debug)]
pub struct Synced {
    pub repo: String,
    pub branch: String,
    pub commits: usize,
    pub deployments: usize,
    pub incidents: usize,
    /// Bug reports and feature requests.
    pub issues: usize,
    pub pull_requests: usize,
    /// Deployments marked rolled back because a pull request reverted their change.
    pub reverted: usize,
    /// Deployments whose commits could not be found (no earlier deployment to compare with).
    pub unmapped: usize,
    /// Incidents whose `cause:` line named nothing known.
    pub unknown_causes: usize,
    pub tables: Tables<DataFrame>,
}

fn iso(us: Micros) -> String {
    timestamp::format_utc(us)
}

fn parse_time(what: &'static str, text: &str) -> Result<Micros> {
    timestamp::parse(text, chrono_tz::UTC).ok_or_else(|| {
        GithubError::BadTimestamp {
            text: text.to_string(),
            what,
        }
        .into()
    })
}

/// A repository's deployment id for a GitHub object: `owner/name#deployment-42`,
/// `owner/name#run-7`, `owner/name#pr-12`; releases and tags use `owner/name@tag` like the git
/// collector, so both collectors name a tag's deployment the same way.
fn deployment_id(repo: &str, kind: &str, key: &str) -> String {
    if kind == "tag" {
        format!("{repo}@{key}")
    } else {
        format!("{repo}#{kind}-{key}")
    }
}

/// A deployment as read, before commits are assigned.
#[derive(Debug, Clone)]
struct Found {
    id: String,
    sha: String,
    at: Micros,
    environment: String,
    status: &'static str,
    /// A link for people (the deployment's log, the release, the run, the pull request).
    url: Option<String>,
    /// When its rollout first reached users: the creation of the canary deployment of its sha.
    started: Option<Micros>,
}

/// Syncs one repository (`owner/name`).
pub async fn sync(client: &Client, repo: &str, options: &Options, known: &Known) -> Result<Synced> {
    let info: models::Repository = client.get(&format!("/repos/{repo}")).await?;
    let branch = info.default_branch.unwrap_or_else(|| "main".into());

    // The history since the cursor: a day of overlap covers commits pushed late.
    let from = known
        .latest_commit
        .map_or(options.since, |t| (t - timestamp::MICROS_PER_DAY).max(options.since));
    let mut commits: Vec<models::Commit> = client
        .list(
            &format!("/repos/{repo}/commits?sha={branch}&since={}&per_page=100", iso(from)),
            |_: &[models::Commit]| true,
        )
        .await?;

    let mut found = deployments(client, repo, &branch, options, &commits, known).await?;
    found.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));

    // Deployed commits that are not on the fetched history: compare with the deployment before.
    let on_branch: HashSet<String> = commits
        .iter()
        .map(|c| c.sha.clone())
        .chain(known.commits.iter().map(|(s, _)| s.clone()))
        .collect();
    let mut unmapped = 0;
    let mut previous: Option<&str> = None;
    let mut extra = Vec::new();
    for f in found.iter().filter(|f| f.status == status::SUCCESS) {
        if !on_branch.contains(&f.sha) {
            match previous {
                Some(base) => {
                    extra.extend(compare(client, repo, base, &f.sha).await?);
                }
                None => unmapped += 1,
            }
        }
        previous = Some(&f.sha);
    }
    commits.extend(extra);
    let mut seen = HashSet::new();
    commits.retain(|c| seen.insert(c.sha.clone()));

    let graph = Graph::new(
        known
            .commits
            .iter()
            .map(|(s, ps)| (s.as_str(), ps.iter().map(String::as_str).collect()))
            .chain(
                commits
                    .iter()
                    .map(|c| (c.sha.as_str(), c.parents.iter().map(|p| p.sha.as_str()).collect())),
            ),
    );
    let shipping: Vec<&Found> = found.iter().filter(|f| f.status == status::SUCCESS).collect();
    let shas: Vec<&str> = shipping.iter().map(|f| f.sha.as_str()).collect();
    let claimed: Vec<&str> = known.shipped.keys().map(String::as_str).collect();
    let assignment = graph.assign_after(&claimed, &shas);
    // Which deployment shipped each commit: the store's answer for what earlier runs assigned,
    // this run's for the rest. Causes and reverts are looked up in both, so a rerun (which
    // assigns only new commits) finds the same deployment as the run that stored it.
    let mut shipped_by: BTreeMap<&str, &str> = known.shipped.iter().map(|(s, d)| (s.as_str(), d.as_str())).collect();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (f, shipped) in shipping.iter().zip(&assignment) {
        for sha in shipped {
            shipped_by.insert(sha, f.id.as_str());
            pairs.push((f.id.clone(), (*sha).to_string()));
        }
    }

    let issue_list = issues::list(client, repo, options.since).await?;
    let (incidents, unknown_causes) = incidents(client, repo, options, &issue_list, &found, &shipped_by).await?;
    let (reports, mut links) = issues::reports(client, repo, options, &issue_list, &known.closed_issues).await?;
    let (pulls, pull_links) = pull_requests(client, repo, &branch, options.since, &known.pull_requests).await?;
    // Links from the pull requests' closing keywords and the commits' messages.
    let mut derived = pull_links;
    derived.extend(crate::collect::closing::links(
        commits
            .iter()
            .map(|c| (repo, c.sha.as_str(), c.commit.message.as_str())),
    ));
    let mut seen: HashSet<(String, String)> = HashSet::new();
    derived.retain(|link| seen.insert(link.clone()));
    links
        .vstack_mut(&crate::collect::closing::frame(&derived)?)
        .map_err(|e| Error::Polars {
            context: format!("failed to gather the issue links of {repo}"),
            source: e,
        })?;
    let reverted_ids = if options.revert_as_failure {
        reverted_deployments(client, repo, &branch, options.since, &shipped_by).await?
    } else {
        Vec::new()
    };
    let mut reverted = 0;
    for id in reverted_ids {
        if let Some(f) = found.iter_mut().find(|f| f.id == id && f.status == status::SUCCESS) {
            f.status = status::ROLLED_BACK;
            reverted += 1;
        }
    }
    let pulls = super::assistants::with_pull_request_flags(pulls, &options.assistants)?;
    Ok(Synced {
        repo: repo.to_string(),
        branch,
        commits: commits.len(),
        deployments: found.len(),
        incidents: incidents.height(),
        issues: reports.height(),
        pull_requests: pulls.height(),
        reverted,
        unmapped,
        unknown_causes,
        tables: Tables {
            deployments: deployments_frame(repo, &found)?,
            commits: commits_frame(repo, &commits, &options.assistants, &frames::flagged_merges(&pulls)?)?,
            deployment_commits: pairs_frame(&pairs)?,
            incidents,
            pull_requests: pulls,
            issues: reports,
            issue_commits: links,
        },
    })
}

async fn compare(client: &Client, repo: &str, base: &str, head: &str) -> Result<Vec<models::Commit>> {
    // A comparison lists at most 250 commits a page; pages follow `Link` like any list.
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let c: models::Comparison = client
            .get(&format!(
                "/repos/{repo}/compare/{base}...{head}?per_page=100&page={page}"
            ))
            .await?;
        let n = c.commits.len();
        all.extend(c.commits);
        if n == 0 || all.len() as u64 >= c.total_commits {
            break;
        }
        page += 1;
    }
    Ok(all)
}

/// What the store has of `repo`, for an incremental sync.
pub fn known(tables: &Tables, repo: &str) -> Result<Known> {
    let polars = |e: PolarsError| Error::Polars {
        context: format!("failed to read the store's rows of {repo}"),
        source: e,
    };
    let commits = super::git::known_commits(tables, repo)?;
    let latest = tables
        .commits
        .clone()
        .filter(col(c::REPO).eq(lit(repo.to_string())))
        .select([col(c::COMMITTED_AT).cast(DataType::Int64).max().alias("t")])
        .collect()
        .map_err(polars)?;
    let latest_commit = latest
        .column("t")
        .ok()
        .and_then(|c| c.get(0).ok())
        .and_then(|v| v.extract::<i64>());
    let prefix = format!("{repo}#");
    let tag_prefix = format!("{repo}@");
    let shipped = tables
        .deployment_commits
        .clone()
        .filter(
            col(dc::DEPLOYMENT_ID)
                .str()
                .starts_with(lit(prefix))
                .or(col(dc::DEPLOYMENT_ID).str().starts_with(lit(tag_prefix))),
        )
        .select([col(dc::SHA), col(dc::DEPLOYMENT_ID)])
        .collect()
        .map_err(polars)?;
    let shipped = match (
        shipped.column(dc::SHA).and_then(|c| c.str().cloned()),
        shipped.column(dc::DEPLOYMENT_ID).and_then(|c| c.str().cloned()),
    ) {
        (Ok(shas), Ok(ids)) => shas
            .iter()
            .zip(ids.iter())
            .filter_map(|(sha, id)| Some((sha?.to_string(), id?.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    };
    let stored = tables
        .deployments
        .clone()
        .filter(
            col(d::REPO)
                .eq(lit(repo.to_string()))
                .and(col(d::ID).str().starts_with(lit(format!("{repo}#deployment-")))),
        )
        .select([
            col(d::ID),
            col(d::SHA),
            col(d::DEPLOYED_AT).cast(DataType::Int64),
            col(d::STATUS),
            col(d::ENVIRONMENT),
            col(d::URL),
            col(d::STARTED_AT).cast(DataType::Int64),
        ])
        .collect()
        .map_err(polars)?;
    let text = |name: &str| stored.column(name).ok().and_then(|c| c.str().ok().cloned());
    let started = stored.column(d::STARTED_AT).ok().and_then(|c| c.i64().ok().cloned());
    let mut deployments = HashMap::new();
    let urls = text(d::URL);
    if let (Some(ids), Some(shas), Some(states), Some(envs), Ok(ats)) = (
        text(d::ID),
        text(d::SHA),
        text(d::STATUS),
        text(d::ENVIRONMENT),
        stored.column(d::DEPLOYED_AT).and_then(|c| c.i64().cloned()),
    ) {
        for row in 0..stored.height() {
            if let (Some(id), Some(sha), Some(at), Some(state)) =
                (ids.get(row), shas.get(row), ats.get(row), states.get(row))
            {
                deployments.insert(
                    id.to_string(),
                    KnownDeployment {
                        sha: sha.to_string(),
                        deployed_at: at,
                        status: state.to_string(),
                        environment: envs.get(row).unwrap_or_default().to_string(),
                        url: urls.as_ref().and_then(|u| u.get(row)).map(str::to_string),
                        started_at: started.as_ref().and_then(|s| s.get(row)),
                    },
                );
            }
        }
    }
    let numbers = tables
        .pull_requests
        .clone()
        .filter(col(crate::table::schema::pull_requests::REPO).eq(lit(repo.to_string())))
        .select([col(crate::table::schema::pull_requests::NUMBER)])
        .collect()
        .map_err(polars)?;
    let pull_requests = numbers
        .column(crate::table::schema::pull_requests::NUMBER)
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|c| c.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default();
    let closed = tables
        .issues
        .clone()
        .filter(
            col(schema::issues::REPO)
                .eq(lit(repo.to_string()))
                .and(col(schema::issues::CLOSED_AT).is_not_null()),
        )
        .select([col(schema::issues::ID)])
        .collect()
        .map_err(polars)?;
    let closed_issues = closed
        .column(schema::issues::ID)
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|c| c.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default();
    Ok(Known {
        commits,
        latest_commit,
        shipped,
        deployments,
        pull_requests,
        closed_issues,
    })
}

/// The repositories of an organization that are not archived, minus `exclude` globs.
pub async fn org_repositories(client: &Client, org: &str, exclude: &[glob::Pattern]) -> Result<Vec<String>> {
    let repos: Vec<models::Repository> = client
        .list(
            &format!("/orgs/{org}/repos?type=all&per_page=100"),
            |_: &[models::Repository]| true,
        )
        .await?;
    Ok(repos
        .into_iter()
        .filter(|r| !r.archived)
        .map(|r| r.full_name)
        .filter(|name| {
            !exclude
                .iter()
                .any(|p| p.matches(name) || name.split('/').nth(1).is_some_and(|n| p.matches(n)))
        })
        .collect())
}

/// Every canonical table the collector writes; incidents only when it read some.
pub fn tables_written(with_incidents: bool) -> Vec<&'static Table> {
    let mut t = vec![&schema::DEPLOYMENTS, &schema::COMMITS, &schema::DEPLOYMENT_COMMITS];
    if with_incidents {
        t.push(&schema::INCIDENTS);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::deployments::reverts;
    use super::incidents::cause;
    use super::*;

    #[test]
    fn causes() {
        assert_eq!(cause("Checkout broke.\ncause: 1a2b3c4d\nmore"), Some("1a2b3c4d".into()));
        assert_eq!(cause("Cause: #42"), Some("#42".into()));
        assert_eq!(cause("cause: `acme/api@v1.2.0`"), Some("acme/api@v1.2.0".into()));
        assert_eq!(cause("no cause here"), None);
        assert_eq!(cause("cause:   "), None);
    }

    #[test]
    fn revert_bodies() {
        assert_eq!(reverts("Reverts acme/api#42\n\nBroke login."), Some(42));
        assert_eq!(reverts("Revert \"Feature\""), None);
    }

    #[test]
    fn sources() {
        assert_eq!(
            Source::parse("workflow:deploy.yml"),
            Ok(Source::Workflow("deploy.yml".into()))
        );
        assert_eq!(Source::parse("merged-prs"), Ok(Source::MergedPrs));
        assert!(Source::parse("workflow:").is_err());
        assert!(Source::parse("pushes").is_err());
    }
}
