//! Which commits an AI assistant helped write, read from their messages and authors.
//!
//! A commit is AI-assisted when the trailers of its message (the `Key: value` lines of its last
//! paragraph, as `git interpret-trailers` reads them) carry
//! - `Co-authored-by:` naming a known assistant ([`KNOWN`]) or one that dora.toml's
//!   `[ai] co_authors` adds;
//! - `Ai-assisted:` with `true`, `yes` or `1`;
//! - `Generated-by:` with any value;
//! - or an assistant's own trailer (`Made-with: Cursor`);
//!
//! or when its author is an assistant (Copilot's coding agent commits as `Copilot`; Aider
//! appends ` (aider)` to the author's name). A commit without a message to read has no flag
//! (null), so the figures can say how many commits were read. Trailers undercount: a developer
//! who removes them, or an assistant that writes none, leaves no trace (docs/metrics.md).

use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::table::schema::{commits as c, pull_requests as pr};

/// The version of [`KNOWN`]: it grows as assistants change how they sign their commits, and
/// the figures computed from it say which list they used.
pub const LIST_VERSION: u32 = 1;

/// What part of a commit an identity is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// A `Co-authored-by:` trailer whose address is this (any case).
    CoAuthorEmail(&'static str),
    /// A `Co-authored-by:` trailer whose address ends with this (any case): GitHub's
    /// `<id>+<login>@users.noreply.github.com` addresses of apps.
    CoAuthorEmailSuffix(&'static str),
    /// A `Co-authored-by:` trailer whose name is this, without an address (any case).
    CoAuthorName(&'static str),
    /// A trailer of the assistant's own: key and value (any case).
    Trailer(&'static str, &'static str),
    /// The commit's author is named this (exactly).
    Author(&'static str),
    /// The commit's author's name ends with this.
    AuthorSuffix(&'static str),
}

/// One way an assistant signs the commits it helps write, and where that is documented.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    pub assistant: &'static str,
    pub matches: Match,
    pub source: &'static str,
}

/// The assistants dora knows, version [`LIST_VERSION`]. Each entry cites a public record of the
/// assistant writing that trailer or author.
pub const KNOWN: &[Identity] = &[
    Identity {
        assistant: "Claude Code",
        matches: Match::CoAuthorEmail("noreply@anthropic.com"),
        // `Co-Authored-By: Claude <noreply@anthropic.com>` on the commits it makes.
        source: "https://github.com/anthropics/claude-code/issues/36105",
    },
    Identity {
        assistant: "GitHub Copilot",
        // The coding agent commits as `Copilot <198982749+Copilot@users.noreply.github.com>`;
        // Copilot CLI adds `Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>`.
        matches: Match::CoAuthorEmailSuffix("+copilot@users.noreply.github.com"),
        source: "https://github.com/github/copilot-cli/issues/3177",
    },
    Identity {
        assistant: "GitHub Copilot",
        matches: Match::CoAuthorEmail("copilot@github.com"),
        // VS Code's Copilot: `Co-authored-by: Copilot <copilot@github.com>`.
        source: "https://github.com/microsoft/vscode/issues/313064",
    },
    Identity {
        assistant: "GitHub Copilot",
        matches: Match::CoAuthorName("Copilot"),
        source: "https://github.com/github/copilot-cli/issues/3177",
    },
    Identity {
        assistant: "GitHub Copilot",
        matches: Match::Author("Copilot"),
        // `Author: Copilot <198982749+Copilot@users.noreply.github.com>` on the agent's commits.
        source: "https://github.com/copilot-coding-agent/user-feedback/issues/76",
    },
    Identity {
        assistant: "Cursor",
        matches: Match::CoAuthorEmail("cursoragent@cursor.com"),
        // `Co-authored-by: Cursor <cursoragent@cursor.com>`, with `Made-with: Cursor`.
        source: "https://github.com/block/aittributor",
    },
    Identity {
        assistant: "Cursor",
        matches: Match::Trailer("Made-with", "Cursor"),
        source: "https://github.com/block/aittributor",
    },
    Identity {
        assistant: "Devin",
        matches: Match::CoAuthorEmailSuffix("devin-ai-integration[bot]@users.noreply.github.com"),
        // `Co-Authored-By: Devin <158243242+devin-ai-integration[bot]@users.noreply.github.com>`,
        // after `Generated with [Devin](https://devin.ai)`, as Devin's CLI writes its commits.
        source: "https://cli.devin.ai/docs",
    },
    Identity {
        assistant: "Aider",
        matches: Match::CoAuthorEmail("noreply@aider.chat"),
        // `--attribute-co-authored-by`: `Co-authored-by: aider (<model>) <noreply@aider.chat>`.
        source: "https://aider.chat/docs/git.html",
    },
    Identity {
        assistant: "Aider",
        matches: Match::AuthorSuffix(" (aider)"),
        // `--attribute-author` sets the author to `<name> (aider)` (aider/repo.py).
        source: "https://github.com/Aider-AI/aider/blob/main/aider/repo.py",
    },
];

/// The rules a run uses: [`KNOWN`], and the co-authors and labels a team adds in dora.toml.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// `[ai] co_authors`: an address or a name; a `Co-authored-by:` trailer whose address or
    /// name is one of these (any case) marks the commit.
    pub co_authors: Vec<String>,
    /// `[ai] labels` / `--ai-label`: a pull request carrying one of these (any case) is
    /// AI-assisted, and so is its merge commit.
    pub labels: Vec<String>,
}

impl Rules {
    pub fn new(co_authors: Vec<String>, labels: Vec<String>) -> Rules {
        let trimmed = |list: Vec<String>| list.into_iter().map(|s| s.trim().to_string()).collect();
        Rules {
            co_authors: trimmed(co_authors),
            labels: trimmed(labels),
        }
    }

    /// Whether a pull request with these labels (comma-separated) carries an AI label.
    pub fn is_ai_label(&self, labels: &str) -> bool {
        labels
            .split(',')
            .any(|t| self.labels.iter().any(|l| l.eq_ignore_ascii_case(t.trim())))
    }

    /// Whether the commit with this message and author is AI-assisted.
    pub fn is_ai_assisted(&self, message: &str, author: Option<&str>) -> bool {
        if let Some(author) = author.map(str::trim)
            && KNOWN.iter().any(|i| match i.matches {
                Match::Author(name) => author == name,
                Match::AuthorSuffix(suffix) => author.ends_with(suffix),
                _ => false,
            })
        {
            return true;
        }
        trailers(message).any(|(key, value)| self.marks(key, value))
    }

    fn marks(&self, key: &str, value: &str) -> bool {
        if key.eq_ignore_ascii_case("co-authored-by") {
            let (name, email) = person(value);
            let known = KNOWN.iter().any(|i| match i.matches {
                Match::CoAuthorEmail(e) => email.is_some_and(|m| m.eq_ignore_ascii_case(e)),
                Match::CoAuthorEmailSuffix(s) => email.is_some_and(|m| ends_with_ignore_case(m, s)),
                Match::CoAuthorName(n) => email.is_none() && name.eq_ignore_ascii_case(n),
                _ => false,
            });
            return known
                || self.co_authors.iter().any(|extra| {
                    email.is_some_and(|m| m.eq_ignore_ascii_case(extra)) || name.eq_ignore_ascii_case(extra)
                });
        }
        if key.eq_ignore_ascii_case("ai-assisted") {
            return ["true", "yes", "1"].iter().any(|v| value.eq_ignore_ascii_case(v));
        }
        if key.eq_ignore_ascii_case("generated-by") {
            return !value.is_empty();
        }
        KNOWN.iter().any(|i| match i.matches {
            Match::Trailer(k, v) => key.eq_ignore_ascii_case(k) && value.eq_ignore_ascii_case(v),
            _ => false,
        })
    }
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.is_char_boundary(text.len() - suffix.len())
        && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// `Name <address>` as (name, address); a value without `<...>` is a name alone.
fn person(value: &str) -> (&str, Option<&str>) {
    match (value.find('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => (value[..open].trim(), Some(value[open + 1..close].trim())),
        _ => (value.trim(), None),
    }
}

/// The trailers of a message: the `Key: value` lines of its last paragraph, when every
/// non-empty line of it is one (or continues one, indented), as git reads them. The first
/// paragraph (the subject) is never trailers.
fn trailers(message: &str) -> impl Iterator<Item = (&str, &str)> {
    let message = message.trim_end();
    let last = message
        .rfind("\n\n")
        .or_else(|| message.rfind("\r\n\r\n"))
        .map(|at| &message[at..]);
    let lines: Vec<&str> = last
        .map(|p| p.lines().filter(|l| !l.trim().is_empty()).collect())
        .unwrap_or_default();
    let all_trailers = !lines.is_empty() && lines.iter().all(|l| l.starts_with([' ', '\t']) || trailer(l).is_some());
    lines.into_iter().filter(move |_| all_trailers).filter_map(trailer)
}

/// `Key: value`, where the key is letters, digits and dashes.
fn trailer(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let key_ok = !key.is_empty() && key.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-');
    key_ok.then(|| (key, value.trim()))
}

/// `commits` with `ai_assisted` filled where it is empty, from the message and the author;
/// left empty for commits without a message. A given value (a CSV's own column) stands.
pub fn with_flags(commits: DataFrame, rules: &Rules) -> Result<DataFrame> {
    let ctx = || "failed to read the AI trailers of the commits".to_string();
    let Ok(messages) = commits.column(c::MESSAGE).and_then(|m| m.str().cloned()) else {
        return Ok(commits);
    };
    if messages.null_count() == messages.len() {
        return Ok(commits);
    }
    let authors = commits.column(c::AUTHOR).and_then(|a| a.str().cloned()).context(ctx)?;
    fill_empty(
        commits,
        c::AI_ASSISTED,
        messages.iter().zip(authors.iter()),
        |(message, author)| message.map(|m| rules.is_ai_assisted(m, author)),
        ctx,
    )
}

/// `frame` with its boolean `column` set where it is empty to what `decide` makes of that
/// row's item of `rows` (one per row; not looked at where the column has a value).
fn fill_empty<T>(
    mut frame: DataFrame,
    column: &str,
    rows: impl Iterator<Item = T>,
    decide: impl Fn(T) -> Option<bool>,
    ctx: impl Fn() -> String,
) -> Result<DataFrame> {
    let given = frame.column(column).and_then(|a| a.bool().cloned()).context(&ctx)?;
    let flags: BooleanChunked = given
        .iter()
        .zip(rows)
        .map(|(given, row)| given.or_else(|| decide(row)))
        .collect();
    frame
        .with_column(flags.with_name(column.into()).into_column())
        .context(ctx)?;
    Ok(frame)
}

/// `pull_requests` with `ai_assisted` true where it was empty and the labels carry one of
/// `rules.labels`. Others stay as they are: without a label, the merge commit decides
/// (`analysis::pull_requests`).
pub fn with_pull_request_flags(pulls: DataFrame, rules: &Rules) -> Result<DataFrame> {
    let ctx = || "failed to read the labels of the pull requests".to_string();
    if rules.labels.is_empty() || pulls.height() == 0 {
        return Ok(pulls);
    }
    let Ok(labels) = pulls.column(pr::LABELS).and_then(|m| m.str().cloned()) else {
        return Ok(pulls);
    };
    fill_empty(
        pulls,
        pr::AI_ASSISTED,
        labels.iter(),
        |labels| labels.is_some_and(|l| rules.is_ai_label(l)).then_some(true),
        ctx,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ai(message: &str) -> bool {
        Rules::default().is_ai_assisted(message, Some("Ada"))
    }

    #[test]
    fn every_known_co_author() {
        for trailer in [
            "Co-Authored-By: Claude <noreply@anthropic.com>",
            "Co-authored-by: Claude Opus 4.6 <NOREPLY@anthropic.com>",
            "Co-authored-by: Copilot <198982749+Copilot@users.noreply.github.com>",
            "Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>",
            "Co-authored-by: Copilot <copilot@github.com>",
            "Co-authored-by: Copilot",
            "Co-authored-by: Cursor <cursoragent@cursor.com>",
            "Made-with: Cursor",
            "Co-authored-by: Devin AI <158243242+devin-ai-integration[bot]@users.noreply.github.com>",
            "Co-authored-by: aider (gpt-4o) <noreply@aider.chat>",
            "Ai-assisted: true",
            "AI-Assisted: yes",
            "Generated-by: an internal agent",
        ] {
            assert!(
                ai(&format!("Fix the retry\n\nIt waited forever.\n\n{trailer}")),
                "{trailer}"
            );
        }
    }

    #[test]
    fn people_and_other_trailers_are_not_assistants() {
        for message in [
            "Fix the retry",
            "Fix the retry\n\nCo-authored-by: Grace <grace@example.com>",
            "Fix the retry\n\nSigned-off-by: Ada <ada@example.com>",
            "Fix the retry\n\nAi-assisted: false",
            "Fix the retry\n\nAi-assisted: no",
            // Not the last paragraph: a trailer must end the message.
            "Fix\n\nCo-authored-by: Claude <noreply@anthropic.com>\n\nMore text after it.",
            // A paragraph mixing prose and a trailer is prose.
            "Fix\n\nWe asked Made-with: Cursor users.\nThen this line is prose",
            // The subject alone is never a trailer.
            "Generated-by: nobody",
            "Co-authored-by: Copilot fans <fans@example.com>",
        ] {
            assert!(!ai(message), "{message}");
        }
    }

    #[test]
    fn trailers_among_others_and_continued_lines() {
        assert!(ai(
            "Fix\n\nBody.\n\nSigned-off-by: Ada <ada@example.com>\nCo-authored-by: Claude\n  Opus <noreply@anthropic.com>\nCo-authored-by: Claude <noreply@anthropic.com>\n"
        ));
        assert!(ai("Fix\r\n\r\nCo-authored-by: Claude <noreply@anthropic.com>\r\n"));
    }

    #[test]
    fn authors_that_are_assistants() {
        let rules = Rules::default();
        assert!(rules.is_ai_assisted("Fix", Some("Copilot")));
        assert!(rules.is_ai_assisted("Fix", Some("Ada Lovelace (aider)")));
        assert!(!rules.is_ai_assisted("Fix", Some("Copilotson")));
        assert!(!rules.is_ai_assisted("Fix", None));
    }

    #[test]
    fn co_authors_from_the_settings() {
        let rules = Rules::new(vec!["bot@acme.dev".into(), "Acme Agent".into()], Vec::new());
        assert!(rules.is_ai_assisted("Fix\n\nCo-authored-by: Our bot <BOT@acme.dev>", None));
        assert!(rules.is_ai_assisted("Fix\n\nCo-authored-by: acme agent", None));
        assert!(!rules.is_ai_assisted("Fix\n\nCo-authored-by: Ada <ada@acme.dev>", None));
    }

    #[test]
    fn flags_fill_only_the_empty_cells_of_commits_with_messages() {
        let frame = crate::table::frame_from(
            &crate::table::schema::COMMITS,
            4,
            &[
                Column::new(
                    c::MESSAGE.into(),
                    [
                        Some("a\n\nAi-assisted: true"),
                        Some("b"),
                        None,
                        Some("d\n\nAi-assisted: true"),
                    ],
                ),
                Column::new(c::AI_ASSISTED.into(), [None, None, None, Some(false)]),
            ],
        )
        .unwrap();
        let flags: Vec<Option<bool>> = with_flags(frame, &Rules::default())
            .unwrap()
            .column(c::AI_ASSISTED)
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(flags, [Some(true), Some(false), None, Some(false)]);
    }
}
