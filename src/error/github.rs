//! What can go wrong talking to GitHub. Each variant says what dora asked for and what GitHub
//! (or the network) answered; what to do about it is the command's hint.

/// An error of the GitHub collector.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("invalid --api-url `{url}`")]
    InvalidApiUrl {
        url: String,
        #[source]
        source: octocrab::Error,
    },

    #[error("failed to set up the GitHub client")]
    Client {
        #[source]
        source: octocrab::Error,
    },

    #[error("request to {url} failed after {retries} retries")]
    Request {
        url: String,
        retries: u32,
        #[source]
        source: octocrab::Error,
    },

    #[error("reading the response of {url} failed")]
    ReadBody {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The wait until the limit resets is longer than the collector may wait.
    #[error(
        "GitHub's rate limit is exhausted ({message}); it resets in {resets_in_secs} s, more than --max-wait allows"
    )]
    RateLimited { message: String, resets_in_secs: u64 },

    /// 401: the token is wrong or expired.
    #[error("GitHub rejected the token ({message})")]
    BadToken { message: String },

    /// 403 (not a rate limit): the token lacks a permission.
    #[error("GitHub refused {url} ({message})")]
    Forbidden { url: String, message: String },

    /// 404: no such repository, or one the token cannot see.
    #[error("GitHub has no {url} ({message})")]
    NotFound { url: String, message: String },

    #[error("GitHub answered {status} for {url}: {message}")]
    Status {
        status: http::StatusCode,
        url: String,
        message: String,
    },

    /// A body that does not parse as what the endpoint documents.
    #[error("unexpected response from {url}")]
    UnexpectedResponse {
        url: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("unexpected timestamp {text:?} in {what}")]
    BadTimestamp { text: String, what: &'static str },

    #[error("commit {sha} of {repo} has no date")]
    CommitWithoutDate { sha: String, repo: String },
}
