//! Incidents from labelled issues, and the deployment each one names as its cause.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{Client, Found, Options, models, parse_time};
use crate::error::Result;
use crate::table::schema::{self, incidents as i, status};
use crate::table::{empty_frame, frame_from};

/// The `cause:` line of an incident's body: a commit sha, `#PR`, or a deployment id.
pub(super) fn cause(body: &str) -> Option<String> {
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

/// The incidents among the repository's issues (`list`): those with an incident label.
pub(super) async fn incidents(
    client: &Client,
    repo: &str,
    options: &Options,
    list: &[models::Issue],
    found: &[Found],
    shipped_by: &BTreeMap<&str, &str>,
) -> Result<(DataFrame, usize)> {
    let issues = list.iter().filter(|i| {
        i.labels
            .iter()
            .any(|l| options.incident_labels.iter().any(|x| x.eq_ignore_ascii_case(&l.name)))
    });
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
            issue.title.clone(),
            issue.html_url.clone(),
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
pub(super) async fn resolve_cause(
    client: &Client,
    repo: &str,
    cause: &str,
    found: &[Found],
    shipped_by: &BTreeMap<&str, &str>,
) -> Result<Option<String>> {
    let by_sha = |sha: &str| -> Option<String> {
        if sha.len() < 7 {
            return None;
        }
        // The first shipped commit in sha order with this prefix: the same on every run.
        shipped_by
            .range(sha..)
            .next()
            .filter(|(s, _)| s.starts_with(sha))
            .map(|(_, d)| (*d).to_string())
            // A commit no successful deployment shipped: the first deployment of it that
            // succeeded, else the first of it at all (`found` is in time order).
            .or_else(|| {
                let of_sha = || found.iter().filter(|f| f.sha.starts_with(sha));
                of_sha()
                    .find(|f| f.status == status::SUCCESS)
                    .or_else(|| of_sha().next())
                    .map(|f| f.id.clone())
            })
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
