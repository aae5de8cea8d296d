//! `dora collect github` against a local mock of the GitHub REST API (wiremock): tables,
//! ancestry, incidents, pagination, conditional requests, rate limits, tokens.
//!
//! Bodies follow the shapes of GitHub's own examples (fixtures/github, from
//! ../shared/github-api), made consistent with each other so every figure can be checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::query_rows as query;
use crate::{Run, Sandbox};

const TOKEN: &str = "ghp_test_token_never_printed_0123456789";

/// Answers like GitHub: the body with an `ETag` (and a `Link` to the next page), or 304 when
/// the request already has that `ETag`.
struct Github {
    body: Value,
    next: Option<String>,
    hits: Arc<AtomicUsize>,
}

impl Respond for Github {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.hits.fetch_add(1, Ordering::Relaxed);
        let etag = format!("\"{:x}\"", md5ish(&self.body.to_string()));
        let matches = request
            .headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == etag);
        if matches {
            return ResponseTemplate::new(304).insert_header("etag", etag.as_str());
        }
        let mut r = ResponseTemplate::new(200)
            .insert_header("etag", etag.as_str())
            .insert_header("x-ratelimit-remaining", "4999")
            .set_body_json(&self.body);
        if let Some(next) = &self.next {
            r = r.insert_header("link", format!("<{next}>; rel=\"next\"").as_str());
        }
        r
    }
}

/// A stable hash of a body for its `ETag`.
fn md5ish(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn commit(sha: &str, parents: &[&str], date: &str, message: &str) -> Value {
    json!({
        "sha": sha,
        "parents": parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>(),
        "commit": {
            "author": {"name": "Ana", "email": "ana@example.com", "date": date},
            "committer": {"name": "Ana", "email": "ana@example.com", "date": date},
            "message": message
        }
    })
}

// History of acme/api's default branch `main` (newest first, as the API lists it):
// c1 - c2 - c3 - c4 --- c5 (merge)
//              \       /
//               f1 ---
// and a hotfix h1 on top of c5 on a branch, deployed but not on main.
const C1: &str = "1111111111111111111111111111111111111111";
const C2: &str = "2222222222222222222222222222222222222222";
const C3: &str = "3333333333333333333333333333333333333333";
const C4: &str = "4444444444444444444444444444444444444444";
const F1: &str = "ffff111111111111111111111111111111111111";
const C5: &str = "5555555555555555555555555555555555555555";
const H1: &str = "aaaa111111111111111111111111111111111111";

struct Mocks {
    server: MockServer,
    hits: Arc<AtomicUsize>,
}

async fn mount(server: &MockServer, hits: &Arc<AtomicUsize>, route: &str, body: Value, next: Option<String>) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(Github {
            body,
            next,
            hits: Arc::clone(hits),
        })
        .mount(server)
        .await;
}

async fn github() -> Mocks {
    let server = MockServer::start().await;
    let hits = Arc::new(AtomicUsize::new(0));
    let uri = server.uri();
    mount(
        &server,
        &hits,
        "/repos/acme/api",
        json!({"full_name": "acme/api", "default_branch": "main", "archived": false}),
        None,
    )
    .await;
    // Two pages of commits: the first links to the second.
    Mock::given(method("GET"))
        .and(path("/repos/acme/api/commits"))
        .and(query_param("page", "2"))
        .respond_with(Github {
            body: json!([
                commit(C2, &[C1], "2026-03-02T09:00:00Z", "second"),
                commit(C1, &[], "2026-03-01T10:00:00Z", "first"),
            ]),
            next: None,
            hits: Arc::clone(&hits),
        })
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        &hits,
        "/repos/acme/api/commits",
        json!([
            commit(
                C5,
                &[C4, F1],
                "2026-03-05T10:00:00Z",
                "Merge pull request #7 from acme/feature\n\nFeature"
            ),
            commit(C4, &[C3], "2026-03-04T11:00:00Z", "fourth"),
            commit(F1, &[C3], "2026-03-03T12:00:00Z", "feature"),
            commit(C3, &[C2], "2026-03-03T10:00:00Z", "third"),
        ]),
        Some(format!("{uri}/repos/acme/api/commits?sha=main&per_page=100&page=2")),
    )
    .await;
    mount(
        &server,
        &hits,
        "/repos/acme/api/deployments",
        json!([
            {"id": 5, "sha": C5, "environment": "staging", "created_at": "2026-03-07T08:00:00Z"},
            {"id": 4, "sha": H1, "environment": "production", "created_at": "2026-03-07T09:00:00Z"},
            {"id": 3, "sha": C5, "environment": "production", "created_at": "2026-03-06T09:00:00Z"},
            {"id": 2, "sha": C3, "environment": "production", "created_at": "2026-03-04T10:00:00Z"},
            {"id": 1, "sha": C2, "environment": "production", "created_at": "2026-03-02T10:00:00Z"}
        ]),
        None,
    )
    .await;
    let statuses = [
        (1, json!([{"state": "success", "created_at": "2026-03-02T10:00:00Z"}])),
        (
            2,
            json!([{"state": "failure", "created_at": "2026-03-04T10:05:00Z"}, {"state": "in_progress", "created_at": "2026-03-04T10:00:00Z"}]),
        ),
        (
            3,
            json!([{"state": "inactive", "created_at": "2026-03-07T09:30:00Z"}, {"state": "success", "created_at": "2026-03-06T09:10:00Z", "log_url": "https://github.com/acme/api/actions/runs/33"}, {"state": "queued", "created_at": "2026-03-06T09:00:00Z"}]),
        ),
        (4, json!([{"state": "success", "created_at": "2026-03-07T09:20:00Z"}])),
        (5, json!([{"state": "success", "created_at": "2026-03-07T08:10:00Z"}])),
    ];
    for (id, body) in statuses {
        mount(
            &server,
            &hits,
            &format!("/repos/acme/api/deployments/{id}/statuses"),
            body,
            None,
        )
        .await;
    }
    mount(
        &server,
        &hits,
        &format!("/repos/acme/api/compare/{C5}...{H1}"),
        json!({"total_commits": 1, "commits": [commit(H1, &[C5], "2026-03-07T09:00:00Z", "hotfix")]}),
        None,
    )
    .await;
    mount(
        &server,
        &hits,
        "/repos/acme/api/issues",
        json!([
            {"number": 12, "title": "Latency", "body": null, "created_at": "2026-03-07T12:00:00Z", "closed_at": null, "labels": [{"name": "incident"}]},
            {"number": 11, "title": "Fix latency", "body": "cause: whatever", "created_at": "2026-03-07T11:00:00Z", "closed_at": null, "labels": [{"name": "incident"}], "pull_request": {"url": "x"}},
            {"number": 10, "title": "Checkout down", "html_url": "https://github.com/acme/api/issues/10", "body": "Broke checkout.\ncause: 4444444\n", "created_at": "2026-03-06T12:00:00Z", "closed_at": "2026-03-06T15:00:00Z", "labels": [{"name": "incident"}]},
            // Users' reports: a bug closed by pull request #7 ("Fixes #20"), a feature request
            // (by its issue type) closed by a commit, an open bug, and a bug closed as not planned.
            {"number": 20, "title": "Totals wrong", "html_url": "https://github.com/acme/api/issues/20", "body": null, "created_at": "2026-03-01T08:00:00Z", "closed_at": "2026-03-05T10:00:00Z", "state_reason": "completed", "labels": [{"name": "bug"}]},
            {"number": 21, "title": "Export to CSV", "html_url": "https://github.com/acme/api/issues/21", "body": null, "created_at": "2026-02-27T08:00:00Z", "closed_at": "2026-03-03T11:00:00Z", "state_reason": "completed", "labels": [], "type": {"id": 3, "name": "Feature"}},
            {"number": 22, "title": "Slow search", "html_url": "https://github.com/acme/api/issues/22", "body": null, "created_at": "2026-03-04T08:00:00Z", "closed_at": null, "state_reason": null, "labels": [{"name": "Bug"}, {"name": "search"}]},
            {"number": 23, "title": "Dark mode", "html_url": "https://github.com/acme/api/issues/23", "body": null, "created_at": "2026-03-02T08:00:00Z", "closed_at": "2026-03-02T09:00:00Z", "state_reason": "not_planned", "labels": [{"name": "enhancement"}]}
        ]),
        None,
    )
    .await;
    mount(
        &server,
        &hits,
        "/repos/acme/api/issues/20/events",
        json!([{"event": "labeled", "commit_id": null}, {"event": "closed", "commit_id": null}]),
        None,
    )
    .await;
    mount(
        &server,
        &hits,
        "/repos/acme/api/issues/21/events",
        json!([{"event": "referenced", "commit_id": C3}, {"event": "closed", "commit_id": C4}]),
        None,
    )
    .await;
    mount(&server, &hits, "/repos/acme/api/pulls", json!([
        {"number": 7, "title": "Feature", "body": "Adds the feature.\n\nFixes #20", "user": {"login": "ben"}, "created_at": "2026-03-03T13:00:00Z", "merged_at": "2026-03-05T10:00:00Z", "merge_commit_sha": C5, "updated_at": "2026-03-05T10:00:00Z", "base": {"ref": "main"}, "labels": [{"name": "feature"}]},
        {"number": 6, "title": "Abandoned", "user": {"login": "cy"}, "created_at": "2026-03-04T09:00:00Z", "merged_at": null, "merge_commit_sha": null, "updated_at": "2026-03-04T10:00:00Z", "base": {"ref": "main"}},
        {"number": 5, "title": "Second", "user": {"login": "ana"}, "created_at": "2026-03-02T08:00:00Z", "merged_at": "2026-03-02T09:30:00Z", "merge_commit_sha": C2, "updated_at": "2026-03-02T09:30:00Z", "base": {"ref": "main"}}
    ]), None).await;
    mount(&server, &hits, "/repos/acme/api/pulls/7", json!({"number": 7, "updated_at": "2026-03-05T10:00:00Z", "merge_commit_sha": C5, "base": {"ref": "main"}, "additions": 120, "deletions": 30}), None).await;
    mount(&server, &hits, "/repos/acme/api/pulls/5", json!({"number": 5, "updated_at": "2026-03-02T09:30:00Z", "merge_commit_sha": C2, "base": {"ref": "main"}, "additions": 5, "deletions": 1}), None).await;
    mount(
        &server,
        &hits,
        "/repos/acme/api/pulls/7/commits",
        json!([commit(F1, &[C3], "2026-03-03T12:00:00Z", "feature")]),
        None,
    )
    .await;
    mount(
        &server,
        &hits,
        "/repos/acme/api/pulls/5/commits",
        json!([commit(C2, &[C1], "2026-03-02T09:00:00Z", "second")]),
        None,
    )
    .await;
    mount(
        &server,
        &hits,
        "/repos/acme/api/pulls/7/reviews",
        json!([
            {"user": {"login": "ben"}, "state": "COMMENTED", "submitted_at": "2026-03-03T14:00:00Z"},
            {"user": {"login": "cy"}, "state": "APPROVED", "submitted_at": "2026-03-05T09:00:00Z"},
            {"user": {"login": "dee"}, "state": "PENDING", "submitted_at": null}
        ]),
        None,
    )
    .await;
    mount(&server, &hits, "/repos/acme/api/pulls/5/reviews", json!([]), None).await;
    Mocks { server, hits }
}

fn collect(sandbox: &Sandbox, mocks: &Mocks, extra: &[&str]) -> Run {
    let uri = mocks.server.uri();
    let mut args = vec![
        "collect",
        "github",
        "--repo",
        "acme/api",
        "--since",
        "2026-02-01",
        "--api-url",
        uri.as_str(),
    ];
    args.extend(extra);
    sandbox.run_with_env(&args, &[("GITHUB_TOKEN", TOKEN)])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn deployments_commits_and_incidents_from_the_api() {
    let rt = runtime();
    let mocks = rt.block_on(github());
    let sandbox = Sandbox::new();
    let r = collect(&sandbox, &mocks, &[]).success();
    let err = r.stderr();
    assert!(
        err.contains("acme/api: 7 commits on main, 4 deployments, 2 incidents, 4 issues, 2 merged pull requests"),
        "{err}"
    );

    let deployments = query(
        &sandbox,
        "SELECT id, status, sha, deployed_at, environment FROM deployments ORDER BY deployed_at",
    );
    let ids: Vec<&str> = deployments.iter().filter_map(|d| d["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "acme/api#deployment-1",
            "acme/api#deployment-2",
            "acme/api#deployment-3",
            "acme/api#deployment-4"
        ],
        "staging is not production"
    );
    assert_eq!(deployments[1]["status"], "failure");
    assert_eq!(
        deployments[2]["deployed_at"], "2026-03-06T09:10:00Z",
        "the latest terminal status decides"
    );

    let shipped = query(
        &sandbox,
        "SELECT deployment_id, sha FROM deployment_commits ORDER BY deployment_id, sha",
    );
    let pairs: Vec<(String, String)> = shipped
        .iter()
        .map(|r| {
            (
                r["deployment_id"].as_str().unwrap_or_default().into(),
                r["sha"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("acme/api#deployment-1", C1),
        ("acme/api#deployment-1", C2),
        // Deployment 2 failed: it shipped nothing; deployment 3 ships c3 with the rest.
        ("acme/api#deployment-3", C3),
        ("acme/api#deployment-3", C4),
        ("acme/api#deployment-3", C5),
        ("acme/api#deployment-3", F1),
        // The hotfix is off main: found by comparing with the deployment before it.
        ("acme/api#deployment-4", H1),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
    .collect();
    assert_eq!(pairs, expected);

    let incidents = query(
        &sandbox,
        "SELECT id, deployment_id, resolved_at, title FROM incidents ORDER BY id",
    );
    assert_eq!(incidents.len(), 2, "the pull request is not an incident: {incidents:?}");
    assert_eq!(incidents[0]["id"], "acme/api#10");
    assert_eq!(
        incidents[0]["deployment_id"], "acme/api#deployment-3",
        "cause: names c4, which deployment 3 shipped"
    );
    assert_eq!(incidents[1]["deployment_id"], Value::Null);

    let m = sandbox.run(&["metrics", "--all", "--format", "json"]).success().json();
    assert_eq!(
        m["overall"]["deployments"], 3,
        "production deployments that reached users"
    );
    // Deployment 3 caused incident #10 (named); #12 names nothing and came while the hotfix,
    // deployment 4, was the latest.
    assert_eq!(m["overall"]["failed_deployments"], 2);
    assert_eq!(m["lead_time_source"], "deployment_commits");

    // Pull requests #5 and #7 were merged (#6 was not): the lead time breakdown.
    let prs = query(
        &sandbox,
        "SELECT number, author, first_commit_at, first_review_at, additions FROM pull_requests ORDER BY number",
    );
    assert_eq!(prs.len(), 2);
    assert_eq!(prs[1]["number"], "7");
    assert_eq!(
        prs[1]["first_review_at"], "2026-03-05T09:00:00Z",
        "the author's own comment and a pending review do not count"
    );
    assert_eq!(prs[1]["first_commit_at"], "2026-03-03T12:00:00Z");
    assert_eq!(prs[1]["additions"], 120);
    let b = &m["pull_requests"];
    assert_eq!(b["pull_requests"], 2);
    crate::assert_close(&b["pickup"]["median"], 44.0);
    assert_eq!(b["coding"]["count"], 1, "#5's first commit is after it was opened");
    crate::assert_close(&b["deploy"]["median"], (23.0 + 10.0 / 60.0 + 0.5) / 2.0);

    // The report links what GitHub gave links for.
    let out = sandbox.path().join("weekly");
    sandbox
        .run(&["report", "--week", "2026-W10", "--out", out.to_str().expect("utf-8")])
        .success();
    let md = std::fs::read_to_string(out.join("report.md")).expect("md");
    assert!(
        md.contains("| [acme/api#10](https://github.com/acme/api/issues/10) |"),
        "{md}"
    );
    assert!(
        md.contains("| [acme/api#deployment-3](https://github.com/acme/api/actions/runs/33) |"),
        "{md}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        html.contains("<a href=\"https:&#x2f;&#x2f;github.com&#x2f;acme&#x2f;api&#x2f;issues&#x2f;10\">"),
        "links are escaped attributes"
    );

    // The token is never printed or stored.
    assert!(!r.stdout().contains(TOKEN) && !err.contains(TOKEN));
    for entry in walk(&sandbox.store()) {
        let bytes = std::fs::read(&entry).expect("read");
        assert!(!String::from_utf8_lossy(&bytes).contains(TOKEN), "{}", entry.display());
    }
}

pub(crate) fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

#[test]
fn bug_reports_and_feature_requests_and_the_commits_that_closed_them() {
    let rt = runtime();
    let mocks = rt.block_on(github());
    let sandbox = Sandbox::new();
    collect(&sandbox, &mocks, &[]).success();
    let issues = query(
        &sandbox,
        "SELECT id, kind, state_reason, closed_at, labels FROM issues ORDER BY id",
    );
    let rows: Vec<(String, String)> = issues
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").into(),
                r["kind"].as_str().expect("kind").into(),
            )
        })
        .collect();
    // Labels in any case, and the issue type; the incidents and the pull request are not reports.
    assert_eq!(
        rows,
        [
            ("acme/api#20".to_string(), "bug".to_string()),
            ("acme/api#21".to_string(), "feature".to_string()),
            ("acme/api#22".to_string(), "bug".to_string()),
            ("acme/api#23".to_string(), "feature".to_string())
        ]
    );
    assert_eq!(issues[3]["state_reason"], "not_planned");
    assert_eq!(issues[2]["labels"], "Bug,search");
    let links = query(
        &sandbox,
        "SELECT issue_id, sha FROM issue_commits ORDER BY issue_id, sha",
    );
    let links: Vec<(&str, &str)> = links
        .iter()
        .map(|r| (r["issue_id"].as_str().expect("id"), r["sha"].as_str().expect("sha")))
        .collect();
    // #20 from pull request #7's "Fixes #20" (its commit and its merge commit), #21 from its
    // closed event's commit.
    assert_eq!(links, [("acme/api#20", C5), ("acme/api#20", F1), ("acme/api#21", C4)]);
    let delivered = query(
        &sandbox,
        "SELECT id, deployment_id, delivered_at FROM issue_deliveries ORDER BY id",
    );
    assert_eq!(delivered.len(), 2, "{delivered:?}");
    assert_eq!(delivered[0]["deployment_id"], "acme/api#deployment-3");
    assert_eq!(delivered[0]["delivered_at"], "2026-03-06T09:10:00Z");

    // A rerun asks for no events again: the store has both issues closed.
    let before = mocks.hits.load(Ordering::Relaxed);
    collect(&sandbox, &mocks, &[]).success();
    let requests = mocks.hits.load(Ordering::Relaxed) - before;
    let events = rt
        .block_on(mocks.server.received_requests())
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/events"))
        .count();
    assert_eq!(
        events, 2,
        "events asked once per closed report, {requests} requests in the rerun"
    );
}

#[test]
fn a_rerun_asks_with_etags_and_changes_nothing() {
    let rt = runtime();
    let mocks = rt.block_on(github());
    let sandbox = Sandbox::new();
    collect(&sandbox, &mocks, &[]).success();
    let first = mocks.hits.load(Ordering::Relaxed);
    // The second run starts from the store's newest commit (a new commits URL), the third asks
    // exactly what the second did: every answer is 304.
    collect(&sandbox, &mocks, &[]).success();
    let third = collect(&sandbox, &mocks, &[]).success();
    let err = third.stderr();
    let line = err.lines().find(|l| l.contains("requests (")).expect("a requests line");
    let numbers: Vec<u64> = line
        .split("repositories, ")
        .nth(1)
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(
        numbers[0], numbers[1],
        "every request of a rerun with nothing new is a 304: {line}"
    );
    // The repository, two pages of commits, deployments, incidents, pull requests: known
    // deployments' statuses and known pull requests are not asked again.
    assert_eq!(numbers[0], 6, "{line}");
    assert!(!err.contains("added"), "nothing changed: {err}");
    assert!(first > 0);
}

#[test]
fn rate_limits_wait_or_stop_with_a_clear_message() {
    let rt = runtime();
    let mocks = rt.block_on(async {
        let m = github().await;
        // A secondary limit on the first request (retry-after 1 s), then normal answers.
        Mock::given(method("GET"))
            .and(path("/repos/acme/api"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "1")
                    .set_body_json(json!({"message": "You have exceeded a secondary rate limit."})),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&m.server)
            .await;
        m
    });
    let sandbox = Sandbox::new();
    let r = collect(&sandbox, &mocks, &[]).success();
    assert!(r.stderr().contains("1 rate-limit waits"), "{}", r.stderr());

    // A primary limit that resets in an hour, more than --max-wait: stop and say so.
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/github/primary_403_docs.json"),
        )
        .expect("fixture"),
    )
    .expect("json");
    let reset = (chrono::Utc::now().timestamp() + 3600).to_string();
    let blocked = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(403)
                    .insert_header("x-ratelimit-remaining", "0")
                    .insert_header("x-ratelimit-reset", reset.as_str())
                    .set_body_json(&fixture["body"]),
            )
            .mount(&server)
            .await;
        server
    });
    let uri = blocked.uri();
    let r = sandbox.run_with_env(
        &[
            "collect",
            "github",
            "--repo",
            "acme/api",
            "--api-url",
            uri.as_str(),
            "--max-wait",
            "5",
        ],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("rate limit is exhausted"), "{}", r.stderr());
    assert!(r.stderr().contains("more than --max-wait allows"), "{}", r.stderr());
}

#[test]
fn tokens_are_required_and_rejections_name_the_permissions() {
    let sandbox = Sandbox::new();
    let r = sandbox.run(&["collect", "github", "--repo", "acme/api"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("no GitHub token: set GITHUB_TOKEN"),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr().contains("Deployments, Issues, Pull requests and Actions"),
        "{}",
        r.stderr()
    );

    let rt = runtime();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"})))
            .mount(&server)
            .await;
        server
    });
    let uri = server.uri();
    let r = sandbox.run_with_env(
        &["collect", "github", "--repo", "acme/api", "--api-url", uri.as_str()],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("GitHub rejected the token (Bad credentials)"),
        "{}",
        r.stderr()
    );
    assert!(!r.stderr().contains(TOKEN));
    assert!(!sandbox.store().exists(), "nothing written");

    let token_file = sandbox.path().join("token");
    std::fs::write(&token_file, "\n").expect("write");
    let r = sandbox.run(&[
        "collect",
        "github",
        "--repo",
        "acme/api",
        "--token-file",
        token_file.to_str().expect("utf-8"),
    ]);
    assert!(r.stderr().contains("is empty"), "{}", r.stderr());
    let r = sandbox.run_with_env(&["collect", "github", "--repo", "api"], &[("GITHUB_TOKEN", TOKEN)]);
    assert!(
        r.stderr().contains("invalid --repo `api`: expected OWNER/NAME"),
        "{}",
        r.stderr()
    );
    let r = sandbox.run_with_env(
        &[
            "collect",
            "github",
            "--repo",
            "acme/api",
            "--deployments-from",
            "pushes",
        ],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    assert!(
        r.stderr().contains("invalid --deployments-from `pushes`"),
        "{}",
        r.stderr()
    );
}

#[test]
fn releases_workflows_and_merged_pull_requests_as_deployments() {
    let rt = runtime();
    let mocks = rt.block_on(async {
        let m = github().await;
        let h = &m.hits;
        mount(&m.server, h, "/repos/acme/api/releases", json!([
            {"tag_name": "v1.1.0", "draft": false, "prerelease": false, "published_at": "2026-03-06T09:00:00Z"},
            {"tag_name": "v1.1.0-rc.1", "draft": false, "prerelease": true, "published_at": "2026-03-05T12:00:00Z"},
            {"tag_name": "v1.2.0", "draft": true, "prerelease": false, "published_at": null},
            {"tag_name": "v1.0.0", "draft": false, "prerelease": false, "published_at": "2026-03-02T10:00:00Z"}
        ]), None).await;
        mount(&m.server, h, "/repos/acme/api/tags", json!([
            {"name": "v1.1.0", "commit": {"sha": C5}},
            {"name": "v1.1.0-rc.1", "commit": {"sha": C4}},
            {"name": "v1.0.0", "commit": {"sha": C2}}
        ]), None).await;
        mount(&m.server, h, "/repos/acme/api/actions/workflows/deploy.yml/runs", json!({"total_count": 3, "workflow_runs": [
            {"id": 903, "head_sha": C5, "status": "completed", "conclusion": "success", "updated_at": "2026-03-06T09:00:00Z"},
            {"id": 902, "head_sha": C4, "status": "completed", "conclusion": "cancelled", "updated_at": "2026-03-05T09:00:00Z"},
            {"id": 901, "head_sha": C3, "status": "completed", "conclusion": "failure", "updated_at": "2026-03-04T09:00:00Z"}
        ]}), None).await;
        m
    });
    // The same choices from dora.toml: [github], then a repository's own section, then flags.
    let sandbox = Sandbox::new();
    std::fs::write(
        sandbox.path().join("dora.toml"),
        "[github]\nrepos = [\"acme/api\"]\nsince = \"2026-02-01\"\ndeployments_from = \"merged-prs\"\n",
    )
    .expect("write");
    let uri = mocks.server.uri();
    let run = |extra: &[&str]| {
        let mut args = vec!["collect", "github", "--api-url", uri.as_str()];
        args.extend(extra);
        sandbox.run_with_env(&args, &[("GITHUB_TOKEN", TOKEN)]).success();
        let rows = query(&sandbox, "SELECT id FROM deployments ORDER BY id");
        rows.iter()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(&[]), ["acme/api#pr-5", "acme/api#pr-7"]);
    std::fs::write(
        sandbox.path().join("dora.toml"),
        "[github]\nrepos = [\"acme/api\"]\nsince = \"2026-02-01\"\ndeployments_from = \"merged-prs\"\n\n[github.repo.\"acme/api\"]\ndeployments_from = \"releases\"\n",
    )
    .expect("write");
    assert_eq!(
        run(&[]),
        ["acme/api#pr-5", "acme/api#pr-7", "acme/api@v1.0.0", "acme/api@v1.1.0"]
    );
    assert!(run(&["--deployments-from", "workflow:deploy.yml"]).contains(&"acme/api#run-903".to_string()));
    std::fs::write(sandbox.path().join("dora.toml"), "[github]\nrepoz = [\"acme/api\"]\n").expect("write");
    let r = sandbox.run_with_env(
        &["collect", "github", "--api-url", uri.as_str()],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("invalid settings file `dora.toml`"),
        "{}",
        r.stderr()
    );

    for (source, ids) in [
        ("releases", vec!["acme/api@v1.0.0", "acme/api@v1.1.0"]),
        ("workflow:deploy.yml", vec!["acme/api#run-901", "acme/api#run-903"]),
        ("merged-prs", vec!["acme/api#pr-5", "acme/api#pr-7"]),
    ] {
        let sandbox = Sandbox::new();
        collect(&sandbox, &mocks, &["--deployments-from", source]).success();
        let rows = query(&sandbox, "SELECT id, status FROM deployments ORDER BY deployed_at");
        let got: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
        assert_eq!(got, ids, "{source}");
        let shipped = query(&sandbox, "SELECT COUNT(*) AS n FROM deployment_commits");
        assert_eq!(
            shipped[0]["n"], 6,
            "{source}: every commit up to the last deployment, once"
        );
    }
}

#[test]
fn a_revert_marks_the_reverted_deployment_rolled_back() {
    let rt = runtime();
    let mocks = rt.block_on(async {
        let m = github().await;
        let h = &m.hits;
        // #8 reverts #7, whose merge commit c5 deployment 3 shipped.
        Mock::given(method("GET"))
            .and(path("/repos/acme/api/pulls"))
            .respond_with(Github {
                body: json!([
                    {"number": 8, "title": "Revert \"Feature\"", "body": "Reverts acme/api#7", "user": {"login": "cy"}, "created_at": "2026-03-07T10:00:00Z", "merged_at": "2026-03-07T10:30:00Z", "merge_commit_sha": H1, "updated_at": "2026-03-07T10:30:00Z", "base": {"ref": "main"}},
                    {"number": 7, "title": "Feature", "body": "Adds the feature.\n\nFixes #20", "user": {"login": "ben"}, "created_at": "2026-03-03T13:00:00Z", "merged_at": "2026-03-05T10:00:00Z", "merge_commit_sha": C5, "updated_at": "2026-03-05T10:00:00Z", "base": {"ref": "main"}}
                ]),
                next: None,
                hits: Arc::clone(h),
            })
            .with_priority(1)
            .mount(&m.server)
            .await;
        mount(&m.server, h, "/repos/acme/api/pulls/8", json!({"number": 8, "updated_at": "2026-03-07T10:30:00Z", "base": {"ref": "main"}, "additions": 3, "deletions": 120}), None).await;
        mount(&m.server, h, "/repos/acme/api/pulls/8/commits", json!([commit(H1, &[C5], "2026-03-07T09:00:00Z", "revert")]), None).await;
        mount(&m.server, h, "/repos/acme/api/pulls/8/reviews", json!([]), None).await;
        m
    });
    let sandbox = Sandbox::new();
    let r = collect(&sandbox, &mocks, &["--revert-as-failure"]).success();
    assert!(
        r.stderr().contains("1 deployment(s) marked rolled back"),
        "{}",
        r.stderr()
    );
    let rows = query(
        &sandbox,
        "SELECT status FROM deployments WHERE id = 'acme/api#deployment-3'",
    );
    assert_eq!(rows[0]["status"], "rolled_back");
    let sandbox = Sandbox::new();
    collect(&sandbox, &mocks, &[]).success();
    let rows = query(
        &sandbox,
        "SELECT status FROM deployments WHERE id = 'acme/api#deployment-3'",
    );
    assert_eq!(rows[0]["status"], "success", "only with --revert-as-failure");
}

#[test]
fn server_errors_are_retried_and_bad_answers_named() {
    let rt = runtime();
    let mocks = rt.block_on(async {
        let m = github().await;
        // Two 502s, then the normal answer.
        Mock::given(method("GET"))
            .and(path("/repos/acme/api/deployments"))
            .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
            .up_to_n_times(2)
            .with_priority(1)
            .mount(&m.server)
            .await;
        // A second repository whose answers are broken, and a third GitHub does not have.
        mount(
            &m.server,
            &m.hits,
            "/repos/acme/broken",
            json!({"full_name": "acme/broken", "default_branch": "main"}),
            None,
        )
        .await;
        Mock::given(method("GET"))
            .and(path("/repos/acme/broken/commits"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"not\": \"a list\""))
            .mount(&m.server)
            .await;
        m
    });
    let sandbox = Sandbox::new();
    let uri = mocks.server.uri();
    let r = sandbox.run_with_env(
        &[
            "collect",
            "github",
            "--repo",
            "acme/api",
            "--repo",
            "acme/broken",
            "--repo",
            "acme/gone",
            "--since",
            "2026-02-01",
            "--api-url",
            uri.as_str(),
        ],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    let err = r.stderr();
    assert_eq!(r.code(), 2, "two repositories failed: {err}");
    assert!(err.contains("2 retries"), "{err}");
    assert!(
        err.contains("error: acme/broken: unexpected response from /repos/acme/broken/commits"),
        "{err}"
    );
    assert!(
        err.contains("error: acme/gone: GitHub has no /repos/acme/gone"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // The repository that synced is in the store all the same.
    let rows = query(&sandbox, "SELECT COUNT(*) AS n FROM deployments");
    assert_eq!(rows[0]["n"], 4);
}

#[test]
fn tags_and_paginated_comparisons() {
    let rt = runtime();
    let mocks = rt.block_on(async {
        let m = github().await;
        let h = &m.hits;
        mount(
            &m.server,
            h,
            "/repos/acme/api/tags",
            json!([
                {"name": "v1.1.0", "commit": {"sha": C5}},
                {"name": "v1.0.0", "commit": {"sha": C2}},
                {"name": "nightly", "commit": {"sha": C4}}
            ]),
            None,
        )
        .await;
        mount(
            &m.server,
            h,
            "/repos/acme/api/git/ref/tags/v1.1.0",
            json!({"object": {"type": "tag", "sha": "7a95"}}),
            None,
        )
        .await;
        mount(
            &m.server,
            h,
            "/repos/acme/api/git/tags/7a95",
            json!({"tagger": {"date": "2026-03-06T12:00:00Z"}, "object": {"type": "commit", "sha": C5}}),
            None,
        )
        .await;
        mount(
            &m.server,
            h,
            "/repos/acme/api/git/ref/tags/v1.0.0",
            json!({"object": {"type": "commit", "sha": C2}}),
            None,
        )
        .await;
        m
    });
    let sandbox = Sandbox::new();
    collect(&sandbox, &mocks, &["--deployments-from", "tags"]).success();
    let rows = query(&sandbox, "SELECT id, deployed_at FROM deployments ORDER BY deployed_at");
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().into(),
                r["deployed_at"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // Lightweight: the commit's date. Annotated: the tagger's. `nightly` is no release.
            ("acme/api@v1.0.0".to_string(), "2026-03-02T09:00:00Z".to_string()),
            ("acme/api@v1.1.0".to_string(), "2026-03-06T12:00:00Z".to_string()),
        ]
    );
    // End to end, by hand: v1.0.0 ships c1 (23 h before it) and c2 (0 h); v1.1.0 ships c3
    // (74 h), f1 (72 h), c4 (49 h), c5 (26 h). Median of 0, 23, 26, 49, 72, 74 = 37.5 h.
    let m = sandbox.run(&["metrics", "--all", "--format", "json"]).success().json();
    assert_eq!(m["overall"]["lead_time_hours"]["count"], 6);
    crate::assert_close(&m["overall"]["lead_time_hours"]["median"], 37.5);

    // A hotfix branch of 3 commits, compared in pages of one.
    let paged = rt.block_on(async {
        let m = github().await;
        let h = &m.hits;
        let (x1, x2) = (
            "bbbb111111111111111111111111111111111111",
            "bbbb222222222222222222222222222222222222",
        );
        for (page, c) in [
            ("1", commit(x1, &[C5], "2026-03-07T07:00:00Z", "fix 1")),
            ("2", commit(x2, &[x1], "2026-03-07T08:00:00Z", "fix 2")),
            ("3", commit(H1, &[x2], "2026-03-07T09:00:00Z", "fix 3")),
        ] {
            Mock::given(method("GET"))
                .and(path(format!("/repos/acme/api/compare/{C5}...{H1}")))
                .and(query_param("page", page))
                .respond_with(Github {
                    body: json!({"total_commits": 3, "commits": [c]}),
                    next: None,
                    hits: Arc::clone(h),
                })
                .with_priority(1)
                .mount(&m.server)
                .await;
        }
        m
    });
    let sandbox = Sandbox::new();
    collect(&sandbox, &paged, &[]).success();
    let rows = query(
        &sandbox,
        "SELECT COUNT(*) AS n FROM deployment_commits WHERE deployment_id = 'acme/api#deployment-4'",
    );
    assert_eq!(rows[0]["n"], 3, "all three pages of the comparison");
}

#[test]
fn an_organization_without_its_archived_and_excluded_repositories() {
    let rt = runtime();
    let mocks = rt.block_on(async {
        let m = github().await;
        mount(
            &m.server,
            &m.hits,
            "/orgs/acme/repos",
            json!([
                {"full_name": "acme/api", "default_branch": "main", "archived": false},
                {"full_name": "acme/legacy", "default_branch": "main", "archived": true},
                {"full_name": "acme/sandbox-1", "default_branch": "main", "archived": false}
            ]),
            None,
        )
        .await;
        m
    });
    let sandbox = Sandbox::new();
    let uri = mocks.server.uri();
    let r = sandbox
        .run_with_env(
            &[
                "collect",
                "github",
                "--org",
                "acme",
                "--exclude",
                "sandbox-*",
                "--since",
                "2026-02-01",
                "--api-url",
                uri.as_str(),
            ],
            &[("GITHUB_TOKEN", TOKEN)],
        )
        .success();
    assert!(r.stderr().contains("1 repositories,"), "{}", r.stderr());
    assert!(r.stderr().contains("acme/api: 7 commits"), "{}", r.stderr());
}

#[test]
fn canary_deployments_make_rollouts_and_a_failed_canary_an_aborted_one() {
    let rt = runtime();
    let mocks = rt.block_on(async {
        let server = MockServer::start().await;
        let hits = Arc::new(AtomicUsize::new(0));
        mount(
            &server,
            &hits,
            "/repos/acme/api",
            json!({"full_name": "acme/api", "default_branch": "main"}),
            None,
        )
        .await;
        mount(
            &server,
            &hits,
            "/repos/acme/api/commits",
            json!([
                commit(C3, &[C2], "2026-03-04T08:00:00Z", "third"),
                commit(C2, &[C1], "2026-03-03T08:00:00Z", "second"),
                commit(C1, &[], "2026-03-02T08:00:00Z", "first")
            ]),
            None,
        )
        .await;
        // C1: canary, then production (a rollout from 09:00); C2: a canary that failed and was
        // never promoted (aborted); C3: production without a canary.
        mount(
            &server,
            &hits,
            "/repos/acme/api/deployments",
            json!([
                {"id": 5, "sha": C3, "environment": "production", "created_at": "2026-03-05T10:00:00Z"},
                {"id": 4, "sha": C2, "environment": "canary", "created_at": "2026-03-03T09:00:00Z"},
                {"id": 3, "sha": C1, "environment": "production", "created_at": "2026-03-02T09:40:00Z"},
                {"id": 2, "sha": C1, "environment": "canary", "created_at": "2026-03-02T09:00:00Z"}
            ]),
            None,
        )
        .await;
        for (id, state, at) in [
            (5, "success", "2026-03-05T10:10:00Z"),
            (4, "failure", "2026-03-03T09:30:00Z"),
            (3, "success", "2026-03-02T10:00:00Z"),
            (2, "success", "2026-03-02T09:20:00Z"),
        ] {
            mount(
                &server,
                &hits,
                &format!("/repos/acme/api/deployments/{id}/statuses"),
                json!([{"state": state, "created_at": at}]),
                None,
            )
            .await;
        }
        mount(&server, &hits, "/repos/acme/api/issues", json!([]), None).await;
        mount(&server, &hits, "/repos/acme/api/pulls", json!([]), None).await;
        Mocks { server, hits }
    });
    let sandbox = Sandbox::new();
    collect(&sandbox, &mocks, &["--canary-environment", "canary"]).success();
    let rows = query(
        &sandbox,
        "SELECT id, environment, status, started_at, deployed_at FROM deployments ORDER BY deployed_at",
    );
    assert_eq!(
        rows,
        [
            json!({"id": "acme/api#deployment-3", "environment": "production", "status": "success", "started_at": "2026-03-02T09:00:00Z", "deployed_at": "2026-03-02T10:00:00Z"}),
            json!({"id": "acme/api#deployment-4", "environment": "production", "status": "aborted", "started_at": "2026-03-03T09:00:00Z", "deployed_at": "2026-03-03T09:30:00Z"}),
            json!({"id": "acme/api#deployment-5", "environment": "production", "status": "success", "started_at": null, "deployed_at": "2026-03-05T10:10:00Z"})
        ]
    );
    let j = sandbox.run(&["metrics", "--all", "--format", "json"]).success().json();
    let r = &j["overall"]["rollouts"];
    assert_eq!(
        (r["aborted"].as_u64(), r["rollout_time_hours"]["count"].as_u64()),
        (Some(1), Some(1))
    );
    // A rerun changes nothing: the aborted rollout is known, the canaries read again.
    let again = collect(&sandbox, &mocks, &["--canary-environment", "canary"]).success();
    assert!(!again.stderr().contains("added"), "{}", again.stderr());
    assert_eq!(
        query(
            &sandbox,
            "SELECT id, environment, status, started_at, deployed_at FROM deployments ORDER BY deployed_at"
        ),
        rows
    );
}

/// `--ai-label`: a merged pull request with the label is AI-assisted, and so its merge commit
/// (any case); commits whose messages name no assistant are read as not AI-assisted.
#[test]
fn a_labelled_pull_request_marks_its_merge_commit_ai_assisted() {
    let rt = runtime();
    let mocks = rt.block_on(github());
    let sandbox = Sandbox::new();
    collect(&sandbox, &mocks, &["--ai-label", "FEATURE"]).success();
    let flags = query(&sandbox, "SELECT sha, ai_assisted FROM commits ORDER BY sha");
    assert!(!flags.is_empty());
    for row in &flags {
        let expected = row["sha"] == C5;
        assert_eq!(row["ai_assisted"], expected, "{row}");
    }
    // The pull request itself is AI-assisted; the others' flags are left to their merge
    // commits.
    let pulls = query(
        &sandbox,
        "SELECT number, ai_assisted FROM pull_requests ORDER BY number",
    );
    assert!(!pulls.is_empty());
    for row in &pulls {
        let expected = if row["number"] == "7" { true.into() } else { Value::Null };
        assert_eq!(row["ai_assisted"], expected, "{row}");
    }
}
