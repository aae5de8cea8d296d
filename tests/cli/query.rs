//! `dora query`: SQL over the tables and views, saved queries, parameters, errors, formats.

use serde_json::Value;

use crate::{Sandbox, assert_close, fixture};

const WINDOW: [&str; 6] = ["--since", "2026-03-01", "--until", "2026-03-16", "--tz", "UTC"];

/// `dora query ARGS --input basic WINDOW --format json`, parsed.
fn basic_rows(sandbox: &Sandbox, args: &[&str]) -> Vec<Value> {
    let input = fixture("basic");
    let mut all = vec!["query"];
    all.extend(args);
    all.extend(["--input", input.to_str().expect("utf-8"), "--format", "json"]);
    all.extend(WINDOW);
    match sandbox.run(&all).success().json() {
        Value::Array(rows) => rows,
        other => panic!("expected an array of rows, got {other}"),
    }
}

fn saved_query_names(sandbox: &Sandbox) -> Vec<String> {
    let list = sandbox.run(&["query", "--list"]).success().stdout();
    list.lines()
        .filter(|l| !l.is_empty() && !l.starts_with(' ') && !l.starts_with("Run one"))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_saved_query_runs_on_every_fixture() {
    let sandbox = Sandbox::new();
    let names = saved_query_names(&sandbox);
    assert!(names.len() >= 10, "{names:?}");
    for scenario in ["basic", "sample", "mapped-export", "pull-requests"] {
        let input = fixture(scenario);
        let mapping = input.join("mapping.toml");
        let mut base = vec!["--input", input.to_str().expect("utf-8"), "--all"];
        if mapping.exists() {
            base.extend(["--mapping", mapping.to_str().expect("utf-8")]);
        }
        for name in &names {
            let mut args = vec!["query", name.as_str(), "--format", "json"];
            args.extend(&base);
            let run = sandbox.run(&args);
            assert_eq!(run.code(), 0, "{name} on {scenario}: {}", run.stderr());
            assert!(run.json().is_array(), "{name} on {scenario}");
        }
    }
}

#[test]
fn saved_queries_answer_on_the_hand_computed_scenario() {
    let sandbox = Sandbox::new();
    // fixtures/csv/basic/notes.md: acme/api has 4 production deployments, d3 and d4 failed.
    let rows = basic_rows(&sandbox, &["change-failure-by-repo", "--param", "min_deployments=1"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["repo"], "acme/api");
    assert_eq!(rows[0]["deployments"], 4);
    assert_eq!(rows[0]["failed"], 2);
    assert_close(&rows[0]["change_failure_pct"], 50.0);
    assert_eq!(rows[1]["repo"], "acme/web");
    assert_close(&rows[1]["change_failure_pct"], 0.0);
    let rows = basic_rows(&sandbox, &["change-failure-by-repo"]);
    assert!(rows.is_empty(), "min_deployments defaults to 5: {rows:?}");

    // i3 came before acme/web's first production deployment.
    let rows = basic_rows(&sandbox, &["incidents-without-cause"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], "i3");
    assert_eq!(
        rows[0]["reason"],
        "no production deployment of the repository before it"
    );

    let rows = basic_rows(&sandbox, &["rework-deployments"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], "d6");
    assert_eq!(rows[0]["rework_reason"], "kind hotfix");

    let rows = basic_rows(&sandbox, &["failed-deployments"]);
    let ids: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, ["d4", "d3"]);
    assert_eq!(rows[0]["failure_reason"], "rolled back; incident");
    assert_eq!(rows[0]["incident_ids"], serde_json::json!(["i2"]));
    assert_eq!(rows[0]["still_failing"], true);
    assert_close(&rows[1]["recovery_hours"], 5.0);

    let rows = basic_rows(&sandbox, &["slowest-changes", "--param", "limit=2"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["sha"], "a2");
    assert_eq!(rows[0]["author"], "ben");
    assert_close(&rows[0]["lead_time_hours"], 36.0);

    let rows = basic_rows(&sandbox, &["slowest-changes", "--param", "repo=acme/web"]);
    let shas: Vec<&str> = rows.iter().filter_map(|r| r["sha"].as_str()).collect();
    assert_eq!(shas, ["b1"], "b2's negative lead time is not counted");

    let rows = basic_rows(&sandbox, &["deployments-per-week"]);
    let weeks: Vec<(&str, &str, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["period_start"].as_str().unwrap_or_default(),
                r["repo"].as_str().unwrap_or_default(),
                r["deployments"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        weeks,
        [
            ("2026-03-02", "acme/api", 4),
            ("2026-03-02", "acme/web", 1),
            ("2026-03-09", "acme/web", 1)
        ]
    );
}

#[test]
fn undeployed_commits_are_the_ones_no_deployment_shipped() {
    let sandbox = Sandbox::new();
    let dir = sandbox.copy_fixture("basic");
    let commits = dir.join("commits.csv");
    let mut text = std::fs::read_to_string(&commits).expect("read");
    text.push_str("acme/api,a6,2026-03-08T09:00:00Z,eve\n");
    std::fs::write(&commits, text).expect("write");
    let run = sandbox
        .run(&[
            "query",
            "undeployed-commits",
            "--input",
            dir.to_str().expect("utf-8"),
            "--format",
            "json",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-10",
        ])
        .success();
    let rows = run.json();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["sha"], "a6");
    assert_close(&rows[0]["waiting_days"], 1.6);
}

#[test]
fn views_add_up_to_the_metrics() {
    let sandbox = Sandbox::new();
    let input = fixture("sample");
    let input = input.to_str().expect("utf-8");
    let common = ["--input", input, "--all", "--tz", "America/Los_Angeles"];
    let mut metrics = vec!["metrics", "--format", "json", "--period", "week"];
    metrics.extend(common);
    let m = sandbox.run(&metrics).success().json();
    let o = &m["overall"];
    let sql = "WITH \
        d AS (SELECT COUNT(*) AS deployments, SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failed, \
                     SUM(CASE WHEN rework THEN 1 ELSE 0 END) AS rework FROM production_deployments), \
        c AS (SELECT COUNT(*) AS lead_count, MEDIAN(lead_time_hours) AS lead_median \
              FROM changes WHERE counted), \
        i AS (SELECT MEDIAN(restore_hours) AS restore_median, \
                     SUM(CASE WHEN deployment_id IS NULL THEN 1 ELSE 0 END) AS unattributed \
              FROM incident_attribution) \
        SELECT * FROM d CROSS JOIN c CROSS JOIN i";
    let mut query = vec!["query", sql, "--format", "json"];
    query.extend(common);
    let q = sandbox.run(&query).success().json();
    let r = &q[0];
    assert_eq!(r["deployments"], o["deployments"]);
    assert_eq!(r["failed"], o["failed_deployments"]);
    assert_eq!(r["rework"], o["rework_deployments"]);
    assert_eq!(r["lead_count"], o["lead_time_hours"]["count"]);
    assert_close(
        &r["lead_median"],
        o["lead_time_hours"]["median"].as_f64().expect("median"),
    );
    assert_close(
        &r["restore_median"],
        o["time_to_restore_hours"]["median"].as_f64().expect("median"),
    );
    assert_eq!(r["unattributed"], o["unattributed_incidents"]);

    // The periods view is the per-period figures of `dora metrics --period week`.
    let mut query = vec![
        "query",
        "SELECT period_start, deployments, lead_time_median_hours, change_failure_rate FROM periods ORDER BY period_start",
        "--format",
        "json",
    ];
    query.extend(common);
    let periods = sandbox.run(&query).success().json();
    let expected = m["periods"].as_array().expect("periods");
    let got = periods.as_array().expect("rows");
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g["period_start"], e["start"]);
        assert_eq!(g["deployments"], e["deployments"]);
        assert_eq!(g["lead_time_median_hours"], e["lead_time_hours"]["median"]);
        assert_eq!(g["change_failure_rate"], e["change_failure_rate"]);
    }
}

#[test]
fn store_and_input_give_the_same_answer() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    sandbox.run(&["import", input.to_str().expect("utf-8")]).success();
    let sql = "SELECT c.repo, c.sha, c.lead_time_hours FROM changes c ORDER BY c.sha";
    let mut args = vec!["query", sql, "--format", "csv"];
    args.extend(WINDOW);
    let from_store = sandbox.run(&args).success().stdout();
    args.extend(["--input", input.to_str().expect("utf-8")]);
    let from_input = sandbox.run(&args).success().stdout();
    assert_eq!(from_store, from_input);
    assert!(
        from_store.starts_with("repo,sha,lead_time_hours\nacme/api,a1,24\n"),
        "{from_store}"
    );
}

#[test]
fn a_query_never_modifies_the_store() {
    let sandbox = Sandbox::new();
    sandbox
        .run(&["import", fixture("basic").to_str().expect("utf-8")])
        .success();
    let count = || {
        sandbox
            .run(&["query", "SELECT COUNT(*) AS n FROM deployments", "--format", "csv"])
            .success()
            .stdout()
    };
    let before = count();
    for statement in [
        "DROP TABLE deployments",
        "DELETE FROM deployments",
        "TRUNCATE deployments",
        "CREATE TABLE x AS SELECT * FROM deployments",
        "INSERT INTO deployments SELECT * FROM deployments",
    ] {
        let run = sandbox.run(&["query", statement]);
        assert_eq!(run.code(), 2, "{statement}");
        assert!(
            run.stderr().contains("is not allowed: `dora query` only reads"),
            "{}",
            run.stderr()
        );
    }
    assert_eq!(count(), before);
    assert_eq!(before, "n\n8\n");
}

#[test]
fn parameters_are_bound_not_pasted() {
    let sandbox = Sandbox::new();
    // Pasted into the SQL text, this value would match every repository.
    let rows = basic_rows(&sandbox, &["deployments-per-week", "--param", "repo=x' OR 1=1 --"]);
    assert!(rows.is_empty(), "{rows:?}");
    let rows = basic_rows(&sandbox, &["deployments-per-week", "--param", "repo=acme/w%"]);
    assert_eq!(rows.len(), 2);
    // `$since`/`$until` are the window; `--param since=` sets it like `--since`.
    let rows = basic_rows(
        &sandbox,
        &["SELECT COUNT(*) AS n FROM deployments WHERE deployed_at >= $since AND deployed_at < $until"],
    );
    assert_eq!(rows[0]["n"], 8);
    let input = fixture("basic");
    let n = |window: &[&str]| {
        let mut args = vec![
            "query",
            "SELECT COUNT(*) AS n FROM production_deployments",
            "--input",
            input.to_str().expect("utf-8"),
            "--format",
            "csv",
            "--until",
            "2026-03-16",
        ];
        args.extend(window);
        sandbox.run(&args).success().stdout()
    };
    assert_eq!(n(&["--since", "2026-03-05"]), "n\n3\n");
    assert_eq!(n(&["--param", "since=2026-03-05"]), "n\n3\n");
}

#[test]
fn parameter_errors() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let run = |args: &[&str]| {
        let mut all = vec!["query"];
        all.extend(args);
        all.extend(["--input", input.to_str().expect("utf-8")]);
        sandbox.run(&all)
    };
    let r = run(&["slowest-changes", "--param", "limit=ten"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr()
            .contains("invalid value \"ten\" for parameter `limit`: expected an integer"),
        "{}",
        r.stderr()
    );
    let r = run(&["slowest-changes", "--param", "limt=3"]);
    assert!(
        r.stderr()
            .contains("unknown parameter `limt`; this query takes: limit (int), repo (text)"),
        "{}",
        r.stderr()
    );
    let r = run(&["SELECT $nope AS x"]);
    assert!(
        r.stderr().contains("the query uses `$nope`, which is not a parameter"),
        "{}",
        r.stderr()
    );
    let r = run(&["slowest-change"]);
    assert!(
        r.stderr()
            .contains("no saved query named `slowest-change`; saved queries:"),
        "{}",
        r.stderr()
    );

    // A folder of one's own queries: required parameters, and a bad header.
    let dir = sandbox.path().join("mine");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("by-repo.sql"),
        "-- Deployments of one repository.\n-- @param repo text -- the repository\nSELECT id FROM deployments WHERE repo = $repo ORDER BY id\n",
    )
    .expect("write");
    let mine = dir.to_str().expect("utf-8");
    let r = run(&["by-repo", "--queries", mine]);
    assert!(
        r.stderr()
            .contains("missing parameter `repo` (text); pass `--param repo=VALUE`"),
        "{}",
        r.stderr()
    );
    let r = run(&[
        "by-repo",
        "--queries",
        mine,
        "--param",
        "repo=acme/web",
        "--format",
        "csv",
    ])
    .success();
    assert_eq!(r.stdout(), "id\nw1\nw2\n");
    let list = sandbox.run(&["query", "--list", "--queries", mine]).success().stdout();
    assert!(list.contains("by-repo ("), "{list}");
    assert!(list.contains("  --param repo=<text>: the repository"), "{list}");
    std::fs::write(dir.join("bad.sql"), "-- Bad.\n-- @param n integer\nSELECT 1\n").expect("write");
    let r = run(&["by-repo", "--queries", mine]);
    assert!(
        r.stderr()
            .contains("bad.sql:2: invalid `@param` line: unknown type `integer`"),
        "{}",
        r.stderr()
    );
}

#[test]
fn errors_name_what_exists() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let run = |sql: &str| sandbox.run(&["query", sql, "--input", input.to_str().expect("utf-8")]);
    let r = run("SELECT * FROM deploys");
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains(
            "unknown table `deploys`; tables: deployments, commits, deployment_commits, incidents, pull_requests, \
             issues, issue_commits; views: changes, production_deployments, incident_attribution, issue_deliveries, \
             open_issues, rollouts, periods"
        ),
        "{}",
        r.stderr()
    );
    let r = run("SELECT deployed FROM deployments");
    assert!(
        r.stderr()
            .contains("unable to find column \"deployed\"; valid columns: [\"id\", \"repo\", \"deployed_at\""),
        "{}",
        r.stderr()
    );
    let r = run("SELECT id\nFROM deployments\nWHERE repo = = 'x'");
    assert!(r.stderr().contains("SQL syntax error: Expected: an expression, found: = at Line: 3, Column: 14\n  WHERE repo = = 'x'\n               ^"), "{}", r.stderr());
    // Polars failing on a query it planned itself is an error, not a crash.
    let r = run("SELECT * FROM deployments WHERE deployed_at >= 'not a time'");
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(!r.stderr().contains("panicked"), "{}", r.stderr());
}

#[test]
fn formats() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let input = input.to_str().expect("utf-8");
    let sql = "SELECT id, deployed_at, deployed_local, period_start, failed, incident_ids, recovery_hours \
               FROM production_deployments WHERE repo = 'acme/api' ORDER BY id";
    let run = |format: &str, extra: &[&str]| {
        let mut args = vec![
            "query",
            sql,
            "--input",
            input,
            "--format",
            format,
            "--tz",
            "Europe/Berlin",
        ];
        args.extend(["--since", "2026-03-01", "--until", "2026-03-16"]);
        args.extend(extra);
        sandbox.run(&args).success().stdout()
    };
    insta::assert_snapshot!("query_table", run("table", &[]));
    insta::assert_snapshot!("query_markdown", run("markdown", &[]));
    insta::assert_snapshot!("query_csv", run("csv", &[]));
    insta::assert_snapshot!("query_json", run("json", &[]));

    let out = sandbox.path().join("result.parquet");
    run("parquet", &["--out", out.to_str().expect("utf-8")]);
    let back = sandbox
        .run(&[
            "query",
            &format!(
                "SELECT COUNT(*) AS n, MAX(recovery_hours) AS r FROM read_parquet('{}')",
                out.display()
            ),
            "--input",
            input,
            "--format",
            "csv",
        ])
        .success()
        .stdout();
    assert_eq!(back, "n,r\n4,5\n");
    let r = sandbox.run(&["query", sql, "--input", input, "--format", "parquet"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr()
            .contains("`--format parquet` writes a file: add `--out FILE`"),
        "{}",
        r.stderr()
    );
}

#[test]
fn tables_lists_every_column() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let text = sandbox
        .run(&["query", "--tables", "--input", input.to_str().expect("utf-8")])
        .success()
        .stdout();
    for name in [
        "deployments (table",
        "commits (table",
        "deployment_commits (table",
        "incidents (table",
        "changes (view",
        "production_deployments (view",
        "incident_attribution (view",
        "periods (view",
        "lead_time_hours",
        "failure_reason",
        "change_failure_rate",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}
