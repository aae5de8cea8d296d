//! Integration tests: the `dora` binary run on the fixture scenarios in fixtures/csv/.
//! All of them compile into this one test binary (build time on 2 cores).

// Test helpers fail by panicking, and build CSV text the simple way: the pedantic lints about
// documenting panics and string building are for library code.
#![allow(
    clippy::missing_panics_doc,
    clippy::must_use_candidate,
    clippy::return_self_not_must_use,
    clippy::new_without_default,
    clippy::format_push_string,
    clippy::format_collect,
    clippy::cast_sign_loss
)]

mod browser;
mod check;
mod docs;
mod dora2025;
mod explain;
mod feedback;
mod fuzz;
mod git;
mod github;
mod idempotence;
mod import;
mod interrupted;
mod metrics;
mod oracle;
mod properties;
mod query;
mod report;
mod reruns;
mod rollouts;
mod scale;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/csv").join(name)
}

/// A CSV file's header and its records as written, each without its line end (a quoted
/// field may span lines: commit messages do).
pub fn csv_records(path: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(path).expect("CSV text");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut starts = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let start = reader.position().byte() as usize;
        if !reader.read_byte_record(&mut record).expect("CSV") {
            break;
        }
        starts.push(start);
    }
    starts.push(text.len());
    let mut records = starts
        .windows(2)
        .map(|w| text[w[0]..w[1]].trim_matches(['\n', '\r']).to_string());
    let header = records.next().unwrap_or_default();
    (header, records.collect())
}

/// A temporary working directory with its own store.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join(".dora")
    }

    /// Runs `dora ARGS` in the sandbox, with the store in the sandbox.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[])
    }

    /// Runs `dora ARGS` with extra environment variables. Variables of the CI the tests may
    /// run in (`GITHUB_STEP_SUMMARY`, `DORA_QUERIES`) are removed unless given here.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dora"));
        command
            .args(args)
            .current_dir(self.path())
            .env("DORA_STORE", self.store())
            .env_remove("TZ")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("DORA_QUERIES");
        for (k, v) in env {
            command.env(k, v);
        }
        Run {
            output: command.output().expect("dora runs"),
        }
    }

    /// `dora report --week WEEK --tz UTC` on the CSV folder `input`, into the folder `report`
    /// of the sandbox; returns that folder and its report.md.
    pub fn weekly_report(&self, input: &str, week: &str) -> (PathBuf, String) {
        let out = self.path().join("report");
        self.run(&[
            "report",
            "--input",
            input,
            "--week",
            week,
            "--tz",
            "UTC",
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .success();
        let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
        (out, md)
    }

    /// Copies a fixture folder into the sandbox and returns its path.
    pub fn copy_fixture(&self, name: &str) -> PathBuf {
        let to = self.path().join(name);
        std::fs::create_dir_all(&to).expect("create dir");
        for entry in std::fs::read_dir(fixture(name)).expect("fixture exists") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
        to
    }
}

pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(
            self.code(),
            0,
            "dora failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout()).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout()))
    }
}

/// The rows of `dora query SQL --all` on the sandbox's store, as JSON objects.
#[track_caller]
pub fn query_rows(sandbox: &Sandbox, sql: &str) -> Vec<Value> {
    let j = sandbox
        .run(&["query", sql, "--format", "json", "--all"])
        .success()
        .json();
    j.as_array().expect("rows").clone()
}

/// `dora COMMAND --input fixtures/csv/basic --since 2026-03-01 --until 2026-03-16 EXTRA...`:
/// a command on the basic fixture's hand-computed window (its notes.md).
pub fn on_basic(sandbox: &Sandbox, command: &str, extra: &[&str]) -> Run {
    on_fixture(sandbox, "basic", command, extra)
}

/// The same on another fixture built on the basic one (the same window).
pub fn on_fixture(sandbox: &Sandbox, name: &str, command: &str, extra: &[&str]) -> Run {
    let input = fixture(name);
    let mut args = vec![
        command,
        "--input",
        input.to_str().expect("utf-8"),
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-16",
    ];
    args.extend(extra);
    sandbox.run(&args)
}

/// A float figure, compared with a tolerance.
#[track_caller]
pub fn assert_close(value: &Value, expected: f64) {
    let got = value
        .as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {value}"));
    assert!((got - expected).abs() < 1e-9, "expected {expected}, got {got}");
}

/// Everything a store holds, to compare two stores: every table row for row (sorted CSV), and
/// every figure of `dora metrics --by repo --period week --all` (without the inputs'
/// fingerprint, which names the snapshot).
pub fn store_contents(sandbox: &Sandbox, store: &Path) -> std::collections::BTreeMap<String, String> {
    let store = store.to_str().expect("utf-8");
    let mut all = std::collections::BTreeMap::new();
    for table in [
        "deployments",
        "commits",
        "deployment_commits",
        "incidents",
        "pull_requests",
        "issues",
        "issue_commits",
    ] {
        let csv = sandbox
            .run(&[
                "--store",
                store,
                "query",
                &format!("SELECT * FROM {table}"),
                "--format",
                "csv",
                "--all",
            ])
            .success()
            .stdout();
        let mut lines: Vec<&str> = csv.lines().collect();
        lines[1..].sort_unstable();
        all.insert(table.to_string(), lines.join("\n"));
    }
    let mut metrics = sandbox
        .run(&[
            "--store", store, "metrics", "--by", "repo", "--period", "week", "--all", "--format", "json",
        ])
        .success()
        .json();
    metrics.as_object_mut().expect("an object").remove("inputs");
    all.insert("metrics".into(), serde_json::to_string_pretty(&metrics).expect("JSON"));
    all
}

/// Fails with the first differing lines of the first table that differs.
#[track_caller]
pub fn assert_same_store(
    label: &str,
    got: &std::collections::BTreeMap<String, String>,
    want: &std::collections::BTreeMap<String, String>,
) {
    for (name, expected) in want {
        let actual = &got[name];
        if actual != expected {
            let diff: Vec<String> = actual
                .lines()
                .zip(expected.lines())
                .filter(|(a, e)| a != e)
                .take(5)
                .map(|(a, e)| format!("  got  {a}\n  want {e}"))
                .collect();
            let lengths = (actual.lines().count(), expected.lines().count());
            panic!(
                "{label}: `{name}` differs ({} against {} lines):\n{}",
                lengths.0,
                lengths.1,
                diff.join("\n")
            );
        }
    }
}

/// `dora generate` into the folder `name` of the sandbox, with `flags` (`--commits N`, ...).
pub fn generate(sandbox: &Sandbox, name: &str, flags: &[&str]) -> PathBuf {
    let dir = sandbox.path().join(name);
    let mut args = vec!["generate", dir.to_str().expect("utf-8")];
    args.extend(flags);
    sandbox.run(&args).success();
    dir
}
