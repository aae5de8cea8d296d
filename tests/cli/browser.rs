//! The HTML report in a real headless browser (Debian's chromium, driven by playwright-core):
//! no console errors, no network requests, every chart drawn.
//!
//! `.ci/run` installs both and sets `DORA_REQUIRE_BROWSER=1`, which turns a missing browser into
//! a failure. Elsewhere, without them, the test says it was skipped and why.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Sandbox, fixture};

/// `(node_modules folder, chromium)` when both are installed.
// The rule that only clap reads the environment is for dora itself; the tests' own switches
// are read here.
#[expect(clippy::disallowed_methods, reason = "test configuration from the environment")]
fn browser() -> Option<(PathBuf, PathBuf)> {
    let modules = std::env::var_os("DORA_BROWSER_MODULES")
        .map_or_else(|| PathBuf::from("/var/tmp/dora-browser"), PathBuf::from)
        .join("node_modules");
    let chromium = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    (node && modules.join("playwright-core").is_dir() && chromium.is_file()).then_some((modules, chromium))
}

#[expect(clippy::disallowed_methods, reason = "test configuration from the environment")]
fn check(html: &Path) -> Option<serde_json::Value> {
    let Some((modules, chromium)) = browser() else {
        assert!(
            std::env::var_os("DORA_REQUIRE_BROWSER").is_none(),
            "DORA_REQUIRE_BROWSER is set, but node, playwright-core or chromium is missing"
        );
        #[expect(clippy::print_stderr, reason = "say why the test did not run")]
        {
            eprintln!("skipped: no headless browser here (install chromium and playwright-core as .ci/run does)");
        }
        return None;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/check-report.cjs");
    let out = Command::new("node")
        .arg(script)
        .arg(html)
        .env("NODE_PATH", modules)
        .env("CHROMIUM", chromium)
        .output()
        .expect("node runs");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no summary from the browser check\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "browser check failed: {summary:#}");
    Some(summary)
}

#[test]
fn the_html_report_loads_alone_and_draws_every_chart() {
    let sandbox = Sandbox::new();
    let input = fixture("sample");
    for (week, by) in [("2026-W17", "repo"), ("2026-W01", "team")] {
        let out = sandbox.path().join(week);
        sandbox
            .run(&[
                "report",
                "--input",
                input.to_str().expect("utf-8"),
                "--week",
                week,
                "--by",
                by,
                "--out",
                out.to_str().expect("utf-8"),
            ])
            .success();
        let Some(summary) = check(&out.join("report.html")) else {
            return;
        };
        assert_eq!(summary["problems"], serde_json::json!([]), "{week}");
        let charts = summary["charts"].as_array().expect("charts");
        // The sample's deployments have a `started_at`: the rollout charts too; its commits
        // have messages: the AI-assisted chart.
        assert_eq!(charts.len(), 8, "{week}");
        for c in charts {
            assert!(c["inked"].as_f64().unwrap_or(0.0) > 0.01, "{week}: {c}");
        }
    }
}
