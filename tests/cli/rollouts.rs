//! Progressive delivery on fixtures/csv/rollouts (every figure by hand in its notes.md):
//! aborted rollouts count as failed production deployments, ship nothing, own no interval.

use serde_json::{Value, json};

use crate::{Sandbox, assert_close, fixture, query_rows};

const WINDOW: [&str; 6] = ["--since", "2026-03-02", "--until", "2026-03-16", "--tz", "UTC"];

fn input() -> String {
    fixture("rollouts").to_str().expect("utf-8").to_string()
}

fn run(sandbox: &Sandbox, args: &[&str]) -> crate::Run {
    let input = input();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--input", &input]);
    all.extend(WINDOW);
    sandbox.run(&all)
}

#[test]
fn the_rollouts_scenario_gives_the_figures_computed_by_hand() {
    let sandbox = Sandbox::new();
    let j = run(&sandbox, &["metrics", "--period", "week", "--format", "json"])
        .success()
        .json();
    let o = &j["overall"];
    assert_eq!(
        (o["deployments"].as_u64(), o["failed_deployments"].as_u64()),
        (Some(8), Some(5))
    );
    assert_close(&o["change_failure_rate"], 0.625);
    assert_close(&o["lead_time_hours"]["median"], 15.458_333_333_333_334);
    assert_eq!(o["failed_deployment_recovery_hours"]["count"], 4);
    assert_close(&o["failed_deployment_recovery_hours"]["median"], 11.75);
    assert_eq!(o["rework_deployments"], 1);
    let r = &o["rollouts"];
    assert_eq!(
        (
            r["aborted"].as_u64(),
            r["escaped_failures"].as_u64(),
            r["recovery_unknown"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_close(&r["catch_rate"], 0.6);
    assert_eq!(r["rollout_time_hours"]["count"], 3);
    assert_close(&r["rollout_time_hours"]["median"], 2.0);
    assert_close(&r["rollout_time_hours"]["p90"], 3.6);
    assert_eq!(r["exposure_at_abort"], json!({"count": 3, "median": 10.0}));
    let weeks = j["periods"].as_array().expect("weeks");
    let w1 = &weeks[0]["rollouts"];
    assert_close(&w1["catch_rate"], 2.0 / 3.0);
    assert_close(&w1["rollout_time_hours"]["p90"], 3.7);
    assert_close(&w1["exposure_at_abort"]["median"], 12.5);
    let w2 = &weeks[1]["rollouts"];
    assert_eq!(
        (w2["aborted"].as_u64(), w2["recovery_unknown"].as_u64()),
        (Some(1), Some(0))
    );
    assert_close(&w2["catch_rate"], 0.5);

    // DORA's Quick Check (2025): lead time 15.5 h (under a day: answer 5, score 8), 8
    // deployments in 14 days (at least weekly: 4, score 6), recovery 11.75 h (5, score 8),
    // change failure 62.5% (10 - 6.25) and rework 12.5% (10 - 1.25).
    let q = &o["quick_check"];
    assert_eq!(q["lead_time"], json!({"choice": 5, "score": 8.0}));
    assert_eq!(q["deployment_frequency"], json!({"choice": 4, "score": 6.0}));
    assert_eq!(q["failed_deployment_recovery"], json!({"choice": 5, "score": 8.0}));
    assert_close(&q["change_failure_rate"]["score"], 3.75);
    assert_close(&q["rework_rate"]["score"], 8.75);
    assert_close(&q["throughput"], 22.0 / 3.0);
    assert_close(&q["stability"], 6.25);
    assert_close(&q["overall"], 6.9);
    assert_close(&j["quick_check_benchmark"]["overall"], 6.72);
    assert_close(&j["quick_check_benchmark"]["stability"], 7.9);

    // The terminal table's block, and data without rollouts: `null`, no block.
    let table = run(&sandbox, &["metrics"]).success().stdout();
    assert!(
        table.contains("progressive delivery") && table.contains("3 caught, 2 escaped"),
        "{table}"
    );
    let basic = fixture("basic");
    let j = sandbox
        .run(&[
            "metrics",
            "--input",
            basic.to_str().expect("utf-8"),
            "--format",
            "json",
            "--all",
        ])
        .success()
        .json();
    assert_eq!(j["overall"]["rollouts"], Value::Null);
}

#[test]
fn explain_query_check_and_badges() {
    let sandbox = Sandbox::new();
    let j = run(&sandbox, &["explain", "catch-rate", "--format", "json"])
        .success()
        .json();
    assert_close(&j["figure"]["catch_rate"], 0.6);
    let ids: Vec<&str> = j["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["r2", "r4", "r7", "r3", "r5"], "caught first, then in time order");
    let j = run(&sandbox, &["explain", "rollout-time", "--format", "json"])
        .success()
        .json();
    let rows = j["rows"].as_array().expect("rows");
    assert_eq!(rows[0]["id"], "r3");
    assert_close(&rows[0]["rollout_hours"], 4.0);
    assert_eq!(
        rows.last().expect("a row")["rollout_hours"],
        Value::Null,
        "r8's skewed start"
    );

    let caught = run(
        &sandbox,
        &["query", "failures-caught-during-rollout", "--format", "json"],
    )
    .success()
    .json();
    let caught: Vec<(&str, bool)> = caught
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["id"].as_str().expect("id"), r["caught"].as_bool().expect("caught")))
        .collect();
    assert_eq!(
        caught,
        [("r2", true), ("r4", true), ("r7", true), ("r3", false), ("r5", false)]
    );

    let r = run(
        &sandbox,
        &["check", "--min-catch-rate", "70%", "--max-rollout-time", "3h"],
    );
    assert_eq!(r.code(), 1, "{}", r.stdout());
    assert!(
        r.stdout().contains("catch rate is 60.0%; the limit is at least 70%"),
        "{}",
        r.stdout()
    );
    run(
        &sandbox,
        &["check", "--min-catch-rate", "50%", "--max-rollout-time", "3h"],
    )
    .success();

    let out = sandbox.path().join("badges");
    run(&sandbox, &["badge", "--out", out.to_str().expect("utf-8")]).success();
    let svg = std::fs::read_to_string(out.join("catch-rate.svg")).expect("badge");
    assert!(svg.contains("caught in rollout: 60.0%"), "{svg}");
}

#[test]
fn the_report_charts_failures_caught_and_rollout_time() {
    let sandbox = Sandbox::new();
    let (out, md) = sandbox.weekly_report(&input(), "2026-W11");
    assert!(
        md.contains("| Failures caught during rollout | 50.0% | 66.7% |"),
        "{md}"
    );
    for chart in ["rollout-failures", "rollout-time"] {
        assert!(out.join(format!("charts/{chart}.svg")).is_file(), "{chart}");
        assert!(md.contains(&format!("charts/{chart}.svg")), "{md}");
    }
}

#[test]
fn bad_rollout_data_is_an_error_naming_the_line() {
    let sandbox = Sandbox::new();
    let header = "id,repo,status,started_at,deployed_at,exposure\n";
    for (row, expected) in [
        (
            "d1,acme/pay,aborted,2026-03-03T10:00:00Z,2026-03-03T09:00:00Z,5\n",
            "`deployed_at` is before `started_at`",
        ),
        (
            "d1,acme/pay,success,2026-03-03T08:00:00Z,2026-03-03T09:00:00Z,150\n",
            "not a percentage from 0 to 100",
        ),
        ("d1,acme/pay,paused,,2026-03-03T09:00:00Z,\n", "not a deployment status"),
    ] {
        let dir = sandbox.path().join("bad");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("deployments.csv"), format!("{header}{row}")).expect("write");
        let r = sandbox.run(&["metrics", "--input", dir.to_str().expect("utf-8")]);
        assert_eq!(r.code(), 2, "{row}");
        let err = r.stderr();
        assert!(
            err.contains("deployments.csv:2") && err.contains(expected),
            "{row}: {err}"
        );
    }
    // A completed deployment may start after it ended (clocks): kept, no rollout time.
    let dir = sandbox.path().join("skew");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("deployments.csv"),
        format!("{header}d1,acme/pay,success,2026-03-03T10:00:00Z,2026-03-03T09:00:00Z,100\n"),
    )
    .expect("write");
    sandbox
        .run(&["metrics", "--input", dir.to_str().expect("utf-8"), "--all"])
        .success();
}

/// A Rollout of `kubectl get rollouts.argoproj.io -A -o json`, with its latest revision's
/// `status.duration` (written from the CRD's Go types: metadata, spec.template, status).
fn argo_rollout(name: &str, revision: u32, image_tag: &str, duration: &str, weight: u32) -> String {
    format!(
        r#"{{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {{"name": "{name}", "namespace": "pay", "annotations": {{"rollout.argoproj.io/revision": "{revision}", "dora.dev/repo": "acme/{name}"}}}},
            "spec": {{"replicas": 4, "template": {{"spec": {{"containers": [{{"name": "app", "image": "ghcr.io/acme/{name}:{image_tag}"}}]}}}}}},
            "status": {{"phase": "Healthy", "canary": {{"weights": {{"canary": {{"weight": {weight}}}, "stable": {{"weight": {}}}}}}}, "duration": {duration}}}}}"#,
        100 - weight
    )
}

#[test]
fn argo_rollouts_snapshots_build_the_history_and_reimports_change_nothing() {
    let sandbox = Sandbox::new();
    let snapshot = |name: &str, items: &[String]| {
        let path = sandbox.path().join(name);
        std::fs::write(
            &path,
            format!(
                r#"{{"apiVersion": "v1", "kind": "List", "items": [{}]}}"#,
                items.join(",")
            ),
        )
        .expect("write");
        path.to_str().expect("utf-8").to_string()
    };
    let promoted = |revision, tag, start: &str, end: &str| {
        argo_rollout(
            "checkout",
            revision,
            tag,
            &format!(r#"{{"rolloutStartedAt": "{start}", "finishedAt": "{end}", "completionStatus": "Promoted"}}"#),
            0,
        )
    };
    let first = snapshot(
        "t1.json",
        &[
            promoted(4, "a1b2c3d", "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"),
            r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "legacy"}}"#.to_string(),
        ],
    );
    let r = sandbox.run(&["import", "--from", "argo-rollouts", &first]).success();
    assert!(r.stderr().contains("1 finished revisions: 1 added"), "{}", r.stderr());
    assert!(
        r.stderr()
            .contains("skipped $.items[1]: not a Rollout (kind `Deployment`)"),
        "{}",
        r.stderr()
    );
    let again = sandbox.run(&["import", "--from", "argo-rollouts", &first]).success();
    assert!(
        again.stderr().contains("0 added, 0 replaced, 1 unchanged"),
        "{}",
        again.stderr()
    );
    // Later: revision 5 was aborted at 20% of the traffic.
    let aborted = argo_rollout(
        "checkout",
        5,
        "e4f5a6b",
        r#"{"rolloutStartedAt": "2026-03-03T09:00:00Z", "finishedAt": "2026-03-03T09:45:00Z", "completionStatus": "Aborted"}"#,
        20,
    );
    let second = snapshot("t2.json", &[aborted]);
    sandbox.run(&["import", "--from", "argo-rollouts", &second]).success();
    let rows = Value::from(query_rows(
        &sandbox,
        "SELECT id, repo, status, sha, exposure FROM deployments ORDER BY id",
    ));
    assert_eq!(
        rows,
        json!([
            {"id": "pay/checkout@4", "repo": "acme/checkout", "status": "success", "sha": "a1b2c3d", "exposure": 100.0},
            {"id": "pay/checkout@5", "repo": "acme/checkout", "status": "aborted", "sha": "e4f5a6b", "exposure": 20.0}
        ])
    );
    let j = sandbox.run(&["metrics", "--all", "--format", "json"]).success().json();
    let r = &j["overall"]["rollouts"];
    assert_eq!(
        (r["aborted"].as_u64(), r["escaped_failures"].as_u64()),
        (Some(1), Some(0))
    );
    assert_close(&j["overall"]["failed_deployment_recovery_hours"]["median"], 0.75);

    // A completion status dora does not know: an error naming the object's path.
    let odd = snapshot(
        "t3.json",
        &[argo_rollout(
            "checkout",
            6,
            "x",
            r#"{"rolloutStartedAt": "2026-03-04T09:00:00Z", "finishedAt": "2026-03-04T09:45:00Z", "completionStatus": "Exploded"}"#,
            0,
        )],
    );
    let r = sandbox.run(&["import", "--from", "argo-rollouts", &odd]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("$.items[0].status.duration.completionStatus"),
        "{}",
        r.stderr()
    );
}

#[test]
fn flagger_canaries_import_as_deployments() {
    let sandbox = Sandbox::new();
    let path = sandbox.path().join("canaries.json");
    std::fs::write(
        &path,
        r#"{"kind": "List", "items": [{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
            "metadata": {"name": "podinfo", "namespace": "test"},
            "status": {"phase": "Failed", "canaryWeight": 15, "failedChecks": 5, "iterations": 3,
                       "lastAppliedSpec": "7d9f6c", "lastTransitionTime": "2026-03-05T12:00:00Z"}}]}"#,
    )
    .expect("write");
    sandbox
        .run(&[
            "import",
            "--from",
            "flagger",
            path.to_str().expect("utf-8"),
            "--repo",
            "acme/podinfo",
        ])
        .success();
    let rows = Value::from(query_rows(
        &sandbox,
        "SELECT id, repo, status, exposure FROM deployments",
    ));
    assert_eq!(
        rows,
        json!([{"id": "test/podinfo@7d9f6c", "repo": "acme/podinfo", "status": "aborted", "exposure": 15.0}])
    );
}
