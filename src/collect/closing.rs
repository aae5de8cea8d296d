//! Links from commit messages and pull requests to the issues they deliver.
//!
//! Two rules, documented in docs/input-format.md:
//! - GitHub's closing keywords: `close`, `closes`, `closed`, `fix`, `fixes`, `fixed`,
//!   `resolve`, `resolves`, `resolved` (any case, an optional colon), then a reference: `#N`
//!   (an issue of the commit's repository), `owner/name#N`, or the issue's URL
//!   (`https://github.com/owner/name/issues/N`, any host). Each reference needs its own keyword,
//!   as on GitHub: `Fixes #1, fixes #2`.
//! - Tracker keys: a word such as `ABC-123` (a capital letter, then capitals, digits or `_`, a
//!   dash and a number) links to the issue whose id is that key, with or without a keyword, so
//!   Jira issues link to the commits that mention them.
//!
//! A link names an issue id (`owner/name#N`, or the key); it counts once an issue with that id
//! is known, so commits may be collected before their issues. Links to ids that are no issue
//! (a pull request's number, `UTF-8`) are kept and never match.

use polars::prelude::{Column, DataFrame};

use crate::error::Result;
use crate::table::schema::{self, issue_commits as l};
use crate::table::{empty_frame, frame_from};

const KEYWORDS: [&str; 9] = [
    "close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved",
];

/// The issue ids `text` (a commit message, or a pull request's title and body) links to; `repo`
/// is the repository of the commit, for `#N`. In order of appearance, each once.
pub fn references(text: &str, repo: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut push = |id: String| {
        if !ids.contains(&id) {
            ids.push(id);
        }
    };
    let words = words(text);
    for (n, word) in words.iter().enumerate() {
        if let Some(key) = tracker_key(word) {
            push(key.to_string());
        }
        let bare = word.strip_suffix(':').unwrap_or(word);
        if !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(bare)) {
            continue;
        }
        // The reference follows the keyword: `Fixes #12`, or `Fixes: #12`, `fix acme/api#3`.
        let Some(next) = words.get(n + 1) else { continue };
        if let Some(id) = issue_reference(next, repo) {
            push(id);
        }
    }
    ids
}

/// Words of `text` split at whitespace; punctuation around a word (`(`, `[` before it; `.`,
/// `,`, `;`, `:`, `)`, `]`, `!`, `?` after it) is not part of a reference.
fn words(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .map(|w| {
            w.trim_start_matches(['(', '['])
                .trim_end_matches(['.', ',', ';', ':', ')', ']', '!', '?'])
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// `#N`, `owner/name#N` or an issue URL, as an issue id.
fn issue_reference(word: &str, repo: &str) -> Option<String> {
    if let Some(number) = word.strip_prefix('#') {
        return is_number(number).then(|| format!("{repo}#{number}"));
    }
    if let Some(rest) = word.strip_prefix("https://").or_else(|| word.strip_prefix("http://")) {
        // host/owner/name/issues/N
        let parts: Vec<&str> = rest.split('/').collect();
        if let [_, owner, name, "issues", number] = parts.as_slice()
            && is_name(owner)
            && is_name(name)
            && is_number(number)
        {
            return Some(format!("{owner}/{name}#{number}"));
        }
        return None;
    }
    let (path, number) = word.split_once('#')?;
    let (owner, name) = path.split_once('/')?;
    (is_name(owner) && is_name(name) && is_number(number)).then(|| format!("{owner}/{name}#{number}"))
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `ABC-123` when the whole word is a tracker key (an optional trailing colon allowed).
fn tracker_key(word: &str) -> Option<&str> {
    let word = word.strip_suffix(':').unwrap_or(word);
    let (project, number) = word.split_once('-')?;
    let mut bytes = project.bytes();
    let first = bytes.next()?;
    let key = first.is_ascii_uppercase()
        && project.len() >= 2
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && is_number(number);
    key.then_some(word)
}

/// An `issue_commits` frame of `(issue id, sha)` links, every collector's.
pub fn frame(links: &[(String, String)]) -> Result<DataFrame> {
    if links.is_empty() {
        return Ok(empty_frame(&schema::ISSUE_COMMITS));
    }
    frame_from(
        &schema::ISSUE_COMMITS,
        links.len(),
        &[
            Column::new(
                l::ISSUE_ID.into(),
                links.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                l::SHA.into(),
                links.iter().map(|(_, sha)| sha.as_str()).collect::<Vec<_>>(),
            ),
        ],
    )
}

/// The links the messages of `(repo, sha, message)` commits make, in order.
pub fn links<'a>(commits: impl Iterator<Item = (&'a str, &'a str, &'a str)>) -> Vec<(String, String)> {
    commits
        .flat_map(|(repo, sha, message)| {
            references(message, repo)
                .into_iter()
                .map(move |id| (id, sha.to_string()))
        })
        .collect()
}

/// `issue_commits` rows for the commits of `repo`, from their messages: `(sha, message)`.
pub fn links_frame<S: AsRef<str>, M: AsRef<str>>(
    repo: &str,
    commits: impl Iterator<Item = (S, M)>,
) -> Result<DataFrame> {
    let commits: Vec<(S, M)> = commits.collect();
    frame(&links(
        commits
            .iter()
            .map(|(sha, message)| (repo, sha.as_ref(), message.as_ref())),
    ))
}

/// `issue_commits` rows from the messages of a `commits` frame (any repositories); `None` when
/// it has no message.
pub fn links_of_commits(commits: &DataFrame) -> Result<Option<DataFrame>> {
    use crate::error::PolarsContext;
    use schema::commits as c;
    let ctx = || "failed to read the commit messages".to_string();
    let text = |name: &str| commits.column(name).and_then(|c| c.str().cloned()).context(ctx);
    let messages = text(c::MESSAGE)?;
    if messages.null_count() == messages.len() {
        return Ok(None);
    }
    let (repos, shas) = (text(c::REPO)?, text(c::SHA)?);
    let rows = repos
        .iter()
        .zip(shas.iter())
        .zip(messages.iter())
        .filter_map(|((repo, sha), message)| Some((repo?, sha?, message?)));
    frame(&links(rows)).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(text: &str) -> Vec<String> {
        references(text, "acme/api")
    }

    #[test]
    fn every_closing_keyword_in_any_case() {
        for keyword in KEYWORDS {
            for form in [keyword.to_string(), keyword.to_uppercase(), format!("{keyword}:")] {
                assert_eq!(refs(&format!("{form} #12")), ["acme/api#12"], "{form}");
            }
        }
        assert_eq!(refs("Fixes: #7."), ["acme/api#7"]);
    }

    #[test]
    fn the_three_forms_of_a_reference() {
        assert_eq!(refs("fix #3"), ["acme/api#3"]);
        assert_eq!(refs("closes acme/web#40"), ["acme/web#40"]);
        assert_eq!(
            refs("Resolves https://github.com/acme/web/issues/41, see thread"),
            ["acme/web#41"]
        );
        assert_eq!(
            refs("resolves https://ghe.example.com/acme/web/issues/42"),
            ["acme/web#42"]
        );
        // A pull request's URL is not an issue's.
        assert!(refs("fixes https://github.com/acme/web/pull/41").is_empty());
    }

    #[test]
    fn each_reference_needs_its_keyword() {
        assert_eq!(refs("Fixes #1, fixes #2"), ["acme/api#1", "acme/api#2"]);
        assert_eq!(refs("Fixes #1, #2"), ["acme/api#1"]);
        assert!(refs("see #5; fixing #6 later; prefix #7").is_empty());
        assert!(refs("fix#8 and fixes # 9").is_empty());
    }

    #[test]
    fn tracker_keys_link_without_a_keyword() {
        assert_eq!(refs("PAY-123: retry the charge"), ["PAY-123"]);
        assert_eq!(refs("retry (PAY-123) and OPS2-7"), ["PAY-123", "OPS2-7"]);
        assert_eq!(refs("PAY-1 fixes #4 PAY-1"), ["PAY-1", "acme/api#4"]);
        for not_a_key in ["pay-123", "P-1", "PAY-", "PAY-12a", "-123", "PAY_123", "x-PAY-1"] {
            assert!(refs(not_a_key).is_empty(), "{not_a_key}");
        }
    }

    #[test]
    fn links_are_rows_per_commit_and_issue() {
        let frame = links_frame(
            "acme/api",
            [("a1", "fix #1"), ("b2", "docs"), ("c3", "PAY-9, closes #1")].into_iter(),
        )
        .expect("frame");
        let column = |name: &str| -> Vec<String> {
            frame
                .column(name)
                .expect("column")
                .str()
                .expect("text")
                .iter()
                .map(|v| v.unwrap_or_default().to_string())
                .collect()
        };
        assert_eq!(column(l::ISSUE_ID), ["acme/api#1", "PAY-9", "acme/api#1"]);
        assert_eq!(column(l::SHA), ["a1", "c3", "c3"]);
    }
}
