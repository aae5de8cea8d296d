//! Reruns change nothing: `dora collect github` against a seeded fake of GitHub (three
//! repositories, 45 days, the Deployments API), run twice on unchanged data, with faults
//! injected in the first run, the second or both, and after new data arrives, must leave every
//! table row for row, and every figure of `dora metrics --by repo --period week`, where one clean
//! run over all the data puts them.
//!
//! The fake's data has what broke reruns before: a sha deployed to production twice (failed,
//! then succeeded an hour later) named by an incident's `cause:`; deployment ids and issue
//! numbers that collide across repositories; incidents opened before a run and closed after it;
//! a deployment still in progress when a run reads it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::{Run, Sandbox, assert_same_store, store_contents};

const TOKEN: &str = "ghp_rerun_token_never_printed_0123456789";
const REPOS: [&str; 3] = ["acme/svc-0", "acme/svc-1", "acme/svc-2"];
/// 2026-01-05T00:00:00Z, a Monday.
const START: i64 = 1_767_571_200;
const DAYS: i64 = 45;
const HOUR: i64 = 3600;

struct Commit {
    sha: String,
    parent: Option<String>,
    at: i64,
}

struct Deployment {
    id: u64,
    sha: String,
    environment: &'static str,
    created: i64,
    /// The terminal status and when it was set.
    state: &'static str,
    done: i64,
}

struct Issue {
    number: u64,
    body: Option<String>,
    created: i64,
    closed: Option<i64>,
}

#[derive(Default)]
struct FakeRepo {
    commits: Vec<Commit>,
    deployments: Vec<Deployment>,
    issues: Vec<Issue>,
}

/// A small seeded generator (xorshift), so every run of a test sees the same data.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn sha(repo: usize, n: usize, seed: u64) -> String {
    let mut h = Seeded(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ ((repo as u64) << 32 | n as u64) | 1);
    (0..5).map(|_| format!("{:08x}", h.next() as u32)).collect()
}

fn generate(seed: u64) -> Vec<FakeRepo> {
    let mut rng = Seeded(seed.wrapping_mul(2_654_435_761) | 1);
    (0..REPOS.len())
        .map(|r| {
            let mut repo = FakeRepo::default();
            // Ids that collide across repositories: every repository counts from the same base.
            let (mut deployment_id, mut issue_number) = (1000u64, 1u64);
            for day in 0..DAYS {
                let midnight = START + day * 24 * HOUR;
                for _ in 0..=rng.below(4) {
                    let n = repo.commits.len();
                    let parent = repo.commits.last().map(|c| c.sha.clone());
                    let at = midnight + 8 * HOUR + rng.below(8 * HOUR as u64) as i64;
                    let at = at.max(repo.commits.last().map_or(0, |c| c.at + 60));
                    repo.commits.push(Commit {
                        sha: sha(r, n, seed),
                        parent,
                        at,
                    });
                }
                if rng.chance(15) {
                    continue; // no deployment today
                }
                let head = repo.commits.last().expect("a commit").sha.clone();
                let mut deploy = |environment, created: i64, state| {
                    deployment_id += 1;
                    repo.deployments.push(Deployment {
                        id: deployment_id,
                        sha: head.clone(),
                        environment,
                        created,
                        state,
                        done: created + 10 * 60,
                    });
                };
                let evening = midnight + 18 * HOUR;
                if rng.chance(15) {
                    deploy("staging", evening - HOUR, "success");
                }
                // The same sha failed, then succeeded an hour later.
                let retried = rng.chance(25);
                if retried {
                    deploy("production", evening, "failure");
                }
                let shipped_at = evening + if retried { HOUR } else { 0 };
                deploy("production", shipped_at, "success");
                if rng.chance(25) {
                    let created = shipped_at + 2 * HOUR;
                    let body = if rng.chance(75) {
                        // A short sha: the incident names the commit, not the deployment.
                        Some(format!("Checkout is down.\ncause: {}\n", &head[..7]))
                    } else {
                        Some("Something broke.".to_string())
                    };
                    let closed = (!rng.chance(15)).then(|| created + (1 + rng.below(30) as i64) * HOUR);
                    repo.issues.push(Issue {
                        number: issue_number,
                        body,
                        created,
                        closed,
                    });
                    issue_number += 1;
                }
            }
            repo
        })
        .collect()
}

/// What the fake answers wrongly, and how often.
#[derive(Clone)]
enum Fault {
    /// Requests whose path and query contain `route` answer `status` (`times` times).
    Status { route: String, status: u16, times: usize },
    /// Requests whose path and query contain `route` hit a rate limit that resets in a second.
    RateLimit { route: String, times: usize },
}

struct World {
    repos: Vec<FakeRepo>,
    /// Only what happened up to this instant exists (seconds).
    now: i64,
    faults: Vec<Fault>,
    requests: usize,
    /// The server's address, for `Link` headers.
    base: String,
}

struct Fake(Arc<Mutex<World>>);

fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("a time")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn parse_iso(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).map_or(0, |d| d.timestamp())
}

/// One page of `items` (newest first) as GitHub lists them, with a `Link` to the next (on
/// `base`, the server's address).
fn paged(base: &str, request: &Request, items: &[Value]) -> (Value, Option<String>) {
    let query: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let start = (page - 1) * per_page;
    let body: Vec<Value> = items.iter().skip(start).take(per_page).cloned().collect();
    let next = (start + per_page < items.len()).then(|| {
        let others: Vec<&str> = request
            .url
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("page="))
            .collect();
        format!("{base}{}?{}&page={}", request.url.path(), others.join("&"), page + 1)
    });
    (Value::Array(body), next)
}

impl World {
    fn answer(&self, request: &Request) -> Option<(Value, Option<String>)> {
        let path = request.url.path();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let ["repos", owner, name, rest @ ..] = parts.as_slice() else {
            return None;
        };
        let full = format!("{owner}/{name}");
        let index = REPOS.iter().position(|r| *r == full)?;
        let repo = &self.repos[index];
        let now = self.now;
        let query: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
        match rest {
            [] => Some((
                json!({"full_name": full, "default_branch": "main", "archived": false}),
                None,
            )),
            ["commits"] => {
                let since = query.get("since").map_or(0, |s| parse_iso(s));
                let items: Vec<Value> = repo
                    .commits
                    .iter()
                    .rev()
                    .filter(|c| c.at <= now && c.at >= since)
                    .map(|c| {
                        json!({
                            "sha": c.sha,
                            "parents": c.parent.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>(),
                            "commit": {
                                "author": {"name": "Ana", "email": "ana@example.com", "date": iso(c.at)},
                                "committer": {"name": "Ana", "email": "ana@example.com", "date": iso(c.at)},
                                "message": format!("change {}", &c.sha[..7])
                            }
                        })
                    })
                    .collect();
                Some(paged(&self.base, request, &items))
            }
            ["deployments"] => {
                let items: Vec<Value> = repo
                    .deployments
                    .iter()
                    .rev()
                    .filter(|d| d.created <= now)
                    .map(|d| json!({"id": d.id, "sha": d.sha, "environment": d.environment, "created_at": iso(d.created)}))
                    .collect();
                Some(paged(&self.base, request, &items))
            }
            ["deployments", id, "statuses"] => {
                let d = repo.deployments.iter().find(|d| d.id.to_string() == *id)?;
                let mut statuses = vec![json!({"state": "in_progress", "created_at": iso(d.created)})];
                if d.done <= now {
                    statuses.insert(
                        0,
                        json!({"state": d.state, "created_at": iso(d.done), "log_url": format!("https://ci.example.com/{full}/{}", d.id)}),
                    );
                }
                Some(paged(&self.base, request, &statuses))
            }
            ["issues"] => {
                let items: Vec<Value> = repo
                    .issues
                    .iter()
                    .rev()
                    .filter(|i| i.created <= now)
                    .map(|i| {
                        json!({
                            "number": i.number,
                            "title": format!("Incident {}", i.number),
                            "html_url": format!("https://github.com/{full}/issues/{}", i.number),
                            "body": i.body,
                            "created_at": iso(i.created),
                            "closed_at": i.closed.filter(|c| *c <= now).map(iso),
                            "labels": [{"name": "incident"}]
                        })
                    })
                    .collect();
                Some(paged(&self.base, request, &items))
            }
            ["pulls"] => Some((json!([]), None)),
            _ => None,
        }
    }
}

impl Respond for Fake {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut world = self.0.lock().expect("the fake");
        world.requests += 1;
        let target = format!("{}?{}", request.url.path(), request.url.query().unwrap_or(""));
        for fault in &mut world.faults {
            match fault {
                Fault::Status { route, status, times } if *times > 0 && target.contains(route.as_str()) => {
                    *times -= 1;
                    return ResponseTemplate::new(*status).set_body_json(json!({"message": "injected fault"}));
                }
                Fault::RateLimit { route, times } if *times > 0 && target.contains(route.as_str()) => {
                    *times -= 1;
                    return ResponseTemplate::new(429)
                        .insert_header("retry-after", "1")
                        .set_body_json(json!({"message": "You have exceeded a secondary rate limit"}));
                }
                _ => {}
            }
        }
        let Some((body, next)) = world.answer(request) else {
            return ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"}));
        };
        let etag = format!("\"{:x}\"", fnv(&body.to_string()));
        if request.headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
            return ResponseTemplate::new(304).insert_header("etag", etag.as_str());
        }
        let mut r = ResponseTemplate::new(200)
            .insert_header("etag", etag.as_str())
            .insert_header("x-ratelimit-remaining", "4999")
            .set_body_json(&body);
        if let Some(next) = next {
            r = r.insert_header("link", format!("<{next}>; rel=\"next\"").as_str());
        }
        r
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

struct Server {
    mock: MockServer,
    world: Arc<Mutex<World>>,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start(seed: u64) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let world = Arc::new(Mutex::new(World {
            repos: generate(seed),
            now: START + DAYS * 24 * HOUR,
            faults: Vec::new(),
            requests: 0,
            base: String::new(),
        }));
        let server = runtime.block_on(async {
            let server = MockServer::start().await;
            Mock::given(wiremock::matchers::any())
                .respond_with(Fake(Arc::clone(&world)))
                .mount(&server)
                .await;
            server
        });
        world.lock().expect("the fake").base = server.uri();
        Server {
            mock: server,
            world,
            _runtime: runtime,
        }
    }

    fn set(&self, now: i64, faults: &[Fault]) {
        let mut world = self.world.lock().expect("the fake");
        world.now = now;
        world.faults = faults.to_vec();
    }

    /// `dora collect github` of the fake's repositories.
    fn args(uri: &str) -> Vec<&str> {
        let mut args = vec!["collect", "github", "--since", "2026-01-01", "--api-url", uri];
        for repo in REPOS {
            args.extend(["--repo", repo]);
        }
        args
    }

    fn collect(&self, sandbox: &Sandbox) -> Run {
        let uri = self.mock.uri();
        sandbox.run_with_env(&Server::args(&uri), &[("GITHUB_TOKEN", TOKEN)])
    }
}

fn contents(sandbox: &Sandbox) -> BTreeMap<String, String> {
    store_contents(sandbox, &sandbox.store())
}

/// One clean run over all the data of `seed`: what every other sequence of runs must give.
fn truth(seed: u64) -> BTreeMap<String, String> {
    let server = Server::start(seed);
    let sandbox = Sandbox::new();
    server.collect(&sandbox).success();
    contents(&sandbox)
}

#[test]
fn a_rerun_on_unchanged_data_changes_no_row_and_no_figure() {
    for seed in 1..=4 {
        let server = Server::start(seed);
        let sandbox = Sandbox::new();
        server.collect(&sandbox).success();
        let first = contents(&sandbox);
        for rerun in 1..=2 {
            let r = server.collect(&sandbox).success();
            assert!(
                !r.stderr().contains("replaced"),
                "seed {seed}, rerun {rerun}:\n{}",
                r.stderr()
            );
            assert_same_store(&format!("seed {seed}, rerun {rerun}"), &contents(&sandbox), &first);
        }
        assert_same_store(&format!("seed {seed}, against a fresh store"), &first, &truth(seed));
    }
}

#[test]
fn a_rerun_after_new_data_gives_the_store_of_one_run_over_all_of_it() {
    for seed in [5, 6] {
        let server = Server::start(seed);
        let sandbox = Sandbox::new();
        // Day 30 at 18:05: a deployment is in progress, incidents are open that close later.
        for cut in [20, 30] {
            server.set(START + cut * 24 * HOUR + 18 * HOUR + 5 * 60, &[]);
            server.collect(&sandbox).success();
        }
        server.set(START + DAYS * 24 * HOUR, &[]);
        server.collect(&sandbox).success();
        assert_same_store(
            &format!("seed {seed}, three growing runs"),
            &contents(&sandbox),
            &truth(seed),
        );
    }
}

#[test]
fn faults_in_the_first_run_the_second_or_both_leave_the_store_of_a_clean_run() {
    let seed = 7;
    let want = truth(seed);
    let end = START + DAYS * 24 * HOUR;
    // Retried and waited out: the run succeeds despite them.
    let transient = vec![
        Fault::Status {
            route: "/repos/acme/svc-1/deployments?".into(),
            status: 502,
            times: 2,
        },
        Fault::RateLimit {
            route: "/repos/acme/svc-0/deployments/1003/statuses".into(),
            times: 1,
        },
    ];
    // The second page of a list fails after the first succeeded: that repository's sync fails.
    let broken_page = vec![Fault::Status {
        route: "page=2".into(),
        status: 422,
        times: 1,
    }];
    let broken_issues = vec![Fault::Status {
        route: "/repos/acme/svc-2/issues".into(),
        status: 404,
        times: 1,
    }];
    let cases: Vec<(&str, Vec<Vec<Fault>>)> = vec![
        ("transient faults in the first run", vec![transient.clone(), vec![]]),
        ("a broken page in the first run", vec![broken_page.clone(), vec![]]),
        ("faults in the second run", vec![vec![], broken_issues.clone()]),
        (
            "faults in both runs, then a clean one",
            vec![broken_page, [transient, broken_issues].concat(), vec![]],
        ),
    ];
    for (label, runs) in cases {
        let server = Server::start(seed);
        let sandbox = Sandbox::new();
        for faults in &runs {
            server.set(end, faults);
            let r = server.collect(&sandbox);
            let failed = faults
                .iter()
                .any(|f| matches!(f, Fault::Status { status, .. } if *status != 502));
            assert_eq!(r.code(), if failed { 2 } else { 0 }, "{label}:\n{}", r.stderr());
            assert!(!r.stderr().contains("panicked"), "{label}:\n{}", r.stderr());
            assert!(!r.stderr().contains(TOKEN), "{label}: the token in the messages");
        }
        // Where the last run failed for one repository, it wrote the others, and the failed
        // one's rows are those of the run before: the store is still that of a clean run.
        assert_same_store(label, &contents(&sandbox), &want);
        // Whatever failed, the token reached no file of the store (snapshots, cache, lock).
        for file in crate::github::walk(&sandbox.store()) {
            let bytes = std::fs::read(&file).expect("a file");
            assert!(
                !String::from_utf8_lossy(&bytes).contains(TOKEN),
                "{label}: {}",
                file.display()
            );
        }
    }
}

#[test]
fn a_sync_killed_at_any_point_leaves_the_old_or_the_new_snapshot() {
    use crate::interrupted::{Sides, kill_after, snapshot, spawn};
    let seed = 8;
    let end = START + DAYS * 24 * HOUR;
    let cut = START + 30 * 24 * HOUR;
    let server = Server::start(seed);
    // The two snapshots a killed sync may leave: after a run over the first 30 days, and after
    // one over all of them; and how long the second takes.
    let reference = Sandbox::new();
    server.set(cut, &[]);
    server.collect(&reference).success();
    let old = snapshot(&reference.store());
    server.set(end, &[]);
    let started = std::time::Instant::now();
    server.collect(&reference).success();
    let took = started.elapsed();
    let sides = Sides {
        old,
        new: snapshot(&reference.store()),
    };
    let want = contents(&reference);
    let mut outcomes = (0, 0);
    // Kill points across the reference run's time, and one well after it: a loaded machine
    // starts the process late, and the last point still sees the new snapshot.
    for after in (0..10u32).map(|point| took * point / 8).chain([took * 4]) {
        let sandbox = Sandbox::new();
        server.set(cut, &[]);
        server.collect(&sandbox).success();
        server.set(end, &[]);
        let uri = server.mock.uri();
        let writer = spawn(&sandbox, &Server::args(&uri), &[("GITHUB_TOKEN", TOKEN)]);
        if kill_after(writer, after, &sandbox.store(), &sides) {
            outcomes.0 += 1;
        } else {
            outcomes.1 += 1;
        }
        // The next run completes it: the store of the uninterrupted runs.
        server.collect(&sandbox).success();
        assert_same_store(
            &format!("the run after a kill after {after:?}"),
            &contents(&sandbox),
            &want,
        );
    }
    assert!(
        outcomes.0 > 0 && outcomes.1 > 0,
        "old {} / new {}",
        outcomes.0,
        outcomes.1
    );
}
