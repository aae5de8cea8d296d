//! Users' reports: the repository's issues labelled as bugs or feature requests (or of the
//! issue type Bug or Feature), and the commits that closed them.
//!
//! One list of the repository's issues (shared with the incidents, which are filtered from the
//! same list) and, for each bug or feature closed as completed that the store does not have
//! closed yet, its events: the `closed` event names the commit that closed it (`commit_id`),
//! when a commit or a merged pull request did. Pull requests' closing keywords and commit
//! messages link the rest without a request ([`crate::collect::closing`]).

use std::collections::HashSet;

use polars::prelude::*;

use super::{Client, Options, iso, models, parse_time};
use crate::error::Result;
use crate::table::schema::{self, issue_kind, issues as i};
use crate::table::{empty_frame, frame_from};

/// Every issue of `repo` updated since `since` (pull requests left out), newest first.
pub(super) async fn list(client: &Client, repo: &str, since: crate::timestamp::Micros) -> Result<Vec<models::Issue>> {
    let mut issues: Vec<models::Issue> = client
        .list(
            &format!("/repos/{repo}/issues?state=all&since={}&per_page=100", iso(since)),
            |_: &[models::Issue]| true,
        )
        .await?;
    // The issues endpoint returns pull requests too.
    let mut seen = HashSet::new();
    issues.retain(|i| i.pull_request.is_none() && seen.insert(i.number));
    Ok(issues)
}

/// The kind of a user's report, from its labels and issue type; `None`: not a report dora
/// counts (an incident, a chore).
fn kind(issue: &models::Issue, options: &Options) -> Option<&'static str> {
    let labelled = |labels: &[String]| {
        issue
            .labels
            .iter()
            .any(|l| labels.iter().any(|x| x.eq_ignore_ascii_case(&l.name)))
    };
    let typed = |name: &str| {
        issue
            .issue_type
            .as_ref()
            .is_some_and(|t| t.name.eq_ignore_ascii_case(name))
    };
    if typed("bug") || labelled(&options.bug_labels) {
        Some(issue_kind::BUG)
    } else if typed("feature") || labelled(&options.feature_labels) {
        Some(issue_kind::FEATURE)
    } else {
        None
    }
}

/// The rows of `issues` and `issue_commits` of the reports among `list`; `closed_known`: ids
/// of issues the store has closed already (their events are not asked again). Also returns how
/// many events requests were made.
pub(super) async fn reports(
    client: &Client,
    repo: &str,
    options: &Options,
    list: &[models::Issue],
    closed_known: &HashSet<String>,
) -> Result<(DataFrame, DataFrame)> {
    let mut rows = Vec::new();
    let mut links: Vec<(String, String)> = Vec::new();
    for issue in list {
        let Some(kind) = kind(issue, options) else { continue };
        let id = format!("{repo}#{}", issue.number);
        let closed = issue
            .closed_at
            .as_deref()
            .map(|t| parse_time("an issue", t))
            .transpose()?;
        let reason = issue.state_reason.clone().filter(|r| !r.is_empty());
        if closed.is_some() && reason.as_deref() != Some("not_planned") && !closed_known.contains(&id) {
            let events: Vec<models::IssueEvent> = client
                .list(
                    &format!("/repos/{repo}/issues/{}/events?per_page=100", issue.number),
                    |_: &[models::IssueEvent]| true,
                )
                .await?;
            for e in events.iter().filter(|e| e.event == "closed") {
                if let Some(sha) = &e.commit_id {
                    links.push((id.clone(), sha.clone()));
                }
            }
        }
        rows.push((
            id,
            parse_time("an issue", &issue.created_at)?,
            closed,
            kind,
            reason,
            issue.title.clone(),
            issue.html_url.clone(),
            issue
                .labels
                .iter()
                .map(|l| l.name.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ));
    }
    let n = rows.len();
    let issues = if n == 0 {
        empty_frame(&schema::ISSUES)
    } else {
        frame_from(
            &schema::ISSUES,
            n,
            &[
                Column::new(i::ID.into(), rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>()),
                Column::new(i::REPO.into(), vec![repo; n]),
                Column::new(i::CREATED_AT.into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
                Column::new(i::CLOSED_AT.into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
                Column::new(i::KIND.into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
                Column::new(
                    i::STATE_REASON.into(),
                    rows.iter().map(|r| r.4.clone()).collect::<Vec<_>>(),
                ),
                Column::new(i::TITLE.into(), rows.iter().map(|r| r.5.as_str()).collect::<Vec<_>>()),
                Column::new(i::URL.into(), rows.iter().map(|r| r.6.clone()).collect::<Vec<_>>()),
                Column::new(
                    i::LABELS.into(),
                    rows.iter()
                        .map(|r| (!r.7.is_empty()).then(|| r.7.clone()))
                        .collect::<Vec<_>>(),
                ),
            ],
        )?
    };
    Ok((issues, crate::collect::closing::frame(&links)?))
}
