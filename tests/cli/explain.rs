//! `dora explain`: the figure equals `dora metrics` for the same selection, and the rows it
//! lists give that figure back.

use serde_json::Value;

use crate::{Sandbox, assert_close, fixture};

const METRICS: [&str; 6] = [
    "deployment-frequency",
    "lead-time",
    "change-failure-rate",
    "time-to-restore",
    "recovery-time",
    "rework-rate",
];

/// Linear-interpolated quantile, as Polars computes it.
fn quantile(mut values: Vec<f64>, q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let position = q * (values.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    Some(values[low] + (values[high] - values[low]) * (position - low as f64))
}

fn numbers(rows: &[Value], column: &str, keep: impl Fn(&Value) -> bool) -> Vec<f64> {
    rows.iter()
        .filter(|r| keep(r))
        .filter_map(|r| r[column].as_f64())
        .collect()
}

fn count(rows: &[Value], keep: impl Fn(&Value) -> bool) -> u64 {
    rows.iter().filter(|r| keep(r)).count() as u64
}

fn assert_same(a: &Value, b: Option<f64>) {
    match b {
        None => assert_eq!(a, &Value::Null),
        Some(b) => assert_close(a, b),
    }
}

/// Checks one explanation against the metrics figures of the same selection.
fn check(metric: &str, explained: &Value, figures: &Value) {
    let figure = &explained["figure"];
    let rows = explained["rows"].as_array().expect("rows");
    assert_eq!(
        explained["row_count"].as_u64(),
        Some(rows.len() as u64),
        "{metric}: all rows"
    );
    let yes = |column: &'static str| move |r: &Value| r[column] == Value::Bool(true);
    let no = |column: &'static str| move |r: &Value| r[column] == Value::Bool(false);
    let any = |_: &Value| true;
    match metric {
        "deployment-frequency" => {
            assert_eq!(figure["deployments"], figures["deployments"]);
            assert_eq!(figure["per_week"], figures["deployment_frequency"]["per_week"]);
            assert_eq!(figure["level"], figures["levels"]["deployment_frequency"]);
            assert_eq!(Some(count(rows, any)), figures["deployments"].as_u64());
        }
        "lead-time" => {
            let lt = &figures["lead_time_hours"];
            for (a, b) in [("count", "count"), ("median_hours", "median"), ("p90_hours", "p90")] {
                assert_eq!(figure[a], lt[b], "{metric} {a}");
            }
            assert_eq!(figure["level"], figures["levels"]["lead_time"]);
            let counted = numbers(rows, "lead_time_hours", yes("counted"));
            assert_eq!(Some(counted.len() as u64), lt["count"].as_u64());
            assert_eq!(Some(count(rows, no("counted"))), lt["negative_dropped"].as_u64());
            assert_same(&lt["median"], quantile(counted.clone(), 0.5));
            assert_same(&lt["p90"], quantile(counted, 0.9));
        }
        "change-failure-rate" => {
            assert_eq!(figure["failed_deployments"], figures["failed_deployments"]);
            assert_eq!(figure["change_failure_rate"], figures["change_failure_rate"]);
            assert_eq!(Some(count(rows, yes("failed"))), figures["failed_deployments"].as_u64());
            assert_eq!(Some(count(rows, any)), figures["deployments"].as_u64());
        }
        "time-to-restore" => {
            let ttr = &figures["time_to_restore_hours"];
            assert_eq!(figure["median_hours"], ttr["median"]);
            assert_eq!(figure["open"], ttr["open"]);
            let resolved = numbers(rows, "restore_hours", no("open"));
            assert_eq!(Some(resolved.len() as u64), ttr["count"].as_u64());
            assert_eq!(Some(count(rows, yes("open"))), ttr["open"].as_u64());
            assert_same(&ttr["median"], quantile(resolved, 0.5));
        }
        "recovery-time" => {
            let rec = &figures["failed_deployment_recovery_hours"];
            assert_eq!(figure["median_hours"], rec["median"]);
            let recovered = numbers(rows, "recovery_hours", no("recovery_open"));
            assert_eq!(Some(recovered.len() as u64), rec["count"].as_u64());
            assert_eq!(Some(count(rows, yes("recovery_open"))), rec["open"].as_u64());
            assert_same(&rec["median"], quantile(recovered, 0.5));
        }
        "rework-rate" => {
            assert_eq!(figure["rework_rate"], figures["rework_rate"]);
            assert_eq!(Some(count(rows, yes("rework"))), figures["rework_deployments"].as_u64());
        }
        other => panic!("unknown metric {other}"),
    }
}

#[test]
fn explain_equals_metrics_for_a_repository_and_a_week() {
    let sandbox = Sandbox::new();
    let input = fixture("sample");
    let input = input.to_str().expect("utf-8");
    let tz = ["--tz", "America/Los_Angeles"];
    for (repo, week, since, until) in [
        ("acme/service-000", "2026-W10", "2026-03-02", "2026-03-09"),
        ("acme/service-002", "2026-W16", "2026-04-13", "2026-04-20"),
    ] {
        let mut args = vec!["metrics", "--input", input, "--format", "json", "--by", "repo"];
        args.extend(["--since", since, "--until", until]);
        args.extend(tz);
        let m = sandbox.run(&args).success().json();
        let groups = m["groups"].as_array().expect("groups");
        let figures = groups.iter().find(|g| g["repo"] == repo).expect("the repo's group");
        for metric in METRICS {
            let mut args = vec!["explain", metric, "--input", input, "--format", "json"];
            args.extend(["--repo", repo, "--period", week]);
            args.extend(tz);
            let e = sandbox.run(&args).success().json();
            assert_eq!(e["since"], m["window"]["since"], "{metric}");
            assert_eq!(e["until"], m["window"]["until"], "{metric}");
            check(metric, &e, figures);
        }
    }
}

#[test]
fn explain_equals_metrics_over_all_repositories() {
    let sandbox = Sandbox::new();
    for scenario in ["basic", "sample"] {
        let input = fixture(scenario);
        let input = input.to_str().expect("utf-8");
        let m = sandbox
            .run(&["metrics", "--input", input, "--format", "json", "--all"])
            .success()
            .json();
        for metric in METRICS {
            let e = sandbox
                .run(&["explain", metric, "--input", input, "--format", "json", "--all"])
                .success()
                .json();
            check(metric, &e, &m["overall"]);
        }
    }
}

#[test]
fn the_table_shows_the_figure_and_the_rows_that_move_it_most() {
    let sandbox = Sandbox::new();
    let text = crate::on_basic(&sandbox, "explain", &["lead-time", "--limit", "3"])
        .success()
        .stdout();
    insta::assert_snapshot!("explain_lead_time_table", text);
}

#[test]
fn bad_selections_say_what_exists() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let input = input.to_str().expect("utf-8");
    let r = sandbox.run(&["explain", "lead-time", "--input", input, "--all", "--repo", "acme/apii"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains(
            "invalid --repo `acme/apii`: expected a repository with production deployments: acme/api, acme/web"
        ),
        "{}",
        r.stderr()
    );
    let r = sandbox.run(&["explain", "lead-time", "--input", input, "--period", "2026-W60"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr()
            .contains("invalid --period `2026-W60`: expected an ISO week (2026-W47)"),
        "{}",
        r.stderr()
    );
    let r = sandbox.run(&[
        "explain",
        "lead-time",
        "--input",
        input,
        "--period",
        "2026-W10",
        "--all",
    ]);
    assert_eq!(r.code(), 2, "--period and --all conflict");
}

/// `--limit N` shows the first N rows of the whole list, from a CSV folder and from a store
/// (whose deployed commits find their deployment by row): the first rows are chosen by
/// selection, not by sorting them all. `basic` has a negative lead time, `sample` many rows.
#[test]
fn the_first_rows_are_the_first_of_all_rows() {
    let mut negative = 0;
    for scenario in ["basic", "sample"] {
        let sandbox = Sandbox::new();
        let input = fixture(scenario);
        let input = input.to_str().expect("utf-8");
        sandbox.run(&["import", input]).success();
        for source in [&["--input", input][..], &[][..]] {
            let explain = |limit: &str| {
                let mut args = vec!["explain", "lead-time", "--format", "json", "--all", "--limit", limit];
                args.extend(source);
                sandbox.run(&args).success().json()
            };
            let all = explain("0");
            let rows = all["rows"].as_array().expect("rows");
            negative += rows.iter().filter(|r| r["counted"] == Value::Bool(false)).count();
            for n in [1, 2, 7, 50, rows.len() - 1, rows.len(), rows.len() + 3] {
                let first = explain(&n.to_string());
                assert_eq!(first["row_count"], all["row_count"], "{scenario} {source:?} {n}");
                let shown = first["rows"].as_array().expect("rows");
                assert_eq!(shown[..], rows[..n.min(rows.len())], "{scenario} {source:?} {n}");
            }
        }
    }
    assert!(negative > 0, "negative lead times listed last");
}
