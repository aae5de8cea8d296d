//! The pull requests merged into the default branch, with the times of their stages (first
//! commit, opened, first review, merged).

use std::collections::HashSet;

use polars::prelude::*;

use super::{Client, models, parse_time};
use crate::error::Result;
use crate::table::schema::{self, pull_requests as pr};
use crate::table::{empty_frame, frame_from};
use crate::timestamp::{self, Micros};

/// Pull requests closed into `branch` and updated since `since` (newest first), of which the
/// caller keeps the merged ones.
pub(super) async fn merged_pulls(
    client: &Client,
    repo: &str,
    branch: &str,
    since: Micros,
) -> Result<Vec<models::PullRequest>> {
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
/// reviews for the first review by someone else); unchanged ones answer 304 on a rerun. Also the
/// issues each one closes by a keyword in its title or description, linked to its commits and
/// its merge commit.
pub(super) async fn pull_requests(
    client: &Client,
    repo: &str,
    branch: &str,
    since: Micros,
    known: &HashSet<String>,
) -> Result<(DataFrame, Vec<(String, String)>)> {
    let mut rows = Vec::new();
    let mut links = Vec::new();
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
        let text = format!("{}\n{}", p.title, p.body.as_deref().unwrap_or_default());
        for id in crate::collect::closing::references(&text, repo) {
            let shas = commits.iter().map(|c| c.sha.clone()).chain(p.merge_commit_sha.clone());
            links.extend(shas.map(|sha| (id.clone(), sha)));
        }
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
        return Ok((empty_frame(&schema::PULL_REQUESTS), links));
    }
    let frame = frame_from(
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
    )?;
    Ok((frame, links))
}
