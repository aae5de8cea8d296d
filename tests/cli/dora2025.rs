//! DORA 2025 on the basic fixture: the Quick Check benchmark rows (`--industry`, `--org-size`,
//! dora.toml), the two rating scales, batch size and the cost of instability.

use serde_json::Value;

use crate::{Sandbox, assert_close, fixture, on_basic, on_fixture};

fn metrics(sandbox: &Sandbox, extra: &[&str]) -> crate::Run {
    on_basic(sandbox, "metrics", extra)
}

fn query_csv(sandbox: &Sandbox, sql: &str) -> String {
    on_basic(sandbox, "query", &[sql, "--format", "csv"]).success().stdout()
}

fn json(sandbox: &Sandbox, extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend(extra);
    metrics(sandbox, &args).success().json()
}

#[test]
fn the_benchmark_is_the_row_the_flags_or_dora_toml_choose() {
    let sandbox = Sandbox::new();
    let all = &json(&sandbox, &[])["quick_check_benchmark"];
    assert_eq!(all["row"], "all");
    assert_eq!(all["file"], "editions_2025_industry_metrics.json");
    assert_close(&all["overall"], 6.72);
    // Technology: lead time 5.7, change failure 1.9 (shown 8.1), instability 2.1.
    let tech = &json(&sandbox, &["--industry", "Technology"])["quick_check_benchmark"];
    assert_eq!(tech["row"], "technology");
    assert_close(&tech["lead_time"], 5.7);
    assert_close(&tech["change_failure_rate"], 8.1);
    assert_close(&tech["stability"], 7.9);
    // The organization-size file's recovery is read as 10 - x: 10,000 or more, 2.8 -> 7.2.
    let big = &json(&sandbox, &["--org-size", "more_than_9999"])["quick_check_benchmark"];
    assert_eq!(big["name"], "10,000 or more employees");
    assert_close(&big["failed_deployment_recovery"], 7.2);
    assert_close(&big["deployment_frequency"], 4.9);

    let unknown = metrics(&sandbox, &["--industry", "shipping"]);
    assert_eq!(unknown.code(), 2);
    assert!(
        unknown.stderr().contains("--industry `shipping`") && unknown.stderr().contains("financial_services"),
        "{}",
        unknown.stderr()
    );
    assert_eq!(
        metrics(&sandbox, &["--industry", "energy", "--org-size", "solo"]).code(),
        2
    );

    // dora.toml in the working folder; a flag wins over it.
    std::fs::write(
        sandbox.path().join("dora.toml"),
        "[metrics]\nindustry = \"insurance\"\nlevels = \"2023\"\n",
    )
    .expect("write");
    assert_eq!(json(&sandbox, &[])["quick_check_benchmark"]["row"], "insurance");
    assert_eq!(
        json(&sandbox, &["--org-size", "solo"])["quick_check_benchmark"]["row"],
        "solo"
    );
    let table = metrics(&sandbox, &[]).success().stdout();
    assert!(
        table.contains("level (DORA 2023)") && table.contains("elite"),
        "{table}"
    );
    std::fs::write(sandbox.path().join("dora.toml"), "[metrics]\nlevels = \"2024\"\n").expect("write");
    let bad = metrics(&sandbox, &[]);
    assert_eq!(bad.code(), 2);
    assert!(
        bad.stderr().contains("dora.toml") && bad.stderr().contains("\"2024\""),
        "{}",
        bad.stderr()
    );
}

#[test]
fn ratings_follow_the_scale_and_the_json_keeps_both() {
    let sandbox = Sandbox::new();
    // 17 h lead time: "Less than one day", 8.0; 33.3% change failure rate: 6.7.
    let scored = metrics(&sandbox, &[]).success().stdout();
    assert!(
        scored.contains("Quick Check 2025") && scored.contains("8.0 · Less than one day"),
        "{scored}"
    );
    assert!(
        scored.contains("overall 7.4 · throughput 7.3 · stability 7.5; All industries 6.7"),
        "{scored}"
    );
    let levels = metrics(&sandbox, &["--levels", "2023", "--format", "markdown"])
        .success()
        .stdout();
    assert!(
        levels.contains("| Level (DORA 2023) |") && levels.contains("| elite |"),
        "{levels}"
    );
    assert!(
        levels.contains("DORA Accelerate State of DevOps Report 2023"),
        "{levels}"
    );
    let j = json(&sandbox, &["--levels", "2023"]);
    assert_eq!(j["overall"]["levels"]["lead_time"], "elite");
    assert_eq!(j["overall"]["quick_check"]["lead_time"]["choice"], 5);
    let csv = metrics(&sandbox, &["--format", "csv"]).success().stdout();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let overall: Vec<&str> = lines.next().expect("overall").split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).expect(name);
    assert_eq!(overall[at("quick_check_lead_time_score")], "8");
    assert_eq!(overall[at("level_lead_time")], "elite");
}

#[test]
fn batch_size_counts_the_commits_each_deployment_shipped() {
    let sandbox = Sandbox::new();
    let j = json(&sandbox, &["--by", "repo"]);
    // basic: d3 ships a2 and a3, the other five production deployments one commit each (the
    // failed d2 ships nothing and is no production deployment).
    let b = &j["overall"]["batch_size"]["changes_per_deployment"];
    assert_eq!(b["deployments"], 6);
    assert_close(&b["median"], 1.0);
    assert_eq!(
        (b["none"].clone(), b["1"].clone(), b["2_10"].clone()),
        (0.into(), 5.into(), 1.into())
    );
    let groups = j["groups"].as_array().expect("groups");
    let total: u64 = groups
        .iter()
        .map(|g| {
            g["batch_size"]["changes_per_deployment"]["deployments"]
                .as_u64()
                .expect("n")
        })
        .sum();
    assert_eq!(total, 6, "the groups' deployments add up");
    let rows = query_csv(
        &sandbox,
        "SELECT id, commits_shipped FROM production_deployments ORDER BY id",
    );
    assert!(
        rows.lines().any(|l| l == "d3,2") && rows.lines().any(|l| l == "d1,1"),
        "{rows}"
    );
    let saved = query_csv(&sandbox, "lead-time-by-batch-size");
    assert!(saved.starts_with("commits_per_deployment,deployments"), "{saved}");
    assert!(saved.lines().any(|l| l.starts_with("2-10,1,")), "{saved}");
}

#[test]
fn the_cost_of_instability_is_the_product_of_its_inputs() {
    let sandbox = Sandbox::new();
    assert_eq!(json(&sandbox, &[])["instability_cost"], Value::Null);
    let j = json(&sandbox, &["--downtime-cost-per-hour", "10000"]);
    let c = &j["instability_cost"];
    // 6 deployments in 15 days: 146 a year; a third fail: 48.67; 5 h to recover at 10,000.
    assert_close(&c["deployments_per_year"], 146.0);
    assert_close(&c["failed_deployments_per_year"], 146.0 / 3.0);
    assert_close(&c["recovery_hours"], 5.0);
    assert_close(&c["yearly_cost"], 146.0 / 3.0 * 5.0 * 10_000.0);
    let table = metrics(&sandbox, &["--downtime-cost-per-hour", "10000"])
        .success()
        .stdout();
    assert!(table.contains("cost of instability: 2433333 a year"), "{table}");
    assert_eq!(metrics(&sandbox, &["--downtime-cost-per-hour", "-5"]).code(), 2);
    let out = sandbox.path().join("r");
    sandbox
        .run(&[
            "report",
            "--input",
            fixture("basic").to_str().expect("utf-8"),
            "--week",
            "2026-W10",
            "--tz",
            "UTC",
            "--downtime-cost-per-hour",
            "500",
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .success();
    let md = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(
        md.contains("## Cost of instability") && md.contains("x 500 an hour of downtime"),
        "{md}"
    );
    assert!(
        md.contains("## Batch size") && md.contains("| 2-10 commits | 1 | 20% |"),
        "{md}"
    );
}

#[test]
fn smaller_pull_requests_are_bucketed_as_the_survey_asks() {
    // fixtures/csv/pull-requests/notes.md: the pull requests whose merge commit a window
    // deployment shipped: #1 150 lines, #2 10, #3 4, #4 40, and #6 (2 lines, merged in
    // February, shipped by d1 in March).
    let sandbox = Sandbox::new();
    let out = on_fixture(
        &sandbox,
        "pull-requests",
        "query",
        &["lead-time-by-pr-size", "--format", "csv"],
    )
    .success()
    .stdout();
    let sizes: Vec<&str> = out.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    assert_eq!(sizes, ["1-10 lines", "11-50 lines", "101-250 lines"], "{out}");
    assert!(out.lines().any(|l| l.starts_with("1-10 lines,3,")), "{out}");
}

/// fixtures/csv/pull-requests/notes.md: a pull request is AI-assisted by its merge commit's
/// flag, or by a label that dora.toml names; the import applies the labels too.
#[test]
fn pull_requests_are_ai_assisted_by_their_merge_commit_or_an_ai_label() {
    let sandbox = Sandbox::new();
    let pulls = |sandbox: &Sandbox| {
        let j = on_fixture(sandbox, "pull-requests", "metrics", &["--format", "json"])
            .success()
            .json();
        j["pull_requests"]["ai_assisted"].clone()
    };
    let a = pulls(&sandbox);
    assert_eq!(
        (a["pull_requests_read"].clone(), a["ai_assisted_pull_requests"].clone()),
        (2.into(), 1.into())
    );
    assert_close(&a["share"], 0.5);
    assert_close(&a["coverage"], 0.5);

    std::fs::write(sandbox.path().join("dora.toml"), "[ai]\nlabels = [\"AI-Assisted\"]\n").expect("write");
    let a = pulls(&sandbox);
    assert_eq!(
        (a["pull_requests_read"].clone(), a["ai_assisted_pull_requests"].clone()),
        (3.into(), 2.into())
    );
    assert_close(&a["share"], 2.0 / 3.0);
    assert_close(&a["coverage"], 0.75);
    let table = on_fixture(&sandbox, "pull-requests", "metrics", &[]).success().stdout();
    assert!(
        table.contains("AI-assisted pull requests")
            && table.contains("2 of 3 merged pull requests read (75.0% coverage)"),
        "{table}"
    );

    // Imported with the same dora.toml, the label is kept in the store's flag.
    sandbox
        .run(&["import", fixture("pull-requests").to_str().expect("utf-8")])
        .success();
    let flags = sandbox
        .run(&[
            "query",
            "SELECT number, ai_assisted FROM pull_requests ORDER BY number",
            "--format",
            "csv",
        ])
        .success()
        .stdout();
    assert_eq!(flags, "number,ai_assisted\n1,\n2,\n3,\n4,true\n5,\n6,\n");
}

/// AI-assisted changes on the ai fixture, as its notes.md computes them: the flag from the
/// trailers, from the file, or unknown; each side's lead time and change failure rate; and
/// dora.toml's `[ai] co_authors`.
#[test]
fn deployed_commits_split_by_their_ai_flag() {
    let sandbox = Sandbox::new();
    let ai_json = |extra: &[&str]| {
        let mut args = vec!["--format", "json", "--period", "week"];
        args.extend(extra);
        on_fixture(&sandbox, "ai", "metrics", &args).success().json()
    };
    let j = ai_json(&[]);
    let a = &j["overall"]["ai"];
    assert_eq!((a["commits"].clone(), a["commits_read"].clone()), (5.into(), 4.into()));
    assert_eq!(a["ai_assisted_commits"], 2);
    assert_close(&a["share"], 0.5);
    assert_close(&a["coverage"], 0.8);
    let (ai, other) = (&a["ai_assisted"], &a["other"]);
    assert_eq!(ai["lead_time_count"], 2);
    assert_close(&ai["lead_time_median_hours"], 1.5);
    assert_close(&other["lead_time_median_hours"], 2.5);
    assert_eq!(
        (ai["deployments"].clone(), ai["failed_deployments"].clone()),
        (2.into(), 1.into())
    );
    assert_close(&ai["change_failure_rate"], 0.5);
    assert_eq!(other["deployments"], 1);
    assert_close(&other["change_failure_rate"], 0.0);
    // Per week: 2026-03-02 holds every deployment; the week after has none, and zeros.
    let weeks = j["periods"].as_array().expect("periods");
    assert_eq!(weeks[1]["ai"]["commits"], 5);
    assert_eq!(weeks[2]["ai"]["commits"], 0);
    assert!(weeks[2]["ai"]["share"].is_null());

    // The rows behind them.
    let changes = on_fixture(
        &sandbox,
        "ai",
        "query",
        &["SELECT sha, ai_assisted FROM changes ORDER BY sha", "--format", "csv"],
    )
    .success()
    .stdout();
    assert_eq!(changes, "sha,ai_assisted\na1,true\na2,false\na3,true\na4,\na5,false\n");
    let deployments = on_fixture(
        &sandbox,
        "ai",
        "query",
        &[
            "SELECT id, ai_assisted FROM production_deployments ORDER BY id",
            "--format",
            "csv",
        ],
    )
    .success()
    .stdout();
    assert_eq!(deployments, "id,ai_assisted\nd1,true\nd2,true\nd3,\nd4,false\n");

    // The table and the Markdown show the split.
    let table = on_fixture(&sandbox, "ai", "metrics", &[]).success().stdout();
    assert!(
        table.contains("AI-assisted share") && table.contains("2 of 4 deployed commits read (80.0% coverage)"),
        "{table}"
    );
    let markdown = on_fixture(&sandbox, "ai", "metrics", &["--format", "markdown"])
        .success()
        .stdout();
    assert!(markdown.contains("### AI-assisted changes"), "{markdown}");

    // The report's section and chart, on the week of every deployment.
    let (out, md) = sandbox.weekly_report(fixture("ai").to_str().expect("utf-8"), "2026-W10");
    assert!(
        md.contains("## AI-assisted changes")
            && md.contains("| AI-assisted share | 50.0% | 2 of 4 deployed commits read (80.0% coverage) |")
            && md.contains("| Change failure rate, AI-assisted | 50.0% | 1 of 2 deployments |"),
        "{md}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(html.contains("AI-assisted changes"), "{html}");
    let chart = std::fs::read_to_string(out.join("charts/ai-assisted.svg")).expect("chart");
    assert!(chart.contains("AI-assisted"), "{chart}");

    // A team's own agent, from dora.toml.
    std::fs::write(
        sandbox.path().join("dora.toml"),
        "[ai]\nco_authors = [\"agent@acme.dev\"]\n",
    )
    .expect("write");
    let a = ai_json(&[])["overall"]["ai"].clone();
    assert_eq!(a["ai_assisted_commits"], 3);
    assert_close(&a["share"], 0.75);
    assert_eq!(a["other"]["lead_time_count"], 1);
    assert_eq!(a["ai_assisted"]["deployments"], 3);
    assert_close(&a["ai_assisted"]["change_failure_rate"], 1.0 / 3.0);
    assert!(a["other"]["change_failure_rate"].is_null());

    // Imported into a store, the same figures.
    std::fs::remove_file(sandbox.path().join("dora.toml")).expect("remove");
    sandbox
        .run(&["import", fixture("ai").to_str().expect("utf-8")])
        .success();
    let stored = sandbox
        .run(&[
            "metrics",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-16",
            "--format",
            "json",
        ])
        .success()
        .json();
    assert_eq!(stored["overall"]["ai"], j["overall"]["ai"]);

    // Without any flag, `ai` is null.
    assert!(json(&sandbox, &[])["overall"]["ai"].is_null());
}

#[test]
fn an_ai_flag_that_is_not_true_or_false_names_its_cell() {
    let sandbox = Sandbox::new();
    let dir = sandbox.copy_fixture("ai");
    std::fs::write(
        dir.join("commits.csv"),
        "repo,sha,committed_at,ai_assisted\nacme/api,a1,2026-03-02T08:00:00Z,maybe\n",
    )
    .expect("write");
    let run = sandbox.run(&["import", dir.to_str().expect("utf-8")]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("commits.csv:2: column `ai_assisted`: value \"maybe\": not true or false"),
        "{}",
        run.stderr()
    );
}
