//! A repository's production deployments, from the source it was told to read: the Deployments
//! API, releases, tags, workflow runs or merged pull requests; reverts mark the deployment they
//! undo as rolled back.

use std::collections::{BTreeMap, HashMap};

use super::pull_requests::merged_pulls;
use super::{Client, Found, Known, Options, Source, deployment_id, iso, models, parse_time};
use crate::error::Result;
use crate::table::schema::status;
use crate::timestamp::{self, Micros};

pub(super) async fn deployments(
    client: &Client,
    repo: &str,
    branch: &str,
    options: &Options,
    commits: &[models::Commit],
    known: &Known,
) -> Result<Vec<Found>> {
    let since = options.since;
    let newer = |what: &'static str, t: &str| parse_time(what, t).map(|t| t >= since);
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
            let mut canaries = Vec::new();
            for dep in list {
                let environment = dep.environment.clone().unwrap_or_default();
                let canary = options
                    .canary_environment
                    .as_ref()
                    .is_some_and(|c| c.matches(&environment));
                if !(canary || options.environment.matches(&environment)) || !newer("a deployment", &dep.created_at)? {
                    continue;
                }
                let id = deployment_id(repo, "deployment", &dep.id.to_string());
                let created = parse_time("a deployment", &dep.created_at)?;
                // A deployment the store has with a terminal status: nothing to ask again.
                if let Some(k) = known.deployments.get(&id) {
                    let state = match k.status.as_str() {
                        status::FAILURE => status::FAILURE,
                        status::ABORTED => status::ABORTED,
                        _ => status::SUCCESS,
                    };
                    let f = Found {
                        id,
                        sha: k.sha.clone(),
                        at: k.deployed_at,
                        environment: k.environment.clone(),
                        status: state,
                        url: k.url.clone(),
                        started: k.started_at,
                    };
                    if state == status::ABORTED {
                        // An aborted canary, stored as the production rollout it stopped.
                        canaries.push((created, f, true));
                    } else {
                        found.push(f);
                    }
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
                let f = Found {
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
                    started: None,
                };
                if canary {
                    canaries.push((created, f, false));
                } else {
                    found.push(f);
                }
            }
            let aborted = rollouts(&mut found, canaries, options);
            found.extend(aborted);
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

/// The pull request a revert pull request reverts: GitHub's revert button writes
/// `Reverts owner/name#N` in the body.
pub(super) fn reverts(body: &str) -> Option<u64> {
    body.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("Reverts ")?;
        rest.rsplit_once('#')?.1.trim().parse().ok()
    })
}

/// Deployments that shipped a change a merged pull request since `since` reverted.
pub(super) async fn reverted_deployments(
    client: &Client,
    repo: &str,
    branch: &str,
    since: Micros,
    shipped_by: &BTreeMap<&str, &str>,
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

pub(super) fn production(repo: &str, kind: &str, key: &str, sha: &str, at: Micros) -> Found {
    Found {
        id: deployment_id(repo, kind, key),
        sha: sha.to_string(),
        at,
        environment: "production".into(),
        status: status::SUCCESS,
        url: None,
        started: None,
    }
}

/// Rollouts from canary deployments (`--canary-environment`): a production deployment of a sha a
/// canary deployed before it started at that canary's creation; a canary that failed, with no
/// production deployment of its sha before the next canary, is a production rollout `aborted`
/// when it failed (returned, to add). Canaries are `(created, deployment, already aborted)`.
fn rollouts(found: &mut [Found], mut canaries: Vec<(Micros, Found, bool)>, options: &Options) -> Vec<Found> {
    canaries.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    for f in found.iter_mut() {
        f.started = canaries
            .iter()
            .filter(|(created, c, _)| c.sha == f.sha && *created <= f.at)
            .map(|(created, _, _)| *created)
            .max();
    }
    // The environment aborted rollouts count in: `--environment` when it names one, else that
    // of the latest production deployment, else `production`.
    let production = if options.environment.as_str().contains(['*', '?', '[']) {
        found
            .iter()
            .max_by_key(|f| f.at)
            .map_or_else(|| "production".to_string(), |f| f.environment.clone())
    } else {
        options.environment.as_str().to_lowercase()
    };
    let mut aborted = Vec::new();
    for (n, (created, canary, stored)) in canaries.iter().enumerate() {
        if *stored {
            aborted.push(canary.clone());
            continue;
        }
        if canary.status != status::FAILURE {
            continue;
        }
        let until = canaries.get(n + 1).map_or(Micros::MAX, |(next, _, _)| *next);
        let promoted = found
            .iter()
            .any(|f| f.sha == canary.sha && f.at >= *created && f.at < until);
        if !promoted {
            aborted.push(Found {
                environment: production.clone(),
                status: status::ABORTED,
                started: Some(*created),
                ..canary.clone()
            });
        }
    }
    aborted
}

/// Every tag's commit, by tag name.
pub(super) async fn tag_shas(client: &Client, repo: &str) -> Result<HashMap<String, String>> {
    let tags: Vec<models::Tag> = client
        .list(&format!("/repos/{repo}/tags?per_page=100"), |_: &[models::Tag]| true)
        .await?;
    Ok(tags.into_iter().map(|t| (t.name, t.commit.sha)).collect())
}
