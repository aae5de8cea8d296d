//! The canonical tables: their names, columns, types and keys.
//!
//! This module is the single source of truth for the event model. The CSV reader, the store, the
//! analysis and the docs all take column names and types from here; nothing else spells them.

use polars::prelude::{DataType, Field, PlSmallStr, Schema, TimeUnit, TimeZone};

/// What a column holds, which decides how a CSV cell is parsed and validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text.
    Text,
    /// A point in time, stored in UTC with microsecond precision.
    Timestamp,
    /// `success`, `failure` or `rolled_back` (any case in the input, lowercase in the store).
    Status,
    /// `normal`, `hotfix` or `rollback`, or empty (not stated).
    DeploymentKind,
    /// A whole number.
    Integer,
    /// `bug`, `feature` or `other` (any case in the input; every other value, and empty, is
    /// `other`, counted in the import summary).
    IssueKind,
    /// A share in percent, 0 to 100 (fractions allowed).
    Percent,
    /// `true` or `false` (also `yes`/`no`, `1`/`0`, any case); empty: not known.
    Boolean,
}

impl Kind {
    /// The Polars type of the column in the store and in analysis.
    pub fn dtype(self) -> DataType {
        match self {
            Kind::Timestamp => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
            Kind::Integer => DataType::Int64,
            Kind::Percent => DataType::Float64,
            Kind::Boolean => DataType::Boolean,
            Kind::Text | Kind::Status | Kind::DeploymentKind | Kind::IssueKind => DataType::String,
        }
    }
}

/// One column of a canonical table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// A required column must be in the file's header and must not be empty in any row.
    pub required: bool,
    /// Value used when the column is absent or the cell is empty.
    pub default: Option<&'static str>,
    /// One line for the docs and `--help`.
    pub doc: &'static str,
}

const fn req(name: &'static str, kind: Kind, doc: &'static str) -> Column {
    Column {
        name,
        kind,
        required: true,
        default: None,
        doc,
    }
}

const fn opt(name: &'static str, kind: Kind, doc: &'static str) -> Column {
    Column {
        name,
        kind,
        required: false,
        default: None,
        doc,
    }
}

const fn dflt(name: &'static str, kind: Kind, default: &'static str, doc: &'static str) -> Column {
    Column {
        name,
        kind,
        required: false,
        default: Some(default),
        doc,
    }
}

/// Two timestamp columns of a row that must come in order, where `when` holds (a column and the
/// value it must have; always when `None`).
#[derive(Debug, Clone, Copy)]
pub struct Order {
    pub earlier: &'static str,
    pub later: &'static str,
    pub when: Option<(&'static str, &'static str)>,
}

/// One canonical table.
#[derive(Debug)]
pub struct Table {
    /// Name in the store, in SQL and in messages.
    pub name: &'static str,
    /// File name in a CSV folder.
    pub file: &'static str,
    /// Whether a CSV folder must contain the file.
    pub required_file: bool,
    pub columns: &'static [Column],
    /// Columns that identify a row: a re-import replaces the row with the same key.
    pub key: &'static [&'static str],
    /// Pairs of timestamp columns `(earlier, later)`: a row whose `later` is before its
    /// `earlier` is invalid (an issue closed before it was opened).
    pub order: &'static [Order],
    pub doc: &'static str,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The table's Polars schema, in declaration order.
    pub fn schema(&self) -> Schema {
        self.columns
            .iter()
            .map(|c| Field::new(PlSmallStr::from_static(c.name), c.kind.dtype()))
            .collect()
    }

    pub fn column_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns.iter().map(|c| c.name)
    }
}

pub mod deployments {
    pub const ID: &str = "id";
    pub const REPO: &str = "repo";
    pub const DEPLOYED_AT: &str = "deployed_at";
    pub const ENVIRONMENT: &str = "environment";
    pub const STATUS: &str = "status";
    pub const SHA: &str = "sha";
    pub const STARTED_AT: &str = "started_at";
    pub const SERVICE: &str = "service";
    pub const TEAM: &str = "team";
    pub const KIND: &str = "kind";
    pub const URL: &str = "url";
    pub const EXPOSURE: &str = "exposure";
}

pub mod commits {
    pub const REPO: &str = "repo";
    pub const SHA: &str = "sha";
    pub const COMMITTED_AT: &str = "committed_at";
    pub const AUTHORED_AT: &str = "authored_at";
    pub const AUTHOR: &str = "author";
    pub const MESSAGE: &str = "message";
    pub const PARENTS: &str = "parents";
    pub const ADDITIONS: &str = "additions";
    pub const DELETIONS: &str = "deletions";
    pub const AI_ASSISTED: &str = "ai_assisted";
}

pub mod deployment_commits {
    pub const DEPLOYMENT_ID: &str = "deployment_id";
    pub const SHA: &str = "sha";
}

pub mod incidents {
    pub const ID: &str = "id";
    pub const REPO: &str = "repo";
    pub const CREATED_AT: &str = "created_at";
    pub const RESOLVED_AT: &str = "resolved_at";
    pub const DEPLOYMENT_ID: &str = "deployment_id";
    pub const SEVERITY: &str = "severity";
    pub const TITLE: &str = "title";
    pub const SERVICE: &str = "service";
    pub const URL: &str = "url";
}

pub mod pull_requests {
    pub const REPO: &str = "repo";
    pub const NUMBER: &str = "number";
    pub const TITLE: &str = "title";
    pub const AUTHOR: &str = "author";
    pub const CREATED_AT: &str = "created_at";
    pub const FIRST_COMMIT_AT: &str = "first_commit_at";
    pub const FIRST_REVIEW_AT: &str = "first_review_at";
    pub const MERGED_AT: &str = "merged_at";
    pub const MERGE_SHA: &str = "merge_sha";
    pub const LABELS: &str = "labels";
    pub const ADDITIONS: &str = "additions";
    pub const DELETIONS: &str = "deletions";
    pub const AI_ASSISTED: &str = "ai_assisted";
}

pub mod issues {
    pub const ID: &str = "id";
    pub const REPO: &str = "repo";
    pub const CREATED_AT: &str = "created_at";
    pub const CLOSED_AT: &str = "closed_at";
    pub const KIND: &str = "kind";
    pub const STATE_REASON: &str = "state_reason";
    pub const TITLE: &str = "title";
    pub const URL: &str = "url";
    pub const LABELS: &str = "labels";
}

pub mod issue_commits {
    pub const ISSUE_ID: &str = "issue_id";
    pub const SHA: &str = "sha";
}

/// The issue kinds, as stored.
pub mod issue_kind {
    pub const BUG: &str = "bug";
    pub const FEATURE: &str = "feature";
    pub const OTHER: &str = "other";
    pub const ALL: [&str; 3] = [BUG, FEATURE, OTHER];
}

/// The deployment statuses, as stored.
pub mod status {
    pub const SUCCESS: &str = "success";
    pub const FAILURE: &str = "failure";
    pub const ROLLED_BACK: &str = "rolled_back";
    /// A progressive rollout stopped before it reached every user.
    pub const ABORTED: &str = "aborted";
    pub const ALL: [&str; 4] = [SUCCESS, FAILURE, ROLLED_BACK, ABORTED];
}

/// The deployment kinds, as stored (empty means not stated).
pub mod kind {
    pub const NORMAL: &str = "normal";
    pub const HOTFIX: &str = "hotfix";
    pub const ROLLBACK: &str = "rollback";
    pub const ALL: [&str; 3] = [NORMAL, HOTFIX, ROLLBACK];
}

pub static DEPLOYMENTS: Table = Table {
    name: "deployments",
    file: "deployments.csv",
    required_file: true,
    columns: &[
        req(deployments::ID, Kind::Text, "Unique id of the deployment"),
        req(deployments::REPO, Kind::Text, "Repository, e.g. `acme/api`"),
        req(deployments::DEPLOYED_AT, Kind::Timestamp, "When it finished deploying"),
        dflt(
            deployments::ENVIRONMENT,
            Kind::Text,
            "production",
            "Target environment; compared case-insensitively with `--environment`",
        ),
        dflt(
            deployments::STATUS,
            Kind::Status,
            "success",
            "`success`, `failure` (never reached users), `rolled_back` (reached users, then was undone) or `aborted` (a rollout stopped before it reached every user)",
        ),
        opt(deployments::SHA, Kind::Text, "Commit that was deployed"),
        opt(
            deployments::STARTED_AT,
            Kind::Timestamp,
            "When the deployment (a rollout: its first stage) first reached users",
        ),
        opt(deployments::SERVICE, Kind::Text, "Service, for `--by service`"),
        opt(deployments::TEAM, Kind::Text, "Owning team, for `--by team`"),
        opt(
            deployments::KIND,
            Kind::DeploymentKind,
            "`normal`, `hotfix` or `rollback`; empty when not stated",
        ),
        opt(
            deployments::URL,
            Kind::Text,
            "Link to the deployment (shown in reports)",
        ),
        opt(
            deployments::EXPOSURE,
            Kind::Percent,
            "Share of traffic or users (0-100) the rollout reached when it ended; 100 when it completed",
        ),
    ],
    key: &[deployments::ID],
    // An aborted rollout is stopped after it started; a completed deployment's start may be
    // skewed past its end (clocks), which the rollout time leaves out.
    order: &[Order {
        earlier: deployments::STARTED_AT,
        later: deployments::DEPLOYED_AT,
        when: Some((deployments::STATUS, status::ABORTED)),
    }],
    doc: "One row per deployment attempt, in any environment",
};

pub static COMMITS: Table = Table {
    name: "commits",
    file: "commits.csv",
    required_file: false,
    columns: &[
        req(commits::REPO, Kind::Text, "Repository"),
        req(commits::SHA, Kind::Text, "Commit id"),
        req(
            commits::COMMITTED_AT,
            Kind::Timestamp,
            "Committer date: when the change was ready",
        ),
        opt(commits::AUTHORED_AT, Kind::Timestamp, "Author date"),
        opt(commits::AUTHOR, Kind::Text, "Author"),
        opt(
            commits::MESSAGE,
            Kind::Text,
            "The message (its first line is enough for links; trailers are read from its last paragraph)",
        ),
        opt(commits::PARENTS, Kind::Text, "Parent shas separated by spaces"),
        opt(
            commits::ADDITIONS,
            Kind::Integer,
            "Lines added (git's numstat; empty for merges)",
        ),
        opt(
            commits::DELETIONS,
            Kind::Integer,
            "Lines deleted (git's numstat; empty for merges)",
        ),
        opt(
            commits::AI_ASSISTED,
            Kind::Boolean,
            "Whether an AI assistant helped write it (`true`/`false`); empty: read from the message's trailers and the author, when there is a message",
        ),
    ],
    key: &[commits::REPO, commits::SHA],
    order: &[],
    doc: "One row per commit",
};

pub static DEPLOYMENT_COMMITS: Table = Table {
    name: "deployment_commits",
    file: "deployment_commits.csv",
    required_file: false,
    columns: &[
        req(deployment_commits::DEPLOYMENT_ID, Kind::Text, "Deployment id"),
        req(
            deployment_commits::SHA,
            Kind::Text,
            "A commit that deployment shipped for the first time",
        ),
    ],
    key: &[deployment_commits::DEPLOYMENT_ID, deployment_commits::SHA],
    order: &[],
    doc: "Which commits each deployment shipped for the first time",
};

pub static INCIDENTS: Table = Table {
    name: "incidents",
    file: "incidents.csv",
    required_file: false,
    columns: &[
        req(incidents::ID, Kind::Text, "Unique id of the incident"),
        req(incidents::REPO, Kind::Text, "Repository the incident belongs to"),
        req(incidents::CREATED_AT, Kind::Timestamp, "When it was opened"),
        opt(
            incidents::RESOLVED_AT,
            Kind::Timestamp,
            "When it was resolved; empty while open",
        ),
        opt(
            incidents::DEPLOYMENT_ID,
            Kind::Text,
            "Deployment that caused it; empty when the cause is unknown",
        ),
        opt(incidents::SEVERITY, Kind::Text, "Severity, free text"),
        opt(incidents::TITLE, Kind::Text, "Title"),
        opt(incidents::SERVICE, Kind::Text, "Service, for `--by service`"),
        opt(incidents::URL, Kind::Text, "Link to the incident (shown in reports)"),
    ],
    key: &[incidents::ID],
    order: &[],
    doc: "One row per production incident",
};

pub static PULL_REQUESTS: Table = Table {
    name: "pull_requests",
    file: "pull_requests.csv",
    required_file: false,
    columns: &[
        req(pull_requests::REPO, Kind::Text, "Repository"),
        req(pull_requests::NUMBER, Kind::Text, "Pull request number (or id)"),
        opt(pull_requests::TITLE, Kind::Text, "Title"),
        opt(pull_requests::AUTHOR, Kind::Text, "Author"),
        req(pull_requests::CREATED_AT, Kind::Timestamp, "When it was opened"),
        opt(
            pull_requests::FIRST_COMMIT_AT,
            Kind::Timestamp,
            "Time of its first commit",
        ),
        opt(
            pull_requests::FIRST_REVIEW_AT,
            Kind::Timestamp,
            "First review by someone other than the author",
        ),
        opt(
            pull_requests::MERGED_AT,
            Kind::Timestamp,
            "When it was merged; empty if not",
        ),
        opt(
            pull_requests::MERGE_SHA,
            Kind::Text,
            "The commit the merge created on the target branch",
        ),
        opt(pull_requests::LABELS, Kind::Text, "Labels, comma-separated"),
        opt(pull_requests::ADDITIONS, Kind::Integer, "Lines added"),
        opt(pull_requests::DELETIONS, Kind::Integer, "Lines deleted"),
        opt(
            pull_requests::AI_ASSISTED,
            Kind::Boolean,
            "Whether it is AI-assisted (`true`, `false`); empty: its labels and merge commit decide",
        ),
    ],
    key: &[pull_requests::REPO, pull_requests::NUMBER],
    order: &[],
    doc: "One row per pull request, for the lead time breakdown",
};

pub static ISSUES: Table = Table {
    name: "issues",
    file: "issues.csv",
    required_file: false,
    columns: &[
        req(
            issues::ID,
            Kind::Text,
            "Unique id: `owner/name#N` for a GitHub issue, the key (`ABC-123`) for a tracker's",
        ),
        req(issues::REPO, Kind::Text, "The repository whose deployments deliver it"),
        req(issues::CREATED_AT, Kind::Timestamp, "When it was reported"),
        opt(
            issues::CLOSED_AT,
            Kind::Timestamp,
            "When it was closed; empty while open",
        ),
        dflt(
            issues::KIND,
            Kind::IssueKind,
            issue_kind::OTHER,
            "`bug`, `feature`, or `other` (any other value, and empty)",
        ),
        opt(
            issues::STATE_REASON,
            Kind::Text,
            "`completed`, `not_planned` or empty (GitHub's `state_reason`)",
        ),
        opt(issues::TITLE, Kind::Text, "Title"),
        opt(issues::URL, Kind::Text, "Link to the issue (shown in reports)"),
        opt(issues::LABELS, Kind::Text, "Labels, comma-separated"),
    ],
    key: &[issues::ID],
    order: &[Order {
        earlier: issues::CREATED_AT,
        later: issues::CLOSED_AT,
        when: None,
    }],
    doc: "One row per user-reported issue: a bug report or a feature request",
};

pub static ISSUE_COMMITS: Table = Table {
    name: "issue_commits",
    file: "issue_commits.csv",
    required_file: false,
    columns: &[
        req(issue_commits::ISSUE_ID, Kind::Text, "Issue id"),
        req(
            issue_commits::SHA,
            Kind::Text,
            "A commit that delivers it (for a pull request: its commits and its merge commit)",
        ),
    ],
    key: &[issue_commits::ISSUE_ID, issue_commits::SHA],
    order: &[],
    doc: "Which commits deliver each issue",
};

/// Every canonical table, in the order they are imported and listed.
pub static TABLES: [&Table; 7] = [
    &DEPLOYMENTS,
    &COMMITS,
    &DEPLOYMENT_COMMITS,
    &INCIDENTS,
    &PULL_REQUESTS,
    &ISSUES,
    &ISSUE_COMMITS,
];

/// Looks a table up by its name (`deployments`, ...).
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().copied().find(|t| t.name == name)
}

/// The name of the column the store adds to `deployment_commits` (a derived column, not one
/// of the table's canonical columns): the commit time of each
/// deployed commit, looked up once when the snapshot is written (docs/store.md).
pub const DERIVED_COMMITTED_AT: &str = "committed_at";

/// The name of the second derived column of `deployment_commits`: the 0-based position of the
/// deployment's row in the snapshot's `deployments.parquet` (null when there is no such
/// deployment). Lead time then finds each deployed commit's deployment by position instead of
/// joining 20M rows on the text id (docs/store.md).
pub const DERIVED_DEPLOYMENT_ROW: &str = "deployment_row";

/// The name of the third derived column of `deployment_commits`: whether the deployed commit
/// is AI-assisted (its `commits.ai_assisted`; null when unknown or when there is no such
/// commit). The AI-assisted split of lead time and change failure rate reads it by row.
pub const DERIVED_AI_ASSISTED: &str = "ai_assisted";

/// The name of the derived column of `issue_commits` next to its `committed_at` (the commit's
/// time in the issue's repository): the rows in `deployments.parquet` of the deployments of
/// the issue's repository that list the commit in `deployment_commits` (docs/store.md). The
/// feedback loop then reads the links alone, not every commit and deployed commit.
pub const DERIVED_DEPLOYMENT_ROWS: &str = "deployment_rows";

/// The name of the derived column of `issue_commits` after `deployment_rows`: the 0-based row
/// of the link's issue in `issues.parquet` (null when no issue has its id), so that the
/// feedback loop gathers each issue's links by index, not by hashing 2M issue ids.
pub const DERIVED_ISSUE_ROW: &str = "issue_row";

/// The name of the last derived column of `issue_commits`: the 0-based row of the linked commit
/// in `commits.parquet` (null when the store has no such commit or no such issue), the identity of a commit that two issues
/// may link, compared as a number instead of as a 40-character sha.
pub const DERIVED_COMMIT_ROW: &str = "commit_row";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_required_columns_exist() {
        for t in TABLES {
            for k in t.key {
                let c = t.column(k).expect("key column is declared");
                assert!(c.required, "{}.{k} is a key, so it must be required", t.name);
            }
            assert_eq!(t.schema().len(), t.columns.len(), "{}: duplicate column", t.name);
        }
    }
}
