//! `dora report` and `dora badge`: files, content, templates, CI summary.

use std::path::Path;

use crate::{Sandbox, fixture};

fn report(sandbox: &Sandbox, out: &Path, extra: &[&str]) -> crate::Run {
    let input = fixture("basic");
    let mut args = vec![
        "report",
        "--input",
        input.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend(extra);
    sandbox.run(&args)
}

const CHARTS: [&str; 6] = [
    "deployments",
    "lead-time",
    "change-failure-rate",
    "time-to-restore",
    "lead-time-distribution",
    "quick-check",
];

#[test]
fn the_weekly_report_on_the_hand_computed_scenario() {
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("weekly");
    let r = report(&sandbox, &out, &["--week", "2026-W10", "--by", "repo", "--trend", "3"]).success();
    assert!(r.stderr().contains("report 2026-W10:"), "{}", r.stderr());
    let markdown = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    insta::assert_snapshot!("report_basic_week_md", markdown);
    for chart in CHARTS {
        let svg = std::fs::read_to_string(out.join("charts").join(format!("{chart}.svg"))).expect("chart");
        assert!(svg.starts_with("<svg") && svg.contains("<rect"), "{chart}");
        assert!(markdown.contains(&format!("(charts/{chart}.svg)")), "{chart}");
    }

    // One file, nothing fetched: inline CSS and SVG, no script, no external reference.
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    // Every chart but the Quick Check's, which the page draws as bars of its own.
    assert_eq!(html.matches("<svg").count(), CHARTS.len() - 1);
    assert!(html.contains("Where you stand (DORA Quick Check, 2025)") && html.contains("class=\"bar\""));
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"));
    let external = html
        .match_indices("http")
        .filter(|(i, _)| !html[*i..].starts_with("http://www.w3.org/"))
        .count();
    assert_eq!(external, 0, "only XML namespaces may name a URL");
    // minijinja escapes `/` in HTML text as `&#x2f;`.
    assert!(
        html.contains("<td>d4</td><td>acme&#x2f;api</td>"),
        "failed deployments are listed"
    );
    assert!(html.contains("Login broken"), "incident titles are listed");
}

#[test]
fn png_charts_draw_text_with_the_embedded_font() {
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("weekly");
    report(&sandbox, &out, &["--week", "2026-W10", "--png"]).success();
    for chart in CHARTS {
        let png = std::fs::read(out.join("charts").join(format!("{chart}.png"))).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n".as_slice(), "{chart}");
        let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
        assert_eq!((width, height), (1720, 760), "{chart}");
    }
}

#[test]
fn empty_and_tiny_weeks_draw() {
    let sandbox = Sandbox::new();
    for week in ["2026-W20", "2026-W11", "2025-W01"] {
        let out = sandbox.path().join(week);
        report(&sandbox, &out, &["--week", week, "--png"]).success();
        let markdown = std::fs::read_to_string(out.join("report.md")).expect("report.md");
        assert!(markdown.contains(&format!("# Delivery report {week}")), "{markdown}");
    }
    let md = std::fs::read_to_string(sandbox.path().join("2026-W11/report.md")).expect("md");
    assert!(md.contains("only 1 deployments: too few to read a change into"), "{md}");
}

#[test]
fn periods_default_to_the_last_complete_week() {
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("r");
    // Wednesday 2026-03-11: the last complete ISO week is 2026-W10 (March 2 to 8).
    let r = report(&sandbox, &out, &["--as-of", "2026-03-11T12:00:00Z"]).success();
    assert!(r.stderr().contains("report 2026-W10"), "{}", r.stderr());
    let r = report(&sandbox, &out, &["--month", "2026-03"]).success();
    assert!(r.stderr().contains("report 2026-03"), "{}", r.stderr());
    let md = std::fs::read_to_string(out.join("report.md")).expect("md");
    assert!(md.contains("2026-03-01 to 2026-03-31"), "{md}");
    let r = report(&sandbox, &out, &["--since", "2026-03-02", "--until", "2026-03-06"]).success();
    assert!(r.stderr().contains("report 2026-03-02 to 2026-03-05"), "{}", r.stderr());
    let r = report(&sandbox, &out, &["--week", "2026-13"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr()
            .contains("invalid --week `2026-13`: expected an ISO week such as 2026-W47"),
        "{}",
        r.stderr()
    );
}

#[test]
fn templates_can_be_replaced_without_rebuilding() {
    let sandbox = Sandbox::new();
    let templates = sandbox.path().join("templates");
    std::fs::create_dir_all(&templates).expect("mkdir");
    std::fs::write(
        templates.join("report.md.j2"),
        "Team digest {{ period }}: {% for m in headline %}{{ m.metric }}={{ m.value }}; {% endfor %}\n",
    )
    .expect("write");
    let out = sandbox.path().join("r");
    report(
        &sandbox,
        &out,
        &["--week", "2026-W10", "--template", templates.to_str().expect("utf-8")],
    )
    .success();
    let md = std::fs::read_to_string(out.join("report.md")).expect("md");
    assert!(
        md.starts_with("Team digest 2026-W10: Deployment frequency=5.00/week;"),
        "{md}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        html.contains("<h1>Delivery report 2026-W10</h1>"),
        "the HTML template is still the built-in one"
    );

    std::fs::write(templates.join("report.html.j2"), "{{ no_such_field }}").expect("write");
    let r = report(
        &sandbox,
        &out,
        &["--week", "2026-W10", "--template", templates.to_str().expect("utf-8")],
    );
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("report.html.j2"), "{}", r.stderr());
    assert!(r.stderr().contains("undefined"), "{}", r.stderr());
}

#[test]
fn github_step_summary() {
    let sandbox = Sandbox::new();
    let summary = sandbox.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").expect("write");
    let env = [("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8"))];
    let input = fixture("basic");
    let input = input.to_str().expect("utf-8");
    sandbox
        .run_with_env(&["metrics", "--input", input, "--all", "--github-step-summary"], &env)
        .success();
    let r = sandbox.run_with_env(
        &[
            "check",
            "--input",
            input,
            "--all",
            "--max-change-failure-rate",
            "10%",
            "--github-step-summary",
        ],
        &env,
    );
    assert_eq!(r.code(), 1);
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(text.starts_with("earlier step\n"), "appended, not replaced");
    assert!(text.contains("| Change failure rate |"), "{text}");
    assert!(text.contains("### dora check: 1 of 1 check(s) failed"), "{text}");
    let r = sandbox.run(&["metrics", "--input", input, "--all", "--github-step-summary"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("GITHUB_STEP_SUMMARY is not set"), "{}", r.stderr());
}

#[test]
fn badges_are_coloured_by_rating() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let out = sandbox.path().join("badges");
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "badge".to_string(),
            "--input".into(),
            input.to_str().expect("utf-8").into(),
            "--since".into(),
            "2026-03-01".into(),
            "--until".into(),
            "2026-03-16".into(),
            "--out".into(),
            out.to_str().expect("utf-8").into(),
        ];
        a.extend(extra.iter().map(|s| (*s).to_string()));
        a
    };
    let run = |extra: &[&'static str]| {
        let a = args(extra);
        sandbox.run(&a.iter().map(String::as_str).collect::<Vec<_>>()).success()
    };
    run(&[]);
    let badge = |name: &str| std::fs::read_to_string(out.join(format!("{name}.svg"))).expect("badge");
    // basic, scored by the Quick Check (2025): lead time 17 h ("less than one day", 8: green),
    // change failure rate 33.3% (6.7: yellow-green), 2.8/week ("between once per day and once
    // per week", 6: yellow-green); time to restore has no Quick Check score (blue).
    assert!(badge("lead-time").contains("lead time: 17.0 h") && badge("lead-time").contains("#44cc11"));
    assert!(badge("change-failure-rate").contains("33.3%") && badge("change-failure-rate").contains("#97ca00"));
    assert!(badge("deployment-frequency").contains("2.8/week") && badge("deployment-frequency").contains("#97ca00"));
    assert!(
        badge("rework-rate").contains("16.7%") && badge("rework-rate").contains("#44cc11"),
        "8.3: green"
    );
    assert!(badge("time-to-restore").contains("#007ec6"));
    // The 2023 levels: 17 h elite, 33.3% low, 2.8/week high, a 2 h restore high.
    run(&["--levels", "2023"]);
    assert!(badge("lead-time").contains("#44cc11"));
    assert!(badge("change-failure-rate").contains("#e05d44"));
    assert!(badge("time-to-restore").contains("#97ca00"));
    run(&["--repo", "acme/web"]);
    assert!(
        badge("recovery-time").contains("no data"),
        "acme/web had no failed deployment"
    );
}

#[test]
fn the_committed_sample_report_is_current() {
    // reports/examples/regenerate.sh writes it; this is the same command.
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("sample");
    let input = fixture("sample");
    sandbox
        .run(&[
            "report",
            "--input",
            input.to_str().expect("utf-8"),
            "--week",
            "2026-W17",
            "--by",
            "repo",
            "--tz",
            "America/Los_Angeles",
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .success();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/examples/sample");
    let mut files = vec!["report.md".to_string(), "report.html".to_string()];
    // The sample's deployments have a `started_at`: its report has the rollout charts too.
    let charts = CHARTS.iter().chain(&["rollout-failures", "rollout-time"]);
    files.extend(charts.map(|c| format!("charts/{c}.svg")));
    for file in files {
        let fresh = std::fs::read_to_string(out.join(&file)).expect("generated");
        let kept = std::fs::read_to_string(committed.join(&file)).expect("committed");
        assert!(
            fresh == kept,
            "reports/examples/sample/{file} is stale: run reports/examples/regenerate.sh"
        );
    }
}

#[test]
fn the_lead_time_breakdown_appears_with_pull_request_data() {
    let sandbox = Sandbox::new();
    let input = fixture("pull-requests");
    let out = sandbox.path().join("r");
    sandbox
        .run(&[
            "report",
            "--input",
            input.to_str().expect("utf-8"),
            "--week",
            "2026-W10",
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .success();
    let md = std::fs::read_to_string(out.join("report.md")).expect("md");
    // PRs #1, #2, #3 were merged in W10 (fixtures/csv/pull-requests/notes.md).
    assert!(md.contains("Over 3 pull requests merged in 2026-W10"), "{md}");
    assert!(md.contains("| Coding | first commit to opened | 2.5 h | 2 |"), "{md}");
    assert!(md.contains("| Deploy | merged to production | 6.0 h | 3 |"), "{md}");
    assert!(
        md.contains("lines per pull request: median 10 over 3 (none: 0 · 1-10: 2 · 11-50: 0 · 51-100: 0 · 101-250: 1"),
        "{md}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(html.contains("<h2>Lead time breakdown</h2>"));
    let plain = sandbox.path().join("plain");
    report(&sandbox, &plain, &["--week", "2026-W10"]).success();
    let md = std::fs::read_to_string(plain.join("report.md")).expect("md");
    assert!(!md.contains("Lead time breakdown"), "no pull request data, no section");
}
