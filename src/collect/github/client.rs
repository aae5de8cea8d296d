//! HTTP to the GitHub REST API, through octocrab: authentication, base URL (GitHub Enterprise
//! Server), pagination by `Link` header, conditional requests, rate limits and clear errors.
//!
//! Every request goes through [`Client::get`]. A URL fetched before is asked again with
//! `If-None-Match`; GitHub answers 304 without a body when nothing changed, and a 304 does not
//! count against the rate limit. Rate limits are handled here rather than by octocrab's retry
//! layer so the wait is bounded (`max_wait`) and reported.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue};
use http_body_util::BodyExt as _;
use octocrab::Octocrab;
use serde::de::DeserializeOwned;

use super::token::Token;
use crate::error::{Error, GithubError, Result};

/// A response remembered for its `ETag`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Cached {
    pub etag: String,
    pub body: String,
    /// The `Link: rel="next"` URL, if any.
    pub next: Option<String>,
}

/// Counts of a sync, for the summary and the tests.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub not_modified: AtomicU64,
    pub rate_limit_waits: AtomicU64,
    /// Requests retried after a server error or a broken connection.
    pub retries: AtomicU64,
    /// Milliseconds spent waiting on rate limits and retries.
    pub waited_ms: AtomicU64,
}

/// Where the client reports progress and waits (a progress bar, or log lines in CI).
pub type Notify = Box<dyn Fn(Event) + Send + Sync>;

/// What the client reports.
#[derive(Debug, Clone)]
pub enum Event {
    /// A response arrived (`not_modified` for a 304).
    Response { not_modified: bool },
    /// Waiting before asking again: why, the seconds left, and whether the wait just began
    /// (then every second until it ends, for a countdown).
    Waiting { reason: String, seconds: u64, first: bool },
}

/// Server errors and broken connections are retried this many times.
const RETRIES: u32 = 4;

pub struct Client {
    octocrab: Octocrab,
    /// Longest wait for a rate limit to reset before giving up.
    max_wait: Duration,
    /// Responses of earlier requests by URL, for conditional requests.
    cache: Mutex<HashMap<String, Cached>>,
    /// What this run fetched, to be saved for the next one.
    seen: Mutex<HashMap<String, Cached>>,
    pub stats: Stats,
    notify: Option<Notify>,
}

/// One page: the JSON body and the next page's URL.
struct Page {
    body: String,
    next: Option<String>,
}

/// The permissions a sync needs, for the hints of errors and `dora collect github --help`.
pub const PERMISSIONS: &str = "a classic token with `repo` (or `public_repo` for public repositories), or a \
fine-grained token with read access to Contents, Metadata, Deployments, Issues, Pull requests and Actions";

impl Client {
    pub fn new(
        api_url: &str,
        token: Option<&Token>,
        cache: HashMap<String, Cached>,
        max_wait: Duration,
    ) -> Result<Self> {
        let mut builder = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|source| GithubError::InvalidApiUrl {
                url: api_url.to_string(),
                source,
            })?
            // Rate limits are handled in `page`, with a bounded wait (octocrab's retry layer is
            // not compiled in).
            .set_connect_timeout(Some(Duration::from_secs(20)))
            .set_read_timeout(Some(Duration::from_secs(60)));
        if let Some(token) = token {
            builder = builder.personal_token(token.expose().to_string());
        }
        let octocrab = builder.build().map_err(|source| GithubError::Client { source })?;
        Ok(Client {
            octocrab,
            max_wait,
            cache: Mutex::new(cache),
            seen: Mutex::new(HashMap::new()),
            stats: Stats::default(),
            notify: None,
        })
    }

    /// Reports progress and waits to `notify`.
    #[must_use]
    pub fn with_notify(mut self, notify: Notify) -> Self {
        self.notify = Some(notify);
        self
    }

    fn event(&self, event: Event) {
        if let Some(n) = &self.notify {
            n(event);
        }
    }

    async fn wait(&self, reason: String, duration: Duration) {
        self.stats.waited_ms.fetch_add(
            u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let end = tokio::time::Instant::now() + duration;
        let mut first = true;
        loop {
            let left = end.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            self.event(Event::Waiting {
                reason: reason.clone(),
                seconds: left.as_secs() + u64::from(left.subsec_nanos() > 0),
                first,
            });
            first = false;
            tokio::time::sleep(left.min(Duration::from_secs(1))).await;
        }
    }

    /// The responses of this run, to be used for conditional requests by the next one.
    pub fn into_cache(self) -> HashMap<String, Cached> {
        self.seen.into_inner().unwrap_or_default()
    }

    /// One page of `url` (a path with query, or a full URL from a `Link` header).
    async fn page(&self, url: &str) -> Result<Page> {
        let cached = self.cache.lock().ok().and_then(|c| c.get(url).cloned());
        let mut waited = Duration::ZERO;
        let mut failures = 0u32;
        let mut limited = 0u32;
        loop {
            let mut headers = HeaderMap::new();
            headers.insert("accept", HeaderValue::from_static("application/vnd.github+json"));
            headers.insert("x-github-api-version", HeaderValue::from_static("2022-11-28"));
            if let Some(c) = &cached
                && let Ok(v) = HeaderValue::from_str(&c.etag)
            {
                headers.insert("if-none-match", v);
            }
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let response = match self.octocrab._get_with_headers(url, Some(headers)).await {
                Ok(r) => r,
                // Connection resets, timeouts: retried with backoff, then reported.
                Err(e) if failures < RETRIES => {
                    failures += 1;
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    self.wait(format!("request failed ({e}); retrying"), backoff(failures))
                        .await;
                    continue;
                }
                Err(source) => {
                    return Err(GithubError::Request {
                        url: url.to_string(),
                        retries: RETRIES,
                        source,
                    }
                    .into());
                }
            };
            let status = response.status();
            self.event(Event::Response {
                not_modified: status == http::StatusCode::NOT_MODIFIED,
            });
            let headers = response.headers().clone();
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
            if status == http::StatusCode::NOT_MODIFIED
                && let Some(c) = &cached
            {
                self.stats.not_modified.fetch_add(1, Ordering::Relaxed);
                self.remember(url, c.clone());
                return Ok(Page {
                    body: c.body.clone(),
                    next: c.next.clone(),
                });
            }
            let body = response
                .into_body()
                .collect()
                .await
                .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                .map_err(|source| GithubError::ReadBody {
                    url: url.to_string(),
                    source: source.into(),
                })?;
            if status.is_success() {
                let next = header("link").and_then(|l| next_link(&l));
                if let Some(etag) = header("etag") {
                    self.remember(
                        url,
                        Cached {
                            etag,
                            body: body.clone(),
                            next: next.clone(),
                        },
                    );
                }
                return Ok(Page { body, next });
            }
            if status.is_server_error() && failures < RETRIES {
                failures += 1;
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                self.wait(format!("GitHub answered {status}; retrying"), backoff(failures))
                    .await;
                continue;
            }
            if let Some(mut wait) = rate_limit_wait(status, &headers, &body) {
                // A secondary limit hit again: back off exponentially.
                let primary = header("x-ratelimit-remaining").as_deref() == Some("0");
                if !primary && limited > 0 {
                    wait = wait.saturating_mul(1 << limited.min(6));
                }
                limited += 1;
                if waited + wait > self.max_wait {
                    return Err(GithubError::RateLimited {
                        message: message_of(&body),
                        resets_in_secs: wait.as_secs(),
                    }
                    .into());
                }
                self.stats.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
                waited += wait;
                let kind = if primary { "primary" } else { "secondary" };
                self.wait(format!("{kind} rate limit of GitHub ({})", message_of(&body)), wait)
                    .await;
                continue;
            }
            return Err(http_error(url, status, &body));
        }
    }

    fn remember(&self, url: &str, cached: Cached) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(url.to_string(), cached);
        }
    }

    /// One JSON document.
    pub async fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T> {
        let page = self.page(url).await?;
        parse(url, &page.body)
    }

    /// Every page of a list, following `Link: rel="next"`, while `more` says the last page's
    /// items are still wanted (lists sorted newest first stop at the cursor).
    pub async fn list<T: DeserializeOwned>(&self, url: &str, more: impl Fn(&[T]) -> bool) -> Result<Vec<T>> {
        let mut all = Vec::new();
        let mut next = Some(url.to_string());
        while let Some(url) = next {
            let page = self.page(&url).await?;
            let items: Vec<T> = parse(&url, &page.body)?;
            let go_on = more(&items);
            all.extend(items);
            next = if go_on { page.next } else { None };
        }
        Ok(all)
    }

    /// Every page of a list wrapped in an object (`{total_count, workflow_runs: [...]}`).
    pub async fn list_wrapped<W: DeserializeOwned, T>(&self, url: &str, items: impl Fn(W) -> Vec<T>) -> Result<Vec<T>> {
        let mut all = Vec::new();
        let mut next = Some(url.to_string());
        while let Some(url) = next {
            let page = self.page(&url).await?;
            all.extend(items(parse(&url, &page.body)?));
            next = page.next;
        }
        Ok(all)
    }
}

/// Capped exponential backoff with jitter: about 0.5 s, 1 s, 2 s, 4 s (at most 8 s), plus up to
/// a quarter of that, so clients that failed together do not retry together.
fn backoff(attempt: u32) -> Duration {
    let base = 500u64.saturating_mul(1 << attempt.saturating_sub(1).min(4)).min(8_000);
    let jitter = u64::from(chrono::Utc::now().timestamp_subsec_nanos()) % (base / 4 + 1);
    Duration::from_millis(base + jitter)
}

fn parse<T: DeserializeOwned>(url: &str, body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|source| {
        GithubError::UnexpectedResponse {
            url: url.to_string(),
            source,
        }
        .into()
    })
}

fn message_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// The URL of `rel="next"` in a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// How long to wait before retrying a rate-limited request; `None` when it is not one.
///
/// GitHub's rules: a 429, or a 403 whose body mentions the rate limit, is rate-limited. Wait
/// `retry-after` seconds when given; else, with `x-ratelimit-remaining: 0`, until
/// `x-ratelimit-reset` (epoch seconds); else a minute (secondary limits).
pub fn rate_limit_wait(status: http::StatusCode, headers: &HeaderMap, body: &str) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let limited = status == http::StatusCode::TOO_MANY_REQUESTS
        || (status == http::StatusCode::FORBIDDEN
            && (header("x-ratelimit-remaining") == Some("0") || body.to_lowercase().contains("rate limit")));
    if !limited {
        return None;
    }
    if let Some(seconds) = header("retry-after").and_then(|s| s.parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    if header("x-ratelimit-remaining") == Some("0")
        && let Some(reset) = header("x-ratelimit-reset").and_then(|s| s.parse::<i64>().ok())
    {
        let now = chrono::Utc::now().timestamp();
        return Some(Duration::from_secs(u64::try_from(reset - now).unwrap_or(0) + 1));
    }
    Some(Duration::from_secs(60))
}

fn http_error(url: &str, status: http::StatusCode, body: &str) -> Error {
    let message = message_of(body);
    let url = url.to_string();
    match status.as_u16() {
        401 => GithubError::BadToken { message },
        403 => GithubError::Forbidden { url, message },
        404 => GithubError::NotFound { url, message },
        _ => GithubError::Status { status, url, message },
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        // ../shared/github-api/pagination/link_headers.json
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../../../fixtures/github/link_headers.json")).unwrap();
        let mut checked = 0;
        for case in cases["cases"].as_array().unwrap() {
            // The last case is a response without a `Link` header at all.
            let header = case["link"].as_str().unwrap_or_default();
            let expected = case["expected_rels"].get("next").and_then(|v| v.as_str());
            assert_eq!(next_link(header).as_deref(), expected, "{header}");
            checked += 1;
        }
        assert!(checked > 0);
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn rate_limits() {
        let forbidden = http::StatusCode::FORBIDDEN;
        assert_eq!(
            rate_limit_wait(
                http::StatusCode::TOO_MANY_REQUESTS,
                &headers(&[("retry-after", "7")]),
                ""
            ),
            Some(Duration::from_secs(7))
        );
        let reset = (chrono::Utc::now().timestamp() + 30).to_string();
        let wait = rate_limit_wait(
            forbidden,
            &headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &reset)]),
            "{}",
        )
        .unwrap();
        assert!((29..=32).contains(&wait.as_secs()), "{wait:?}");
        assert_eq!(
            rate_limit_wait(
                forbidden,
                &headers(&[]),
                r#"{"message": "You have exceeded a secondary rate limit"}"#
            ),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            rate_limit_wait(forbidden, &headers(&[]), r#"{"message": "Resource not accessible"}"#),
            None
        );
        assert_eq!(rate_limit_wait(http::StatusCode::NOT_FOUND, &headers(&[]), ""), None);
    }
}
