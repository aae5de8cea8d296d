//! What one sync found, as frames in the canonical tables' schema.

use polars::prelude::*;

use super::{Found, models, parse_time};
use crate::error::{GithubError, Result};
use crate::table::frame_from;
use crate::table::schema::{self, commits as c, deployment_commits as dc, deployments as d};

pub(super) fn deployments_frame(repo: &str, found: &[Found]) -> Result<DataFrame> {
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
            Column::new(
                d::STARTED_AT.into(),
                found.iter().map(|f| f.started).collect::<Vec<_>>(),
            ),
        ],
    )
}

/// Each commit's AI flag is read from its whole message and its author's name; the merge
/// commits of pull requests labelled AI-assisted (`labelled`) are AI-assisted whatever they say.
pub(super) fn commits_frame(
    repo: &str,
    commits: &[models::Commit],
    assistants: &crate::collect::assistants::Rules,
    labelled: &std::collections::HashSet<String>,
) -> Result<DataFrame> {
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
                .ok_or_else(|| GithubError::CommitWithoutDate {
                    sha: cm.sha.clone(),
                    repo: repo.to_string(),
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
            Column::new(
                c::AI_ASSISTED.into(),
                commits
                    .iter()
                    .map(|cm| {
                        let author = cm.commit.author.as_ref().and_then(|a| a.name.as_deref());
                        labelled.contains(&cm.sha) || assistants.is_ai_assisted(&cm.commit.message, author)
                    })
                    .collect::<Vec<_>>(),
            ),
        ],
    )
}

/// The merge commits of the AI-assisted pull requests (a `pull_requests` frame whose flags
/// [`crate::collect::assistants::with_pull_request_flags`] set from their labels).
pub(super) fn flagged_merges(pulls: &DataFrame) -> Result<std::collections::HashSet<String>> {
    use crate::table::schema::pull_requests as pr;
    let error = |e| crate::error::Error::Polars {
        context: "failed to read the pull requests' AI flags".into(),
        source: e,
    };
    let shas = pulls
        .column(pr::MERGE_SHA)
        .and_then(|c| c.str().cloned())
        .map_err(error)?;
    let flags = pulls
        .column(pr::AI_ASSISTED)
        .and_then(|c| c.bool().cloned())
        .map_err(error)?;
    Ok(shas
        .iter()
        .zip(flags.iter())
        .filter_map(|(sha, flag)| sha.filter(|_| flag == Some(true)).map(str::to_string))
        .collect())
}

pub(super) fn pairs_frame(pairs: &[(String, String)]) -> Result<DataFrame> {
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
