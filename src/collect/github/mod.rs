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
pub mod config;
pub mod models;

use std::collections::{HashMap, HashSet};

use polars::prelude::*;

use super::ancestry::Graph;
use crate::error::{Error, Result};
use crate::table::schema::{
    self, Table, commits as c, deployment_commits as dc, deployments as d, incidents as i, pull_requests as pr, status,
};
use crate::table::{Tables, empty_frame, frame_from};
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
    /// Labels that make an issue an incident (any of them).
    pub incident_labels: Vec<String>,
    /// Nothing older than this is read.
    pub since: Micros,
    pub prereleases: bool,
    pub tags: super::git::TagPattern,
    /// A merged pull request that reverts another marks the deployment that shipped the
    /// reverted change as rolled back.
    pub revert_as_failure: bool,
}

/// What the store already has of a repository.
#[derive(Debug, Default)]
pub struct Known {
    /// `(sha, parents)` of its commits.
    pub commits: Vec<(String, Vec<String>)>,
    pub latest_commit: Option<Micros>,
    /// Commits some deployment already shipped.
    pub shipped: HashSet<String>,
    /// Deployments of the repository in the store, by id: `(sha, deployed_at, status,
    /// environment, url)`. A known deployment's statuses are not fetched again.
    pub deployments: HashMap<String, (String, Micros, String, String, Option<String>)>,
    /// Numbers of the repository's pull requests in the store: not fetched again.
    pub pull_requests: HashSet<String>,
}

/// One repository's rows and counts.
#[derive(Debug)]
pub struct Synced {
    pub repo: String,
    pub branch: String,
    pub commits: usize,
    pub deployments: usize,
    pub incidents: usize,
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

fn parse_time(what: &str, text: &str) -> Result<Micros> {
    timestamp::parse(text, chrono_tz::UTC).ok_or_else(|| Error::Github {
        message: format!("unexpected timestamp {text:?} in {what}"),
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
    let claimed: Vec<&str> = known.shipped.iter().map(String::as_str).collect();
    let assignment = graph.assign_after(&claimed, &shas);
    let mut shipped_by: HashMap<&str, &str> = HashMap::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (f, shipped) in shipping.iter().zip(&assignment) {
        for sha in shipped {
            shipped_by.insert(sha, f.id.as_str());
            pairs.push((f.id.clone(), (*sha).to_string()));
        }
    }

    let (incidents, unknown_causes) = incidents(client, repo, options, &found, &shipped_by).await?;
    let pulls = pull_requests(client, repo, &branch, options.since, &known.pull_requests).await?;
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
    Ok(Synced {
        repo: repo.to_string(),
        branch,
        commits: commits.len(),
        deployments: found.len(),
        incidents: incidents.height(),
        pull_requests: pulls.height(),
        reverted,
        unmapped,
        unknown_causes,
        tables: Tables {
            deployments: deployments_frame(repo, &found)?,
            commits: commits_frame(repo, &commits)?,
            deployment_commits: pairs_frame(&pairs)?,
            incidents,
            pull_requests: pulls,
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

async fn deployments(
    client: &Client,
    repo: &str,
    branch: &str,
    options: &Options,
    commits: &[models::Commit],
    known: &Known,
) -> Result<Vec<Found>> {
    let since = options.since;
    let newer = |what: &str, t: &str| parse_time(what, t).map(|t| t >= since);
    let mut found = Vec::new();
    match &options.source {
        Source::Deployments => {
            let list: Vec<models::Deployment> = client
                .list(
                    &format!("/repos/{repo}/deployments?per_page=100"),
                    |page: &[models::Deployment]| {
                        page.last()
                            .and_then(|d| timestamp::parse(&d.created_at, chrono_tz::UTC))
                            .is_some_and(|t| t >= since)
                    },
                )
                .await?;
            for dep in list {
                let environment = dep.environment.clone().unwrap_or_default();
                if !options.environment.matches(&environment) || !newer("a deployment", &dep.created_at)? {
                    continue;
                }
                let id = deployment_id(repo, "deployment", &dep.id.to_string());
                // A deployment the store has with a terminal status: nothing to ask again.
                if let Some((sha, at, state, env, url)) = known.deployments.get(&id) {
                    found.push(Found {
                        id,
                        sha: sha.clone(),
                        at: *at,
                        environment: env.clone(),
                        status: if state == status::FAILURE {
                            status::FAILURE
                        } else {
                            status::SUCCESS
                        },
                        url: url.clone(),
                    });
                    continue;
                }
                let statuses: Vec<models::DeploymentStatus> = client
                    .list(
                        &format!("/repos/{repo}/deployments/{}/statuses?per_page=100", dep.id),
                        |_: &[models::DeploymentStatus]| true,
                    )
                    .await?;
                // The latest terminal status decides; a deployment still in progress has none.
                let terminal = statuses
                    .iter()
                    .filter(|s| matches!(s.state.as_str(), "success" | "failure" | "error"))
                    .max_by(|a, b| a.created_at.cmp(&b.created_at));
                let Some(s) = terminal else { continue };
                found.push(Found {
                    id,
                    sha: dep.sha,
                    at: parse_time("a deployment status", &s.created_at)?,
                    environment: environment.to_lowercase(),
                    status: if s.state == "success" {
                        status::SUCCESS
                    } else {
                        status::FAILURE
                    },
                    url: s.log_url.clone().or_else(|| s.target_url.clone()),
                });
            }
        }
        Source::Releases => {
            let releases: Vec<models::Release> = client
                .list(
                    &format!("/repos/{repo}/releases?per_page=100"),
                    |page: &[models::Release]| {
                        page.iter().any(|r| {
                            r.published_at
                                .as_deref()
                                .and_then(|t| timestamp::parse(t, chrono_tz::UTC))
                                .is_none_or(|t| t >= since)
                        })
                    },
                )
                .await?;
            let tags = tag_shas(client, repo).await?;
            for r in releases {
                let Some(published) = &r.published_at else { continue };
                if r.draft || (r.prerelease && !options.prereleases) || !newer("a release", published)? {
                    continue;
                }
                let Some(sha) = tags.get(&r.tag_name) else { continue };
                found.push(production(
                    repo,
                    "tag",
                    &r.tag_name,
                    sha,
                    parse_time("a release", published)?,
                ));
            }
        }
        Source::Tags => {
            let dates: HashMap<&str, &str> = commits
                .iter()
                .filter_map(|c| Some((c.sha.as_str(), c.commit.committer.as_ref()?.date.as_deref()?)))
                .collect();
            for (name, sha) in tag_shas(client, repo).await? {
                if !options.tags.matches(&name) {
                    continue;
                }
                // A tag on a commit older than the fetched history is older than --since.
                let Some(committed) = dates.get(sha.as_str()) else {
                    continue;
                };
                let mut at = parse_time("a commit", committed)?;
                let r: models::GitRef = client.get(&format!("/repos/{repo}/git/ref/tags/{name}")).await?;
                if r.object.kind == "tag" {
                    let tag: models::GitTag = client.get(&format!("/repos/{repo}/git/tags/{}", r.object.sha)).await?;
                    if let Some(tagger) = tag.tagger {
                        at = parse_time("a tag", &tagger.date)?;
                    }
                }
                if at >= since {
                    found.push(production(repo, "tag", &name, &sha, at));
                }
            }
        }
        Source::Workflow(workflow) => {
            let date = iso(since).chars().take(10).collect::<String>();
            let runs = client
                .list_wrapped(
                    &format!(
                        "/repos/{repo}/actions/workflows/{workflow}/runs?branch={branch}&status=completed&created=%3E%3D{date}&per_page=100"
                    ),
                    |w: models::WorkflowRuns| w.workflow_runs,
                )
                .await?;
            for run in runs {
                let state = match run.conclusion.as_deref() {
                    Some("success") => status::SUCCESS,
                    Some("failure") => status::FAILURE,
                    // Cancelled, skipped, timed out: nothing reached users.
                    _ => continue,
                };
                if run.status.as_deref().is_some_and(|s| s != "completed") || !newer("a workflow run", &run.updated_at)?
                {
                    continue;
                }
                let mut f = production(
                    repo,
                    "run",
                    &run.id.to_string(),
                    &run.head_sha,
                    parse_time("a workflow run", &run.updated_at)?,
                );
                f.status = state;
                f.url.clone_from(&run.html_url);
                found.push(f);
            }
        }
        Source::MergedPrs => {
            for p in merged_pulls(client, repo, branch, since).await? {
                let (Some(merged), Some(sha)) = (&p.merged_at, &p.merge_commit_sha) else {
                    continue;
                };
                if p.base.branch != branch || !newer("a pull request", merged)? {
                    continue;
                }
                let mut f = production(
                    repo,
                    "pr",
                    &p.number.to_string(),
                    sha,
                    parse_time("a pull request", merged)?,
                );
                f.url.clone_from(&p.html_url);
                found.push(f);
            }
        }
    }
    Ok(found)
}

/// Pull requests closed into `branch` and updated since `since` (newest first), of which the
/// caller keeps the merged ones.
async fn merged_pulls(client: &Client, repo: &str, branch: &str, since: Micros) -> Result<Vec<models::PullRequest>> {
    client
        .list(
            &format!("/repos/{repo}/pulls?state=closed&base={branch}&sort=updated&direction=desc&per_page=100"),
            |page: &[models::PullRequest]| {
                page.last()
                    .and_then(|p| timestamp::parse(&p.updated_at, chrono_tz::UTC))
                    .is_some_and(|t| t >= since)
            },
        )
        .await
}

/// The `pull_requests` rows of the pull requests merged into `branch` since `since`: three
/// requests each (the pull request for its size, its commits for the first commit's time, its
/// reviews for the first review by someone else); unchanged ones answer 304 on a rerun.
async fn pull_requests(
    client: &Client,
    repo: &str,
    branch: &str,
    since: Micros,
    known: &HashSet<String>,
) -> Result<DataFrame> {
    let mut rows = Vec::new();
    for p in merged_pulls(client, repo, branch, since).await? {
        let Some(merged) = p.merged_at.as_deref() else { continue };
        let merged = parse_time("a pull request", merged)?;
        // A merged pull request does not change: one the store has is not asked again.
        if merged < since || p.base.branch != branch || known.contains(&p.number.to_string()) {
            continue;
        }
        let n = p.number;
        let full: models::PullRequest = client.get(&format!("/repos/{repo}/pulls/{n}")).await?;
        let commits: Vec<models::Commit> = client
            .list(
                &format!("/repos/{repo}/pulls/{n}/commits?per_page=100"),
                |_: &[models::Commit]| false,
            )
            .await?;
        let first_commit = commits
            .iter()
            .filter_map(|c| c.commit.author.as_ref()?.date.as_deref())
            .filter_map(|t| timestamp::parse(t, chrono_tz::UTC))
            .min();
        let author = p.user.as_ref().map(|u| u.login.clone());
        let reviews: Vec<models::Review> = client
            .list(
                &format!("/repos/{repo}/pulls/{n}/reviews?per_page=100"),
                |_: &[models::Review]| true,
            )
            .await?;
        let first_review = reviews
            .iter()
            .filter(|r| r.state != "PENDING" && r.user.as_ref().map(|u| &u.login) != author.as_ref())
            .filter_map(|r| r.submitted_at.as_deref())
            .filter_map(|t| timestamp::parse(t, chrono_tz::UTC))
            .min();
        let created = p
            .created_at
            .as_deref()
            .map(|t| parse_time("a pull request", t))
            .transpose()?
            .unwrap_or(merged);
        rows.push((
            n.to_string(),
            p.title.clone(),
            author,
            created,
            first_commit,
            first_review,
            merged,
            p.merge_commit_sha.clone(),
            p.labels.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(","),
            full.additions,
            full.deletions,
        ));
    }
    let n = rows.len();
    if n == 0 {
        return Ok(empty_frame(&schema::PULL_REQUESTS));
    }
    frame_from(
        &schema::PULL_REQUESTS,
        n,
        &[
            Column::new(pr::REPO.into(), vec![repo; n]),
            Column::new(pr::NUMBER.into(), rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>()),
            Column::new(pr::TITLE.into(), rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>()),
            Column::new(pr::AUTHOR.into(), rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>()),
            Column::new(pr::CREATED_AT.into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
            Column::new(pr::FIRST_COMMIT_AT.into(), rows.iter().map(|r| r.4).collect::<Vec<_>>()),
            Column::new(pr::FIRST_REVIEW_AT.into(), rows.iter().map(|r| r.5).collect::<Vec<_>>()),
            Column::new(pr::MERGED_AT.into(), rows.iter().map(|r| Some(r.6)).collect::<Vec<_>>()),
            Column::new(
                pr::MERGE_SHA.into(),
                rows.iter().map(|r| r.7.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                pr::LABELS.into(),
                rows.iter()
                    .map(|r| (!r.8.is_empty()).then(|| r.8.clone()))
                    .collect::<Vec<_>>(),
            ),
            Column::new(pr::ADDITIONS.into(), rows.iter().map(|r| r.9).collect::<Vec<_>>()),
            Column::new(pr::DELETIONS.into(), rows.iter().map(|r| r.10).collect::<Vec<_>>()),
        ],
    )
}

/// The pull request a revert pull request reverts: GitHub's revert button writes
/// `Reverts owner/name#N` in the body.
fn reverts(body: &str) -> Option<u64> {
    body.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("Reverts ")?;
        rest.rsplit_once('#')?.1.trim().parse().ok()
    })
}

/// Deployments that shipped a change a merged pull request since `since` reverted.
async fn reverted_deployments(
    client: &Client,
    repo: &str,
    branch: &str,
    since: Micros,
    shipped_by: &HashMap<&str, &str>,
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for p in merged_pulls(client, repo, branch, since).await? {
        if p.merged_at.is_none() {
            continue;
        }
        let Some(n) = p.body.as_deref().and_then(reverts) else {
            continue;
        };
        let original: models::PullRequest = client.get(&format!("/repos/{repo}/pulls/{n}")).await?;
        if let Some(id) = original.merge_commit_sha.as_deref().and_then(|sha| shipped_by.get(sha)) {
            ids.push((*id).to_string());
        }
    }
    Ok(ids)
}

fn production(repo: &str, kind: &str, key: &str, sha: &str, at: Micros) -> Found {
    Found {
        id: deployment_id(repo, kind, key),
        sha: sha.to_string(),
        at,
        environment: "production".into(),
        status: status::SUCCESS,
        url: None,
    }
}

/// Every tag's commit, by tag name.
async fn tag_shas(client: &Client, repo: &str) -> Result<HashMap<String, String>> {
    let tags: Vec<models::Tag> = client
        .list(&format!("/repos/{repo}/tags?per_page=100"), |_: &[models::Tag]| true)
        .await?;
    Ok(tags.into_iter().map(|t| (t.name, t.commit.sha)).collect())
}

/// The `cause:` line of an incident's body: a commit sha, `#PR`, or a deployment id.
fn cause(body: &str) -> Option<String> {
    body.lines().find_map(|line| {
        let line = line.trim();
        let rest = line
            .strip_prefix("cause:")
            .or_else(|| line.strip_prefix("Cause:"))
            .or_else(|| line.strip_prefix("CAUSE:"))?;
        let value = rest.trim().trim_matches('`');
        (!value.is_empty()).then(|| value.to_string())
    })
}

async fn incidents(
    client: &Client,
    repo: &str,
    options: &Options,
    found: &[Found],
    shipped_by: &HashMap<&str, &str>,
) -> Result<(DataFrame, usize)> {
    let mut issues: Vec<models::Issue> = Vec::new();
    for label in &options.incident_labels {
        let list: Vec<models::Issue> = client
            .list(
                &format!(
                    "/repos/{repo}/issues?state=all&labels={}&since={}&per_page=100",
                    label.replace(' ', "%20"),
                    iso(options.since)
                ),
                |_: &[models::Issue]| true,
            )
            .await?;
        issues.extend(list);
    }
    // The issues endpoint returns pull requests too; an issue with two labels comes twice.
    let mut seen = HashSet::new();
    issues.retain(|i| i.pull_request.is_none() && seen.insert(i.number));

    let mut rows = Vec::new();
    let mut unknown = 0;
    for issue in issues {
        let named = issue.body.as_deref().and_then(cause);
        let deployment = match &named {
            None => None,
            Some(c) => {
                let resolved = resolve_cause(client, repo, c, found, shipped_by).await?;
                if resolved.is_none() {
                    unknown += 1;
                }
                resolved
            }
        };
        rows.push((
            format!("{repo}#{}", issue.number),
            parse_time("an issue", &issue.created_at)?,
            issue
                .closed_at
                .as_deref()
                .map(|t| parse_time("an issue", t))
                .transpose()?,
            deployment,
            issue.title,
            issue.html_url,
        ));
    }
    let n = rows.len();
    if n == 0 {
        return Ok((empty_frame(&schema::INCIDENTS), unknown));
    }
    let frame = frame_from(
        &schema::INCIDENTS,
        n,
        &[
            Column::new(i::ID.into(), rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>()),
            Column::new(i::REPO.into(), vec![repo; n]),
            Column::new(i::CREATED_AT.into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            Column::new(i::RESOLVED_AT.into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            Column::new(
                i::DEPLOYMENT_ID.into(),
                rows.iter().map(|r| r.3.clone()).collect::<Vec<_>>(),
            ),
            Column::new(i::TITLE.into(), rows.iter().map(|r| r.4.as_str()).collect::<Vec<_>>()),
            Column::new(i::URL.into(), rows.iter().map(|r| r.5.clone()).collect::<Vec<_>>()),
        ],
    )?;
    Ok((frame, unknown))
}

/// The deployment an incident's `cause:` names: the one that shipped a commit (full or short
/// sha) or a pull request's merge commit, or a deployment by id.
async fn resolve_cause(
    client: &Client,
    repo: &str,
    cause: &str,
    found: &[Found],
    shipped_by: &HashMap<&str, &str>,
) -> Result<Option<String>> {
    let by_sha = |sha: &str| -> Option<String> {
        if sha.len() < 7 {
            return None;
        }
        shipped_by
            .iter()
            .find(|(s, _)| s.starts_with(sha))
            .map(|(_, d)| (*d).to_string())
            .or_else(|| found.iter().find(|f| f.sha.starts_with(sha)).map(|f| f.id.clone()))
    };
    if let Some(number) = cause.strip_prefix('#').and_then(|n| n.parse::<u64>().ok()) {
        let pull: models::PullRequest = client.get(&format!("/repos/{repo}/pulls/{number}")).await?;
        return Ok(pull.merge_commit_sha.as_deref().and_then(by_sha));
    }
    if let Some(f) = found
        .iter()
        .find(|f| f.id == cause || f.id.ends_with(&format!("-{cause}")) || f.id.ends_with(&format!("@{cause}")))
    {
        return Ok(Some(f.id.clone()));
    }
    if cause.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(by_sha(&cause.to_lowercase()));
    }
    Ok(None)
}

fn deployments_frame(repo: &str, found: &[Found]) -> Result<DataFrame> {
    let n = found.len();
    frame_from(
        &schema::DEPLOYMENTS,
        n,
        &[
            Column::new(d::ID.into(), found.iter().map(|f| f.id.as_str()).collect::<Vec<_>>()),
            Column::new(d::REPO.into(), vec![repo; n]),
            Column::new(d::DEPLOYED_AT.into(), found.iter().map(|f| f.at).collect::<Vec<_>>()),
            Column::new(
                d::ENVIRONMENT.into(),
                found.iter().map(|f| f.environment.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(d::STATUS.into(), found.iter().map(|f| f.status).collect::<Vec<_>>()),
            Column::new(d::SHA.into(), found.iter().map(|f| f.sha.as_str()).collect::<Vec<_>>()),
            Column::new(d::URL.into(), found.iter().map(|f| f.url.clone()).collect::<Vec<_>>()),
        ],
    )
}

fn commits_frame(repo: &str, commits: &[models::Commit]) -> Result<DataFrame> {
    let n = commits.len();
    let mut committed = Vec::with_capacity(n);
    let mut authored = Vec::with_capacity(n);
    for cm in commits {
        let date = |p: &Option<models::GitPerson>| {
            p.as_ref()
                .and_then(|p| p.date.as_deref())
                .map(|t| parse_time("a commit", t))
        };
        committed.push(
            date(&cm.commit.committer)
                .or_else(|| date(&cm.commit.author))
                .ok_or_else(|| Error::Github {
                    message: format!("commit {} of {repo} has no date", cm.sha),
                })??,
        );
        authored.push(date(&cm.commit.author).transpose()?);
    }
    frame_from(
        &schema::COMMITS,
        n,
        &[
            Column::new(c::REPO.into(), vec![repo; n]),
            Column::new(
                c::SHA.into(),
                commits.iter().map(|cm| cm.sha.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(c::COMMITTED_AT.into(), committed),
            Column::new(c::AUTHORED_AT.into(), authored),
            Column::new(
                c::AUTHOR.into(),
                commits
                    .iter()
                    .map(|cm| cm.commit.author.as_ref().and_then(|a| a.name.clone()))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                c::MESSAGE.into(),
                commits
                    .iter()
                    .map(|cm| cm.commit.message.lines().next().unwrap_or_default())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                c::PARENTS.into(),
                commits
                    .iter()
                    .map(|cm| cm.parents.iter().map(|p| p.sha.as_str()).collect::<Vec<_>>().join(" "))
                    .collect::<Vec<_>>(),
            ),
        ],
    )
}

fn pairs_frame(pairs: &[(String, String)]) -> Result<DataFrame> {
    frame_from(
        &schema::DEPLOYMENT_COMMITS,
        pairs.len(),
        &[
            Column::new(
                dc::DEPLOYMENT_ID.into(),
                pairs.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(dc::SHA.into(), pairs.iter().map(|p| p.1.as_str()).collect::<Vec<_>>()),
        ],
    )
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
        .select([col(dc::SHA)])
        .collect()
        .map_err(polars)?;
    let shipped = shipped
        .column(dc::SHA)
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|c| c.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default();
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
        ])
        .collect()
        .map_err(polars)?;
    let text = |name: &str| stored.column(name).ok().and_then(|c| c.str().ok().cloned());
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
                    (
                        sha.to_string(),
                        at,
                        state.to_string(),
                        envs.get(row).unwrap_or_default().to_string(),
                        urls.as_ref().and_then(|u| u.get(row)).map(str::to_string),
                    ),
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
    Ok(Known {
        commits,
        latest_commit,
        shipped,
        deployments,
        pull_requests,
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
