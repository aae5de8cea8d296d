//! The library's error type. Every variant names the thing the user has to fix: the file, the
//! line, the column, the value, and what was expected. What to do about it (a flag to pass, a
//! command to run) is the command line's hint (`commands::hint`), not the library's.

mod github;

use std::fmt;
use std::path::PathBuf;

pub use github::GithubError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One invalid cell or row of an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line in the file where the record starts.
    pub line: u64,
    /// Column name as written in the file's header; empty for a whole-row problem.
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)?;
        if !self.column.is_empty() {
            write!(f, ": column `{}`: value {:?}", self.column, self.value)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A row an import left out (`--skip-invalid`), with why: for the rejects file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub table: &'static str,
    pub problem: Problem,
    /// The record's cells as written in the file.
    pub record: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("`{}` is missing the required column `{column}` (columns found: {})", file.display(), found.join(", "))]
    MissingColumn {
        file: PathBuf,
        column: String,
        found: Vec<String>,
    },

    #[error("`{}` has no header row; expected at least the columns {}", file.display(), expected.join(", "))]
    NoHeader { file: PathBuf, expected: Vec<String> },

    #[error("{}", invalid_rows_message(problems, *total))]
    InvalidRows { problems: Vec<Problem>, total: usize },

    #[error("`{}` is not a readable UTF-8 CSV file: {message}", file.display())]
    NotCsv { file: PathBuf, message: String },

    #[error("`{}`, at {path}: {message}", file.display())]
    NotJson {
        file: PathBuf,
        /// Where in the document: `$.items[3].status.duration.completionStatus`.
        path: String,
        message: String,
    },

    #[error("`{}` is missing; a CSV folder needs at least `deployments.csv`", dir.display())]
    MissingDeployments { dir: PathBuf },

    #[error("invalid mapping file `{}`: {message}", path.display())]
    Mapping { path: PathBuf, message: String },

    #[error("invalid settings file `{}`: {message}", path.display())]
    Config { path: PathBuf, message: String },

    #[error("no store at `{}`", path.display())]
    NoStore { path: PathBuf },

    #[error("the store at `{}` is damaged: {message}", path.display())]
    DamagedStore { path: PathBuf, message: String },

    /// Another writer held the lock for longer than this one waits.
    #[error("the store at `{}` is locked by another dora process ({}) and stayed locked for {waited_secs} s", path.display(), if holder.is_empty() { "holder unknown" } else { holder.as_str() })]
    StoreLocked {
        path: PathBuf,
        /// `pid 123, started 2026-12-02T10:00:00Z`, as the holder wrote it.
        holder: String,
        waited_secs: u64,
    },

    #[error("unknown time zone `{0}`; use an IANA name such as `Europe/Berlin` or `UTC`")]
    UnknownTimeZone(String),

    #[error("invalid {flag} `{value}`: expected {expected}")]
    InvalidArgument {
        flag: &'static str,
        value: String,
        expected: String,
    },

    #[error("git repository `{}`: {message}", path.display())]
    Git { path: PathBuf, message: String },

    #[error("git repository `{}`: the repository has no tags, so there are no deployments to read", path.display())]
    NoTags { path: PathBuf },

    #[error("git repository `{}`: no tag matches {pattern}; there are {others} other tags, such as {}", path.display(), examples.join(", "))]
    NoMatchingTag {
        path: PathBuf,
        pattern: String,
        others: usize,
        examples: Vec<String>,
    },

    #[error("no saved query named `{name}`; saved queries: {}", known.join(", "))]
    UnknownSavedQuery { name: String, known: Vec<String> },

    #[error(transparent)]
    Github(#[from] GithubError),

    /// A query that cannot run; `message` already points at the problem.
    #[error("{message}")]
    Query { message: String },

    #[error("{context}: {source}")]
    Polars {
        context: String,
        #[source]
        source: polars::error::PolarsError,
    },
}

fn invalid_rows_message(problems: &[Problem], total: usize) -> String {
    use std::fmt::Write as _;
    let mut s = format!("{total} invalid row{} found", if total == 1 { "" } else { "s" });
    for p in problems {
        let _ = write!(s, "\n  {p}");
    }
    if total > problems.len() {
        let _ = write!(s, "\n  ... and {} more", total - problems.len());
    }
    s
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Adds context to Polars errors, which otherwise do not say what dora was doing.
pub trait PolarsContext<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> PolarsContext<T> for std::result::Result<T, polars::error::PolarsError> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Polars {
            context: context(),
            source,
        })
    }
}
