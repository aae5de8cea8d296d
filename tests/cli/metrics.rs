//! `dora metrics` on the hand-computed scenarios (figures explained in each notes.md).

use serde_json::Value;

use crate::{Sandbox, assert_close, fixture};

const WINDOW: [&str; 6] = ["--since", "2026-03-01", "--until", "2026-03-16", "--tz", "UTC"];

fn basic_json(extra: &[&str]) -> Value {
    basic_json_in(&WINDOW, extra)
}

/// `dora metrics` on the basic fixture in another window.
fn basic_json_in(window: &[&str], extra: &[&str]) -> Value {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let mut args = vec![
        "metrics",
        "--input",
        input.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ];
    args.extend(window);
    args.extend(extra);
    sandbox.run(&args).success().json()
}

#[test]
fn basic_overall_figures() {
    let j = basic_json(&[]);
    let o = &j["overall"];
    assert_eq!(j["schema_version"], 3);
    assert_eq!(j["window"]["since"], "2026-03-01T00:00:00Z");
    assert_eq!(j["window"]["until"], "2026-03-16T00:00:00Z");
    assert_eq!(o["deployments"], 6);
    assert_eq!(o["failed_deployments"], 2);
    assert_close(&o["change_failure_rate"], 2.0 / 6.0);
    assert_eq!(o["rework_deployments"], 1);
    assert_close(&o["rework_rate"], 1.0 / 6.0);
    let lt = &o["lead_time_hours"];
    assert_eq!(lt["count"], 6);
    assert_eq!(lt["negative_dropped"], 1);
    assert_close(&lt["median"], 17.0);
    assert_close(&lt["p75"], 23.5);
    assert_close(&lt["p90"], 30.0);
    let ttr = &o["time_to_restore_hours"];
    assert_eq!(ttr["count"], 2);
    assert_eq!(ttr["open"], 1);
    assert_close(&ttr["median"], 2.0);
    assert_close(&ttr["p90"], 2.8);
    let rec = &o["failed_deployment_recovery_hours"];
    assert_eq!(rec["count"], 1);
    assert_eq!(rec["open"], 1);
    assert_close(&rec["median"], 5.0);
    let df = &o["deployment_frequency"];
    assert_close(&df["per_day"], 0.4);
    assert_close(&df["per_week"], 2.8);
    assert_eq!(df["days_with_deployments"], 5);
    assert_eq!(o["unattributed_incidents"], 1);
    assert_eq!(o["levels"]["deployment_frequency"], "high");
    assert_eq!(o["levels"]["lead_time"], "elite");
    assert_eq!(o["levels"]["change_failure_rate"], "low");
    assert_eq!(o["levels"]["time_to_restore"], "high");
}

#[test]
fn basic_by_repo() {
    let j = basic_json(&["--by", "repo"]);
    let groups = j["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 2);
    let api = &groups[0];
    assert_eq!(api["repo"], "acme/api");
    assert_eq!(api["deployments"], 4);
    assert_eq!(api["failed_deployments"], 2);
    assert_close(&api["change_failure_rate"], 0.5);
    assert_close(&api["lead_time_hours"]["median"], 12.0);
    assert_eq!(api["rework_deployments"], 1);
    assert_eq!(api["unattributed_incidents"], 0);
    let web = &groups[1];
    assert_eq!(web["repo"], "acme/web");
    assert_eq!(web["deployments"], 2);
    assert_eq!(web["failed_deployments"], 0);
    assert_eq!(web["lead_time_hours"]["count"], 1);
    assert_eq!(web["lead_time_hours"]["negative_dropped"], 1);
    assert_eq!(web["time_to_restore_hours"]["count"], 1);
    assert_eq!(web["unattributed_incidents"], 1);
}

#[test]
fn a_group_without_deployments_in_the_window_is_listed_with_zero() {
    // acme/api last deployed on 2026-03-06: a week later it still appears, with nothing.
    let j = basic_json_in(&["--since", "2026-03-08", "--until", "2026-03-31"], &["--by", "repo"]);
    let groups = j["groups"].as_array().expect("groups");
    let repos: Vec<&str> = groups.iter().filter_map(|g| g["repo"].as_str()).collect();
    assert_eq!(repos, ["acme/api", "acme/web"]);
    assert_eq!(groups[0]["deployments"], 0);
    assert_eq!(groups[0]["lead_time_hours"]["count"], 0);
    assert_eq!(groups[0]["lead_time_hours"]["median"], Value::Null);
    assert_eq!(groups[1]["deployments"], 1);
}

#[test]
fn basic_by_week_lists_every_week() {
    let j = basic_json(&["--period", "week"]);
    let periods = j["periods"].as_array().expect("periods");
    let starts: Vec<&str> = periods.iter().map(|p| p["start"].as_str().expect("start")).collect();
    assert_eq!(starts, ["2026-02-23", "2026-03-02", "2026-03-09"]);
    assert_eq!(periods[0]["deployments"], 0);
    assert_eq!(
        periods[0]["change_failure_rate"],
        Value::Null,
        "no deployments: unknown, not 0"
    );
    assert_eq!(periods[0]["time_to_restore_hours"]["count"], 1);
    assert_eq!(periods[1]["deployments"], 5);
    assert_eq!(periods[1]["failed_deployments"], 2);
    assert_eq!(periods[2]["deployments"], 1);
    assert_close(&periods[2]["deployment_frequency"]["per_day"], 1.0 / 7.0);
}

#[test]
fn groups_with_periods_nest() {
    let j = basic_json(&["--by", "team", "--period", "week"]);
    let groups = j["groups"].as_array().expect("groups");
    assert_eq!(
        groups
            .iter()
            .map(|g| g["team"].as_str().expect("team"))
            .collect::<Vec<_>>(),
        ["core", "front"]
    );
    let core_weeks = groups[0]["periods"].as_array().expect("periods");
    assert_eq!(core_weeks.len(), 3);
    assert_eq!(core_weeks[1]["deployments"], 4);
    // i3 has no cause; it is grouped with the team of acme/web's latest deployment.
    assert_eq!(groups[1]["time_to_restore_hours"]["count"], 1);
}

#[test]
fn week_across_dst_in_los_angeles() {
    // 2026-03-09T06:30Z is Sunday 2026-03-08 23:30 in Los Angeles (PDT, after the change):
    // it belongs to the week of Monday 2026-03-02 there, and to the next week in UTC.
    let sandbox = Sandbox::new();
    let dir = sandbox.path().join("dst");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("deployments.csv"),
        "id,repo,deployed_at\na,r,2026-03-02T08:00:00Z\nb,r,2026-03-09T06:30:00Z\nc,r,2026-03-09T07:00:00Z\n",
    )
    .expect("write");
    let run = |tz: &str| {
        sandbox
            .run(&[
                "metrics",
                "--input",
                dir.to_str().expect("utf-8"),
                "--since",
                "2026-03-02",
                "--until",
                "2026-03-16",
                "--tz",
                tz,
                "--period",
                "week",
                "--format",
                "json",
            ])
            .success()
            .json()
    };
    let la = run("America/Los_Angeles");
    let weeks: Vec<(String, u64)> = la["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .map(|p| {
            (
                p["start"].as_str().expect("start").to_string(),
                p["deployments"].as_u64().expect("n"),
            )
        })
        .collect();
    assert_eq!(weeks, [("2026-03-02".to_string(), 2), ("2026-03-09".to_string(), 1)]);
    assert_eq!(
        la["window"]["since"], "2026-03-02T08:00:00Z",
        "a date is local midnight in --tz"
    );
    let utc = run("UTC");
    assert_eq!(utc["periods"][0]["deployments"], 1);
    assert_eq!(utc["periods"][1]["deployments"], 2);
}

#[test]
fn store_and_input_agree() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    sandbox.run(&["import", input.to_str().expect("utf-8")]).success();
    let mut from_store = vec!["metrics", "--format", "json", "--by", "repo", "--period", "week"];
    from_store.extend(WINDOW);
    let mut a = sandbox.run(&from_store).success().json();
    let mut b = basic_json(&["--by", "repo", "--period", "week"]);
    // Same figures; the inputs differ by design (a store, a CSV folder).
    assert_eq!(a["inputs"]["source"], "store");
    assert_eq!(b["inputs"]["source"], "csv");
    a["inputs"] = Value::Null;
    b["inputs"] = Value::Null;
    assert_eq!(a, b);
}

#[test]
fn empty_window_is_unknown_not_zero() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let j = sandbox
        .run(&[
            "metrics",
            "--input",
            input.to_str().expect("utf-8"),
            "--since",
            "2020-01-01",
            "--until",
            "2020-02-01",
            "--format",
            "json",
        ])
        .success()
        .json();
    let o = &j["overall"];
    assert_eq!(o["deployments"], 0);
    assert_eq!(o["change_failure_rate"], Value::Null);
    assert_eq!(o["lead_time_hours"]["median"], Value::Null);
    assert_eq!(o["levels"]["lead_time"], Value::Null);
    assert_close(&o["deployment_frequency"]["per_day"], 0.0);
}

#[test]
fn all_takes_the_span_of_the_data() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let j = sandbox
        .run(&[
            "metrics",
            "--input",
            input.to_str().expect("utf-8"),
            "--all",
            "--format",
            "json",
        ])
        .success()
        .json();
    assert_eq!(j["window"]["since"], "2026-03-01T00:00:00Z");
    assert_eq!(j["window"]["until"], "2026-03-10T00:00:00Z");
    assert_eq!(j["overall"]["deployments"], 6);
}

#[test]
fn without_deployment_commits_lead_time_uses_commit_times() {
    // Commits go to the first production deployment at or after them: a2 (03-02 22:00) and a3
    // wait for d3 (d2 failed), b2 (03-09 11:00) is after w2 and ships with nothing.
    let sandbox = Sandbox::new();
    let dir = sandbox.copy_fixture("basic");
    std::fs::remove_file(dir.join("deployment_commits.csv")).expect("remove");
    let mut args = vec!["metrics", "--input", dir.to_str().expect("utf-8"), "--format", "json"];
    args.extend(WINDOW);
    let j = sandbox.run(&args).success().json();
    let lt = &j["overall"]["lead_time_hours"];
    assert_eq!(lt["count"], 6);
    assert_eq!(lt["negative_dropped"], 0);
    assert_close(&lt["median"], 17.0);
    assert_eq!(j["lead_time_source"], "commit times");
}

#[test]
fn formats_render() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    for format in ["table", "markdown", "csv", "json"] {
        let mut args = vec![
            "metrics",
            "--input",
            input.to_str().expect("utf-8"),
            "--by",
            "repo",
            "--period",
            "week",
            "--format",
            format,
        ];
        args.extend(WINDOW);
        let out = sandbox.run(&args).success().stdout();
        insta::assert_snapshot!(format!("basic_{format}"), out);
    }
}

#[test]
fn out_writes_a_file() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let out = sandbox.path().join("metrics.json");
    let mut args = vec![
        "metrics",
        "--input",
        input.to_str().expect("utf-8"),
        "--format",
        "json",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend(WINDOW);
    let run = sandbox.run(&args).success();
    assert!(run.stdout().is_empty());
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    assert_eq!(j["overall"]["deployments"], 6);
}

#[test]
fn no_store_is_a_clear_error() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["metrics"]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("no store at"), "{}", run.stderr());
    assert!(run.stderr().contains("dora import"), "{}", run.stderr());
}

#[test]
fn bad_arguments_exit_2() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let path = input.to_str().expect("utf-8");
    for (args, message) in [
        (
            vec!["metrics", "--input", path, "--tz", "Mars/Olympus"],
            "unknown time zone `Mars/Olympus`",
        ),
        (
            vec!["metrics", "--input", path, "--since", "last week"],
            "invalid --since `last week`",
        ),
        (
            vec![
                "metrics",
                "--input",
                path,
                "--since",
                "2026-02-01",
                "--until",
                "2026-01-01",
            ],
            "a time before --until",
        ),
        (vec!["metrics", "--by", "planet"], "invalid value 'planet'"),
    ] {
        let run = sandbox.run(&args);
        assert_eq!(run.code(), 2, "{args:?}");
        assert!(run.stderr().contains(message), "{args:?}: {}", run.stderr());
    }
}

/// Writes a scenario folder from inline CSV texts and returns its path.
fn scenario(sandbox: &Sandbox, files: &[(&str, &str)]) -> String {
    let dir = sandbox.path().join("scenario");
    std::fs::create_dir_all(&dir).expect("dir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write");
    }
    dir.to_str().expect("utf-8").to_string()
}

#[test]
fn same_instant_deployments_and_rollback_recovery() {
    // x1 and x2 deploy at the same instant; the incident created at that instant falls in
    // [x2, x3): x1's interval is empty, so x2 (later in id order) failed, not x1.
    // r1 is rolled back with no incident: it recovers at the next deployment r2 (3 h later).
    // r2 has no next deployment and is not failed. x3 is rolled back and has no next: open.
    let sandbox = Sandbox::new();
    let dir = scenario(
        &sandbox,
        &[
            (
                "deployments.csv",
                "id,repo,deployed_at,status\n\
                 x1,svc,2026-03-02T10:00:00Z,success\n\
                 x2,svc,2026-03-02T10:00:00Z,success\n\
                 x3,svc,2026-03-03T10:00:00Z,rolled_back\n\
                 r1,other,2026-03-02T10:00:00Z,rolled_back\n\
                 r2,other,2026-03-02T13:00:00Z,success\n",
            ),
            (
                "incidents.csv",
                "id,repo,created_at,resolved_at\nI,svc,2026-03-02T10:00:00Z,2026-03-02T12:00:00Z\n",
            ),
        ],
    );
    let j = sandbox
        .run(&[
            "metrics",
            "--input",
            &dir,
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-08",
            "--by",
            "repo",
            "--format",
            "json",
        ])
        .success()
        .json();
    let o = &j["overall"];
    assert_eq!(o["deployments"], 5);
    assert_eq!(o["failed_deployments"], 3, "x2, x3, r1");
    let rec = &o["failed_deployment_recovery_hours"];
    assert_eq!(rec["count"], 2, "x2 recovers when I resolves (2 h), r1 at r2 (3 h)");
    assert_close(&rec["median"], 2.5);
    assert_eq!(rec["open"], 1, "x3: rolled back, no next deployment yet");
    assert_eq!(o["unattributed_incidents"], 0);
    assert_eq!(o["lead_time_hours"]["count"], 0, "no commits: unknown lead time");
    assert_eq!(o["lead_time_hours"]["median"], Value::Null);
}

#[test]
fn rework_by_open_incident_and_by_kind() {
    // y2 is deployed while incident J (resolved) is open: rework. y3 states kind normal while
    // J is open: not rework, the stated kind wins. y4 is deployed while K is open but K is
    // unresolved: not rework.
    let sandbox = Sandbox::new();
    let dir = scenario(
        &sandbox,
        &[
            (
                "deployments.csv",
                "id,repo,deployed_at,kind\n\
                 y1,svc,2026-03-02T10:00:00Z,\n\
                 y2,svc,2026-03-02T12:00:00Z,\n\
                 y3,svc,2026-03-02T13:00:00Z,normal\n\
                 y4,svc,2026-03-04T10:00:00Z,\n",
            ),
            (
                "incidents.csv",
                "id,repo,created_at,resolved_at,deployment_id\n\
                 J,svc,2026-03-02T11:00:00Z,2026-03-02T14:00:00Z,y1\n\
                 K,svc,2026-03-03T00:00:00Z,,y3\n",
            ),
        ],
    );
    let j = sandbox
        .run(&[
            "metrics",
            "--input",
            &dir,
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-08",
            "--format",
            "json",
        ])
        .success()
        .json();
    assert_eq!(j["overall"]["rework_deployments"], 1);
    assert_eq!(j["overall"]["failed_deployments"], 2, "y1 and y3 are named");
}

#[test]
fn by_service_places_incidents_through_their_deployments() {
    // The incidents have no `service` column: i1 goes to d3's service (api), i2 to d4's (api),
    // and i3, blamed on nothing, to the service of acme/web's latest deployment (web).
    let j = basic_json(&["--by", "service"]);
    let groups = j["groups"].as_array().expect("groups");
    assert_eq!(
        groups
            .iter()
            .map(|g| g["service"].as_str().expect("service"))
            .collect::<Vec<_>>(),
        ["api", "web"]
    );
    assert_eq!(groups[0]["deployments"], 4);
    assert_eq!(groups[0]["time_to_restore_hours"]["count"], 1);
    assert_eq!(groups[0]["time_to_restore_hours"]["open"], 1);
    assert_eq!(groups[1]["time_to_restore_hours"]["count"], 1);
    assert_eq!(groups[1]["unattributed_incidents"], 1);
}

#[test]
fn json_artifact_matches_its_schema() {
    let schema_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json-artifact.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema")).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let sandbox = Sandbox::new();
    sandbox
        .run(&["import", fixture("sample").to_str().expect("utf-8")])
        .success();
    let sample = fixture("sample");
    let sample = sample.to_str().expect("utf-8");
    let feedback = fixture("feedback");
    let feedback = feedback.to_str().expect("utf-8");
    let rollouts = fixture("rollouts");
    let rollouts = rollouts.to_str().expect("utf-8");
    for extra in [
        vec![],
        vec!["--by", "repo", "--period", "week", "--input", feedback],
        vec!["--by", "repo", "--period", "week", "--input", rollouts],
        vec!["--by", "repo", "--period", "week"],
        vec!["--by", "team", "--period", "month", "--tz", "Asia/Kolkata"],
        vec!["--by", "service", "--period", "day", "--input", sample],
        vec!["--since", "2020-01-01", "--until", "2020-02-01"],
        vec!["--downtime-cost-per-hour", "10000", "--org-size", "solo"],
    ] {
        let mut args = vec!["metrics", "--format", "json"];
        if !extra.contains(&"--since") {
            args.push("--all");
        }
        args.extend(&extra);
        let artifact = sandbox.run(&args).success().json();
        let errors: Vec<String> = validator
            .iter_errors(&artifact)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{extra:?}: {errors:#?}");
        assert!(
            artifact["inputs"]["fingerprint"]
                .as_str()
                .is_some_and(|f| f.starts_with("sha256:"))
        );
    }
    // The schema is strict: a stray field or a wrong type is caught.
    let mut artifact = sandbox.run(&["metrics", "--format", "json", "--all"]).success().json();
    artifact["overall"]["deployments"] = Value::from(-1);
    assert!(!validator.is_valid(&artifact));
}

#[test]
fn the_fingerprint_follows_the_content() {
    let sandbox = Sandbox::new();
    let dir = sandbox.copy_fixture("basic");
    let fingerprint = || {
        sandbox
            .run(&[
                "metrics",
                "--input",
                dir.to_str().expect("utf-8"),
                "--all",
                "--format",
                "json",
            ])
            .success()
            .json()["inputs"]["fingerprint"]
            .clone()
    };
    let first = fingerprint();
    assert_eq!(first, fingerprint(), "same data, same fingerprint");
    let incidents = dir.join("incidents.csv");
    let mut text = std::fs::read_to_string(&incidents).expect("read");
    text.push_str("i9,acme/api,2026-03-08T00:00:00Z,,,,\n");
    std::fs::write(&incidents, text).expect("write");
    assert_ne!(first, fingerprint());
    // The store records its files' hashes when it writes them.
    sandbox.run(&["import", dir.to_str().expect("utf-8")]).success();
    let from_store = sandbox.run(&["metrics", "--all", "--format", "json"]).success().json();
    assert_eq!(from_store["inputs"]["source"], "store");
    sandbox.run(&["import", dir.to_str().expect("utf-8")]).success();
    let again = sandbox.run(&["metrics", "--all", "--format", "json"]).success().json();
    assert_eq!(
        from_store["inputs"], again["inputs"],
        "an import that changes nothing keeps the fingerprint"
    );
}

#[test]
fn pull_request_breakdown_by_hand() {
    // fixtures/csv/pull-requests/notes.md
    let sandbox = Sandbox::new();
    let input = fixture("pull-requests");
    let mut args = vec!["metrics", "--input", input.to_str().expect("utf-8"), "--format", "json"];
    args.extend(WINDOW);
    let j = sandbox.run(&args).success().json();
    let b = &j["pull_requests"];
    assert_eq!(b["pull_requests"], 4);
    for (stage, median) in [("coding", 1.0), ("pickup", 2.0), ("review", 21.0), ("deploy", 6.0)] {
        assert_eq!(b[stage]["count"], 3, "{stage}");
        assert_close(&b[stage]["median"], median);
    }
    // Lines per pull request: 150, 10, 4, 40.
    let lines = &b["lines_per_change"];
    assert_eq!(lines["count"], 4);
    assert_close(&lines["median"], 25.0);
    let by_size = &lines["by_size"];
    assert_eq!(
        ["none", "1_10", "11_50", "51_100", "101_250", "over_250"].map(|k| by_size[k].as_u64()),
        [0, 2, 1, 0, 1, 0].map(Some)
    );
    // The same from the store, and nothing without pull requests.
    sandbox.run(&["import", input.to_str().expect("utf-8")]).success();
    let mut from_store = vec!["metrics", "--format", "json"];
    from_store.extend(WINDOW);
    assert_eq!(
        sandbox.run(&from_store).success().json()["pull_requests"],
        j["pull_requests"]
    );
    assert_eq!(basic_json(&[])["pull_requests"], Value::Null);
}

#[test]
fn the_store_resolves_commit_times_once_and_agrees_with_the_csv_folder() {
    // The store writes each deployed commit's time into deployment_commits (docs/store.md), so
    // lead time from the store takes another path than from a CSV folder: same figures.
    let sandbox = Sandbox::new();
    let sample = fixture("sample");
    sandbox.run(&["import", sample.to_str().expect("utf-8")]).success();
    for extra in [
        vec!["--by", "repo", "--period", "week", "--tz", "America/Los_Angeles"],
        vec!["--by", "team", "--period", "month"],
        vec!["--by", "service", "--period", "day", "--tz", "Asia/Kolkata"],
    ] {
        let mut from_store = vec!["metrics", "--all", "--format", "json"];
        from_store.extend(&extra);
        let mut from_csv = from_store.clone();
        from_csv.extend(["--input", sample.to_str().expect("utf-8")]);
        let mut a = sandbox.run(&from_store).success().json();
        let mut b = sandbox.run(&from_csv).success().json();
        a["inputs"] = Value::Null;
        b["inputs"] = Value::Null;
        assert_eq!(a, b, "{extra:?}");
    }
    // Stores written before `deployment_row`, or before both derived columns, are still read,
    // with the same figures (lead time joins on the id, or on the sha too).
    let reference = |sandbox: &Sandbox| {
        let mut j = sandbox
            .run(&[
                "metrics", "--all", "--format", "json", "--by", "repo", "--period", "week",
            ])
            .success()
            .json();
        j["inputs"] = Value::Null;
        j
    };
    let expected = reference(&sandbox);
    let file = sandbox.store().join("data/deployment_commits.parquet");
    for keep in [&["deployment_id", "sha", "committed_at"][..], &["deployment_id", "sha"]] {
        use polars::prelude::*;
        let read = std::fs::File::open(&file).expect("open");
        let mut frame = ParquetReader::new(read)
            .finish()
            .expect("read")
            .select(keep.iter().copied())
            .expect("columns");
        let write = std::fs::File::create(&file).expect("create");
        ParquetWriter::new(write).finish(&mut frame).expect("write");
        assert_eq!(reference(&sandbox), expected, "{keep:?}");
    }
    // Commits imported after the deployments they belong to are picked up too.
    let sandbox = Sandbox::new();
    let basic = fixture("basic");
    let dir = basic.to_str().expect("utf-8");
    sandbox
        .run(&[
            "import",
            "--deployments",
            &format!("{dir}/deployments.csv"),
            "--deployment-commits",
            &format!("{dir}/deployment_commits.csv"),
        ])
        .success();
    sandbox
        .run(&["import", "--commits", &format!("{dir}/commits.csv")])
        .success();
    let mut args = vec!["metrics", "--format", "json"];
    args.extend(WINDOW);
    let j = sandbox.run(&args).success().json();
    assert_eq!(j["overall"]["lead_time_hours"]["count"], 6);
    assert_close(&j["overall"]["lead_time_hours"]["median"], 17.0);
}
