//! The feedback loop: from users' reports to fixes in production, on fixtures/csv/feedback
//! (every figure computed by hand in its notes.md), from the folder and from a store.

use serde_json::{Value, json};

use crate::git::Git;
use crate::{Sandbox, assert_close, fixture, query_rows};

const WINDOW: [&str; 6] = ["--since", "2026-03-02", "--until", "2026-03-16", "--tz", "UTC"];

fn metrics(sandbox: &Sandbox, source: &[&str]) -> Value {
    let mut args = vec!["metrics"];
    args.extend(source);
    args.extend(WINDOW);
    args.extend(["--period", "week", "--format", "json"]);
    sandbox.run(&args).success().json()
}

fn input() -> String {
    fixture("feedback").to_str().expect("utf-8").to_string()
}

/// One kind's figures, in the JSON artifact's shape: `(delivered, lead time [count, median,
/// p75, p90, negative dropped], awaiting deployment [count, median, p90], open, open age
/// median, closed without a fix)`.
fn kind(
    delivered: u64,
    lead: (u64, Option<f64>, Option<f64>, Option<f64>, u64),
    awaiting: (u64, Option<f64>, Option<f64>),
    open: (u64, Option<f64>),
    closed: u64,
) -> Value {
    json!({
        "delivered": delivered,
        "lead_time_hours": {"count": lead.0, "median": lead.1, "p75": lead.2, "p90": lead.3, "negative_dropped": lead.4},
        "awaiting_deployment_hours": {"count": awaiting.0, "median": awaiting.1, "p90": awaiting.2},
        "open": open.0,
        "open_age_hours_median": open.1,
        "closed_without_fix": closed
    })
}

const NONE: Option<f64> = None;

/// No deliveries and nothing open.
fn nothing(closed: u64) -> Value {
    kind(0, (0, NONE, NONE, NONE, 0), (0, NONE, NONE), (0, NONE), closed)
}

/// The feature request #2, delivered after 480 h, 48 h after its last commit.
fn feature_2(closed: u64) -> Value {
    kind(
        1,
        (1, Some(480.0), Some(480.0), Some(480.0), 0),
        (1, Some(48.0), Some(48.0)),
        (0, NONE),
        closed,
    )
}

/// The figures notes.md computes, overall and per week.
#[track_caller]
fn assert_hand_figures(j: &Value) {
    let overall = &j["overall"];
    let bugs = kind(
        3,
        (2, Some(55.0), Some(74.5), Some(86.2), 1),
        (3, Some(49.0), Some(49.0)),
        (2, Some(180.0)),
        1,
    );
    assert_eq!(
        overall["issues"],
        json!({"bug": bugs, "feature": feature_2(1), "other": nothing(1)})
    );
    // d4 shipped only the fix of PAY-7 (a bug): fix-only rework; d5 says `normal`.
    assert_eq!(overall["rework_deployments"], 1);
    assert_close(&overall["rework_rate"], 0.25);
    let weeks = j["periods"].as_array().expect("periods");
    assert_eq!(weeks[0]["start"], "2026-03-02");
    let bugs = kind(
        2,
        (1, Some(94.0), Some(94.0), Some(94.0), 1),
        (2, Some(49.0), Some(49.0)),
        (2, Some(38.0)),
        0,
    );
    let features = kind(0, (0, NONE, NONE, NONE, 0), (0, NONE, NONE), (1, Some(399.0)), 1);
    assert_eq!(
        weeks[0]["issues"],
        json!({"bug": bugs, "feature": features, "other": nothing(1)})
    );
    let bugs = kind(
        1,
        (1, Some(16.0), Some(16.0), Some(16.0), 0),
        (1, Some(4.0), Some(4.0)),
        (2, Some(180.0)),
        1,
    );
    assert_eq!(
        weeks[1]["issues"],
        json!({"bug": bugs, "feature": feature_2(0), "other": nothing(0)})
    );
}

#[test]
fn the_feedback_scenario_gives_the_figures_computed_by_hand() {
    let sandbox = Sandbox::new();
    let input = input();
    assert_hand_figures(&metrics(&sandbox, &["--input", &input]));

    // Through the store: the same figures, and the import says what it made of the links.
    let import = sandbox.run(&["import", &input]).success();
    let err = import.stderr();
    assert!(
        err.contains("issues") && err.contains("1 kind(s) read as `other`"),
        "{err}"
    );
    assert!(
        err.contains("3 from commit messages") && err.contains("1 link(s) to commits not in `commits`"),
        "{err}"
    );
    assert_hand_figures(&metrics(&sandbox, &[]));
    // A second import changes nothing.
    let again = sandbox.run(&["import", &input]).success().stderr();
    assert!(
        again.contains("issue_commits               4 records: 0 added, 0 replaced, 7 unchanged"),
        "{again}"
    );
    assert_hand_figures(&metrics(&sandbox, &[]));
}

#[test]
fn without_issue_data_the_block_is_null_and_the_tables_say_nothing() {
    let sandbox = Sandbox::new();
    let basic = fixture("basic");
    let j = metrics(&sandbox, &["--input", basic.to_str().expect("utf-8")]);
    assert_eq!(j["overall"]["issues"], Value::Null);
    assert_eq!(j["periods"][0]["issues"], Value::Null);
    assert_eq!(j["schema_version"], 3);
    let table = sandbox
        .run(&["metrics", "--input", basic.to_str().expect("utf-8")])
        .success()
        .stdout();
    assert!(
        !table.contains("feedback loop") && !table.contains("Bug lead time"),
        "{table}"
    );
}

#[test]
fn every_format_shows_the_feedback_loop_in_groups_and_periods() {
    let sandbox = Sandbox::new();
    let input = input();
    let run = |format: &str| {
        let mut args = vec![
            "metrics", "--input", &input, "--by", "repo", "--period", "week", "--format", format,
        ];
        args.extend(WINDOW);
        sandbox.run(&args).success().stdout()
    };
    let table = run("table");
    assert!(
        table.contains("feedback loop") && table.contains("p50 2.3 d · p90 3.6 d"),
        "{table}"
    );
    assert!(
        table.contains("2 (median age 7.5 d)") && table.contains("bug lead p50"),
        "{table}"
    );
    let markdown = run("markdown");
    assert!(
        markdown.contains("### Feedback loop") && markdown.contains("| Open bugs |"),
        "{markdown}"
    );
    let csv = run("csv");
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let overall: Vec<&str> = csv.lines().nth(1).expect("overall").split(',').collect();
    let cell = |name: &str| overall[header.iter().position(|h| *h == name).expect(name)];
    assert_eq!(cell("bug_lead_time_median_hours"), "55");
    assert_eq!(cell("feature_lead_time_count"), "1");
    assert_eq!(cell("bug_open"), "2");
    assert_eq!(cell("other_closed_without_fix"), "1");
    let json: Value = serde_json::from_str(&run("json")).expect("JSON");
    assert_eq!(json["groups"][0]["issues"]["bug"]["delivered"], 3);
    assert_eq!(json["groups"][0]["periods"][1]["issues"]["bug"]["open"], 2);
}

#[test]
fn explain_lists_every_delivered_issue_with_its_stages() {
    let sandbox = Sandbox::new();
    let input = input();
    let mut args = vec!["explain", "issue-lead-time", "--input", &input, "--format", "json"];
    args.extend(WINDOW);
    let j = sandbox.run(&args).success().json();
    assert_eq!(j["figure"]["bug"]["lead_time_hours"]["median"], 55.0);
    let rows = j["rows"].as_array().expect("rows");
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().expect("id")).collect();
    // Longest lead time first; the negative one (reported after the fix shipped) last.
    assert_eq!(ids, ["acme/shop#2", "acme/shop#1", "PAY-7", "acme/shop#9"]);
    let first = &rows[0];
    assert_eq!(first["deployment_id"], "d5");
    assert_eq!(first["kind"], "feature");
    assert_close(&first["reported_to_last_commit_hours"], 432.0);
    assert_close(&first["awaiting_deployment_hours"], 48.0);
    assert_eq!(
        first["commits"],
        "c3000000000000000000000000000000000000003 c5000000000000000000000000000000000000005"
    );
    assert_eq!(rows[3]["counted"], false);

    let mut args = vec!["explain", "open-bugs", "--input", &input, "--format", "json"];
    args.extend(WINDOW);
    let j = sandbox.run(&args).success().json();
    let rows = j["rows"].as_array().expect("rows");
    let open: Vec<(&str, f64)> = rows
        .iter()
        .map(|r| (r["id"].as_str().expect("id"), r["age_hours"].as_f64().expect("age")))
        .collect();
    assert_eq!(open, [("acme/shop#4", 240.0), ("acme/shop#5", 120.0)]);
}

#[test]
fn views_and_saved_queries_answer_the_questions() {
    let sandbox = Sandbox::new();
    let input = input();
    let query = |what: &[&str]| -> Vec<Value> {
        let mut args = vec!["query"];
        args.extend(what);
        args.extend(["--input", &input, "--format", "json"]);
        args.extend(WINDOW);
        sandbox.run(&args).success().json().as_array().expect("rows").clone()
    };
    let ids =
        |rows: &[Value]| -> Vec<String> { rows.iter().map(|r| r["id"].as_str().expect("id").to_string()).collect() };
    assert_eq!(ids(&query(&["slowest-bug-fixes"])), ["acme/shop#1", "PAY-7"]);
    assert_eq!(ids(&query(&["oldest-open-bugs"])), ["acme/shop#4", "acme/shop#5"]);
    let waiting = query(&["fixes-waiting-for-a-deployment"]);
    assert_eq!(ids(&waiting), ["acme/shop#5"]);
    assert_close(&waiting[0]["waiting_hours"], 63.0);
    let delivered = query(&["SELECT id, kind, deployment_id FROM issue_deliveries ORDER BY id"]);
    assert_eq!(delivered.len(), 4);
    let open = query(&["SELECT COUNT(*) AS n FROM open_issues WHERE kind = 'bug'"]);
    assert_eq!(open[0]["n"], 2);
    // The links a commit message makes are rows of `issue_commits`.
    let links = query(&["SELECT issue_id FROM issue_commits ORDER BY issue_id"]);
    assert_eq!(
        ids(&links
            .iter()
            .map(|r| serde_json::json!({"id": r["issue_id"]}))
            .collect::<Vec<_>>()),
        [
            "PAY-7",
            "acme/shop#1",
            "acme/shop#2",
            "acme/shop#2",
            "acme/shop#2",
            "acme/shop#5",
            "acme/shop#9"
        ]
    );
}

#[test]
fn check_gates_bug_lead_time_and_open_bugs_and_badges_show_them() {
    let sandbox = Sandbox::new();
    let input = input();
    let mut args = vec![
        "check",
        "--input",
        &input,
        "--max-bug-lead-time",
        "2d",
        "--max-open-bugs",
        "2",
    ];
    args.extend(WINDOW);
    let r = sandbox.run(&args);
    assert_eq!(r.code(), 1, "{}", r.stdout());
    let out = r.stdout();
    assert!(out.contains("1 of 2 check(s) failed:"), "{out}");
    assert!(
        out.contains("bug lead time (median) is 2.3 d; the limit is at most 2d"),
        "{out}"
    );
    let mut args = vec![
        "check",
        "--input",
        &input,
        "--max-bug-lead-time",
        "3d",
        "--max-open-bugs",
        "2",
    ];
    args.extend(WINDOW);
    sandbox.run(&args).success();
    let bad = sandbox.run(&["check", "--input", &input, "--max-open-bugs", "many"]);
    assert_eq!(bad.code(), 2, "{}", bad.stderr());
    assert!(bad.stderr().contains("--max-open-bugs"), "{}", bad.stderr());

    let out = sandbox.path().join("badges");
    let mut args = vec!["badge", "--input", &input, "--out", out.to_str().expect("utf-8")];
    args.extend(WINDOW);
    sandbox.run(&args).success();
    let svg = std::fs::read_to_string(out.join("issue-lead-time.svg")).expect("badge");
    assert!(svg.contains("bug lead time: 2.3 d"), "{svg}");
}

/// Writes `files` (name, text) into a folder of the sandbox, with the feedback scenario's
/// deployments and commits.
fn folder(sandbox: &Sandbox, name: &str, files: &[(&str, &str)]) -> String {
    let dir = sandbox.path().join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    for file in ["deployments.csv", "commits.csv"] {
        std::fs::copy(fixture("feedback").join(file), dir.join(file)).expect("copy");
    }
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write");
    }
    dir.to_str().expect("utf-8").to_string()
}

#[test]
fn bad_issue_data_is_an_error_naming_the_line() {
    let sandbox = Sandbox::new();
    let issues = "id,repo,created_at,closed_at,kind\nacme/shop#1,acme/shop,2026-03-01T12:00:00Z,,bug\n";
    let unknown = folder(
        &sandbox,
        "unknown",
        &[
            ("issues.csv", issues),
            ("issue_commits.csv", "issue_id,sha\nacme/shop#1,c1\nacme/shop#404,c2\n"),
        ],
    );
    for args in [vec!["metrics", "--input", &unknown], vec!["import", &unknown]] {
        let r = sandbox.run(&args);
        assert_eq!(r.code(), 2, "{args:?}: {}", r.stdout());
        let err = r.stderr();
        assert!(
            err.contains("issue_commits.csv:3")
                && err.contains("acme/shop#404")
                && err.contains("no issue has this id"),
            "{args:?}: {err}"
        );
    }
    // Nothing was written.
    assert!(!sandbox.store().join("data").exists());

    let closed_before = folder(
        &sandbox,
        "closed",
        &[(
            "issues.csv",
            "id,repo,created_at,closed_at\nacme/shop#1,acme/shop,2026-03-05T12:00:00Z,2026-03-04T12:00:00Z\n",
        )],
    );
    let r = sandbox.run(&["metrics", "--input", &closed_before]);
    assert_eq!(r.code(), 2);
    let err = r.stderr();
    assert!(
        err.contains("issues.csv:2") && err.contains("`closed_at` is before `created_at`"),
        "{err}"
    );

    // With --skip-invalid the bad link is rejected and the rest imported.
    let r = sandbox.run(&["import", &unknown, "--skip-invalid"]).success();
    assert!(r.stderr().contains("1 rejected"), "{}", r.stderr());
}

#[test]
fn a_tracker_s_issues_take_their_repository_from_the_mapping() {
    let sandbox = Sandbox::new();
    let dir = folder(
        &sandbox,
        "jira",
        &[
            (
                "jira.csv",
                "Issue key,Issue Type,Created,Resolved\nPAY-7,Bug,2026-03-08T20:00:00Z,2026-03-09T13:00:00Z\n",
            ),
            (
                "mapping.toml",
                "[issues]\nfile = \"jira.csv\"\ncolumns = { id = \"Issue key\", kind = \"Issue Type\", created_at = \"Created\", closed_at = \"Resolved\" }\nconstants = { repo = \"acme/shop\" }\n",
            ),
        ],
    );
    let mapping = format!("{dir}/mapping.toml");
    let mut args = vec!["metrics", "--input", &dir, "--mapping", &mapping, "--format", "json"];
    args.extend(WINDOW);
    let j = sandbox.run(&args).success().json();
    // PAY-7 is linked by the message of the commit that fixed it, and shipped by d4.
    assert_eq!(j["overall"]["issues"]["bug"]["delivered"], 1);
    assert_close(&j["overall"]["issues"]["bug"]["lead_time_hours"]["median"], 16.0);
}

#[test]
fn collect_git_links_commits_to_the_issues_their_messages_close() {
    let sandbox = Sandbox::new();
    let git = Git::init(&sandbox, "shop");
    git.commit("first", "2026-03-02T10:00:00Z");
    let fix = git.commit(
        "Round the totals\n\nThe cart summed floats.\n\nFixes #12, closes acme/web#3 and PAY-9",
        "2026-03-03T10:00:00Z",
    );
    git.tag("v1.0.0");
    sandbox
        .run(&["collect", "git", git.path(), "--repo-name", "acme/shop"])
        .success();
    let rows = query_rows(&sandbox, "SELECT issue_id, sha FROM issue_commits ORDER BY issue_id");
    let links: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["issue_id"].as_str().expect("id").into(),
                r["sha"].as_str().expect("sha").into(),
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            ("PAY-9".to_string(), fix.clone()),
            ("acme/shop#12".to_string(), fix.clone()),
            ("acme/web#3".to_string(), fix)
        ]
    );
}

#[test]
fn the_report_says_what_users_reported_and_how_fast_the_fix_reached_them() {
    let sandbox = Sandbox::new();
    let (out, md) = sandbox.weekly_report(&input(), "2026-W11");
    assert!(
        md.contains("## What users reported, and how fast the fix reached them"),
        "{md}"
    );
    assert!(md.contains("bugs p50 16.0 h · p90 16.0 h over 1 bugs"), "{md}");
    assert!(
        md.contains("| [PAY-7](https://acme.atlassian.net/browse/PAY-7) | acme/shop | Payment fails without a card holder name |"),
        "{md}"
    );
    // The oldest open bug first.
    let oldest = md.find("[acme/shop#4](").expect("#4 listed");
    let newer = md.find("[acme/shop#5](").expect("#5 listed");
    assert!(oldest < newer, "{md}");
    assert!(md.contains("| Bug lead time (median) | 16.0 h | 3.9 d |"), "{md}");
    let svg = std::fs::read_to_string(out.join("charts/bug-lead-time.svg")).expect("the chart");
    assert!(svg.contains("Bug lead time"), "{svg}");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains("<h3>Oldest open bugs</h3>"), "{html}");

    // Without issue data there is no such section and no such chart.
    let plain = Sandbox::new();
    let (plain_out, md) = plain.weekly_report(fixture("basic").to_str().expect("utf-8"), "2026-W11");
    assert!(
        !md.contains("What users reported") && !md.contains("Bug lead time"),
        "{md}"
    );
    assert!(!plain_out.join("charts/bug-lead-time.svg").exists());
}

#[test]
fn issues_flow_from_one_store_into_another() {
    let sandbox = Sandbox::new();
    let shard = sandbox.path().join("shard");
    let shard = shard.to_str().expect("utf-8");
    sandbox.run(&["--store", shard, "import", &input()]).success();
    let merged = sandbox.run(&["import", shard]).success();
    assert!(merged.stderr().contains("issues"), "{}", merged.stderr());
    assert_hand_figures(&metrics(&sandbox, &[]));
}
