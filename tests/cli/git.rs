//! `dora collect git`: small repositories built in a temp dir with fixed dates.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::query_rows as query;
use crate::{Sandbox, assert_close};

/// A git repository in the sandbox, driven with fixed dates and no user configuration.
pub(crate) struct Git {
    dir: PathBuf,
}

impl Git {
    pub(crate) fn init(sandbox: &Sandbox, name: &str) -> Self {
        let dir = sandbox.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let git = Git { dir };
        git.run(&["init", "-q", "-b", "main"], None);
        git
    }

    pub(crate) fn run(&self, args: &[&str], date: Option<&str>) -> String {
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(&self.dir)
            .args([
                "-c",
                "user.name=Ana",
                "-c",
                "user.email=ana@example.com",
                "-c",
                "tag.gpgSign=false",
            ])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null");
        if let Some(date) = date {
            command.env("GIT_AUTHOR_DATE", date).env("GIT_COMMITTER_DATE", date);
        }
        let out = command.output().expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// An empty commit at `date`; returns its sha.
    pub(crate) fn commit(&self, message: &str, date: &str) -> String {
        self.run(&["commit", "-q", "--allow-empty", "-m", message], Some(date));
        self.run(&["rev-parse", "HEAD"], None)
    }

    pub(crate) fn tag(&self, name: &str) {
        self.run(&["tag", name], None);
    }

    fn annotated_tag(&self, name: &str, date: &str) {
        self.run(&["tag", "-a", name, "-m", name], Some(date));
    }

    pub(crate) fn path(&self) -> &str {
        self.dir.to_str().expect("utf-8")
    }
}

/// The example history of docs/git.md:
///
/// ```text
/// c1 - c2 (v1.0.0, lightweight) - c3 ------- c5 - m (v1.1.0, annotated 03-06 09:00)
///                                   \            /
///                                    f1 (feat) -
///                                   \
///                                    h1 (v1.0.1, on a side branch, unreachable)
/// ```
struct Example {
    git: Git,
    c1: String,
    c2: String,
    c3: String,
    f1: String,
    c5: String,
    m: String,
}

fn example(sandbox: &Sandbox) -> Example {
    let git = Git::init(sandbox, "repo");
    let c1 = git.commit("first", "2026-03-01T10:00:00Z");
    let c2 = git.commit("second", "2026-03-02T10:00:00Z");
    git.tag("v1.0.0");
    let c3 = git.commit("third", "2026-03-03T10:00:00Z");
    git.run(&["checkout", "-q", "-b", "hotfix"], None);
    git.commit("hotfix on a side branch", "2026-03-03T11:00:00Z");
    git.tag("v1.0.1");
    git.run(&["checkout", "-q", "main"], None);
    git.run(&["checkout", "-q", "-b", "feat"], None);
    let f1 = git.commit("feature", "2026-03-03T12:00:00Z");
    git.run(&["checkout", "-q", "main"], None);
    let c5 = git.commit("fifth", "2026-03-04T10:00:00Z");
    git.run(
        &["merge", "-q", "--no-ff", "feat", "-m", "Merge feat"],
        Some("2026-03-05T10:00:00Z"),
    );
    let m = git.run(&["rev-parse", "HEAD"], None);
    git.annotated_tag("v1.1.0", "2026-03-06T09:00:00Z");
    git.tag("not-a-release");
    Example {
        git,
        c1,
        c2,
        c3,
        f1,
        c5,
        m,
    }
}

fn strings(rows: &[Value], column: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r[column].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn tags_become_deployments_and_ancestry_decides_what_each_shipped() {
    let sandbox = Sandbox::new();
    let ex = example(&sandbox);
    let run = sandbox
        .run(&["collect", "git", ex.git.path(), "--repo-name", "acme/api"])
        .success();
    let err = run.stderr();
    assert!(
        err.contains("acme/api: 6 commits on main (6 read from git this run), 2 deployments from tags"),
        "{err}"
    );
    assert!(
        err.contains("skipped 1 tag(s): v1.0.1 (not reachable from the branch)"),
        "{err}"
    );
    assert!(
        err.contains("note: the first deployment, v1.0.0, ships 2 commits (the history up to it)"),
        "{err}"
    );
    assert!(err.contains("1 other tag(s) do not match the pattern"), "{err}");

    let deployments = query(
        &sandbox,
        "SELECT id, repo, deployed_at, environment, status, sha FROM deployments ORDER BY deployed_at",
    );
    assert_eq!(strings(&deployments, "id"), ["acme/api@v1.0.0", "acme/api@v1.1.0"]);
    // Lightweight tag: the commit's date. Annotated tag: the tagger's date.
    assert_eq!(
        strings(&deployments, "deployed_at"),
        ["2026-03-02T10:00:00Z", "2026-03-06T09:00:00Z"]
    );
    assert_eq!(strings(&deployments, "sha"), [ex.c2.clone(), ex.m.clone()]);
    assert_eq!(strings(&deployments, "status"), ["success", "success"]);
    assert_eq!(strings(&deployments, "environment"), ["production", "production"]);

    let commits = query(
        &sandbox,
        "SELECT sha, author, message, parents, committed_at FROM commits ORDER BY committed_at",
    );
    assert_eq!(commits.len(), 6);
    assert_eq!(commits[0]["message"], "first");
    assert_eq!(commits[0]["author"], "Ana");
    assert_eq!(commits[0]["parents"], "");
    let merge = commits
        .iter()
        .find(|c| c["sha"] == ex.m.as_str())
        .expect("merge commit");
    assert_eq!(merge["parents"], format!("{} {}", ex.c5, ex.f1));
    assert_eq!(merge["message"], "Merge feat");

    let shipped = query(
        &sandbox,
        "SELECT deployment_id, sha FROM deployment_commits ORDER BY deployment_id, sha",
    );
    let pairs: Vec<(String, String)> = shipped
        .iter()
        .map(|r| {
            (
                r["deployment_id"].as_str().unwrap_or_default().into(),
                r["sha"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    let mut expected = vec![
        ("acme/api@v1.0.0".to_string(), ex.c1.clone()),
        ("acme/api@v1.0.0".to_string(), ex.c2.clone()),
        ("acme/api@v1.1.0".to_string(), ex.c3.clone()),
        ("acme/api@v1.1.0".to_string(), ex.f1.clone()),
        ("acme/api@v1.1.0".to_string(), ex.c5.clone()),
        ("acme/api@v1.1.0".to_string(), ex.m.clone()),
    ];
    expected.sort();
    assert_eq!(pairs, expected);

    // Lead times (hours): c1 24, c2 0; c3 71, f1 69, c5 47, m 23.
    let m = sandbox.run(&["metrics", "--format", "json", "--all"]).success().json();
    let lt = &m["overall"]["lead_time_hours"];
    assert_eq!(lt["count"], 6);
    assert_close(&lt["median"], 35.5);
    assert_eq!(m["lead_time_source"], "deployment_commits");
}

#[test]
fn skip_first_leaves_the_history_before_the_first_tag_out() {
    let sandbox = Sandbox::new();
    let ex = example(&sandbox);
    sandbox
        .run(&[
            "collect",
            "git",
            ex.git.path(),
            "--repo-name",
            "acme/api",
            "--skip-first",
        ])
        .success();
    let m = sandbox.run(&["metrics", "--format", "json", "--all"]).success().json();
    let lt = &m["overall"]["lead_time_hours"];
    assert_eq!(lt["count"], 4);
    assert_close(&lt["median"], 58.0);
    assert_eq!(m["overall"]["deployments"], 2, "the first tag is still a deployment");
}

#[test]
fn a_rerun_reads_only_what_is_new_and_follows_tag_changes() {
    let sandbox = Sandbox::new();
    let ex = example(&sandbox);
    let collect = || {
        sandbox
            .run(&["collect", "git", ex.git.path(), "--repo-name", "acme/api"])
            .success()
            .stderr()
    };
    collect();
    let again = collect();
    assert!(again.contains("(0 read from git this run)"), "{again}");
    assert!(
        again.contains("deployment_commits  0 added, 0 replaced, 6 unchanged, 0 removed"),
        "{again}"
    );

    let c7 = ex.git.commit("seventh", "2026-03-08T10:00:00Z");
    ex.git.tag("v1.2.0");
    let third = collect();
    assert!(
        third.contains("7 commits on main (1 read from git this run), 3 deployments"),
        "{third}"
    );
    let rows = query(
        &sandbox,
        "SELECT sha FROM deployment_commits WHERE deployment_id = 'acme/api@v1.2.0'",
    );
    assert_eq!(strings(&rows, "sha"), [c7]);

    // A deleted tag: its deployment goes, and the next one ships its commits.
    ex.git.run(&["tag", "-d", "v1.1.0"], None);
    let fourth = collect();
    assert!(
        fourth.contains("deployments         0 added, 0 replaced, 2 unchanged, 1 removed"),
        "{fourth}"
    );
    let rows = query(
        &sandbox,
        "SELECT deployment_id, COUNT(*) AS n FROM deployment_commits GROUP BY deployment_id ORDER BY deployment_id",
    );
    assert_eq!(strings(&rows, "deployment_id"), ["acme/api@v1.0.0", "acme/api@v1.2.0"]);
    assert_eq!(rows[1]["n"], 5);
}

#[test]
fn tag_globs_and_same_instant_tags() {
    let sandbox = Sandbox::new();
    let git = Git::init(&sandbox, "repo");
    git.commit("one", "2026-03-01T10:00:00Z");
    git.tag("deploy-2");
    git.tag("deploy-10");
    git.commit("two", "2026-03-02T10:00:00Z");
    git.tag("deploy-11");
    sandbox
        .run(&[
            "collect",
            "git",
            git.path(),
            "--repo-name",
            "acme/x",
            "--tags",
            "deploy-*",
        ])
        .success();
    // deploy-2 and deploy-10 are the same commit at the same instant: version order puts
    // deploy-2 first, and deploy-10 (a redeploy) ships nothing.
    let rows = query(
        &sandbox,
        "SELECT d.id, COUNT(dc.sha) AS n FROM deployments d LEFT JOIN deployment_commits dc ON dc.deployment_id = d.id GROUP BY d.id ORDER BY d.id",
    );
    let got: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().into(),
                r["n"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("acme/x@deploy-10".into(), 0),
            ("acme/x@deploy-11".into(), 1),
            ("acme/x@deploy-2".into(), 1)
        ]
    );
}

#[test]
fn bad_input_is_explained() {
    let sandbox = Sandbox::new();
    let not_git = sandbox.path().join("plain");
    std::fs::create_dir_all(&not_git).expect("mkdir");
    let r = sandbox.run(&["collect", "git", not_git.to_str().expect("utf-8")]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("not a git repository"), "{}", r.stderr());
    let r = sandbox.run(&["collect", "git", "/no/such/folder"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("git repository `/no/such/folder`: no such folder"),
        "{}",
        r.stderr()
    );

    let git = Git::init(&sandbox, "empty");
    let r = sandbox.run(&["collect", "git", git.path()]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("the repository has no commits"), "{}", r.stderr());

    git.commit("one", "2026-03-01T10:00:00Z");
    let r = sandbox.run(&["collect", "git", git.path()]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("the repository has no tags"), "{}", r.stderr());
    git.tag("nightly");
    let r = sandbox.run(&["collect", "git", git.path()]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr()
            .contains("no tag matches release versions (v1.2.3, 1.2); there are 1 other tags, such as nightly"),
        "{}",
        r.stderr()
    );
    assert!(
        !sandbox.store().exists(),
        "nothing is written when nothing could be done"
    );
    let r = sandbox.run(&["collect", "git", git.path(), "--tags", "["]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("invalid --tags `[`"), "{}", r.stderr());
    let r = sandbox.run(&["collect", "git", git.path(), "--branch", "nope"]);
    assert!(r.stderr().contains("no branch or commit `nope`"), "{}", r.stderr());
}

#[test]
fn a_shallow_clone_says_history_is_cut() {
    let sandbox = Sandbox::new();
    let ex = example(&sandbox);
    let clone = sandbox.path().join("shallow");
    let source = format!("file://{}", ex.git.path());
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "2", "--no-single-branch", &source])
        .arg(&clone)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git clone");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = sandbox
        .run(&[
            "collect",
            "git",
            clone.to_str().expect("utf-8"),
            "--repo-name",
            "acme/api",
        ])
        .success();
    assert!(
        r.stderr().contains("warning: this is a shallow clone"),
        "{}",
        r.stderr()
    );
}

#[test]
fn the_repository_name_comes_from_origin() {
    let sandbox = Sandbox::new();
    let ex = example(&sandbox);
    ex.git
        .run(&["remote", "add", "origin", "git@github.com:acme/payments.git"], None);
    let r = sandbox.run(&["collect", "git", ex.git.path()]).success();
    assert!(r.stderr().starts_with("acme/payments: "), "{}", r.stderr());
}

/// Lines per commit: git's numstat at collection (a binary file counts 0, a merge has none),
/// summarized over the window's commits in DORA 2025's buckets.
#[test]
fn commits_carry_their_line_counts_and_metrics_bucket_them() {
    let sandbox = Sandbox::new();
    let git = Git::init(&sandbox, "repo");
    let write = |name: &str, text: &[u8]| std::fs::write(PathBuf::from(git.path()).join(name), text).expect("write");
    let commit = |message: &str, date: &str| {
        git.run(&["add", "-A"], None);
        git.run(&["commit", "-q", "--allow-empty", "-m", message], Some(date));
        git.run(&["rev-parse", "HEAD"], None)
    };
    write("a.txt", b"1\n2\n3\n");
    let three = commit("three lines", "2026-03-02T10:00:00Z");
    write("a.txt", b"1\ntwo\n3\n");
    write("logo.bin", &[0, 1, 2, 0, 255]);
    let changed = commit("one line changed and a binary file", "2026-03-03T10:00:00Z");
    git.run(&["checkout", "-q", "-b", "feat"], None);
    write("b.txt", &b"x\n".repeat(60));
    let sixty = commit("sixty lines", "2026-03-04T10:00:00Z");
    git.run(&["checkout", "-q", "main"], None);
    git.run(
        &["merge", "-q", "--no-ff", "feat", "-m", "Merge feat"],
        Some("2026-03-05T10:00:00Z"),
    );
    let merge = git.run(&["rev-parse", "HEAD"], None);
    git.tag("v1.0.0");
    let empty = commit("nothing", "2026-03-06T10:00:00Z");
    git.tag("v1.0.1");

    sandbox
        .run(&["collect", "git", git.path(), "--repo-name", "acme/api"])
        .success();
    let rows = query(
        &sandbox,
        "SELECT sha, additions, deletions FROM commits ORDER BY committed_at",
    );
    let counts: Vec<(String, Value, Value)> = rows
        .iter()
        .map(|r| {
            (
                r["sha"].as_str().unwrap_or_default().to_string(),
                r["additions"].clone(),
                r["deletions"].clone(),
            )
        })
        .collect();
    let n = |x: i64| Value::from(x);
    assert_eq!(
        counts,
        [
            (three, n(3), n(0)),
            (changed, n(1), n(1)),
            (sixty, n(60), n(0)),
            (merge, Value::Null, Value::Null),
            (empty, n(0), n(0)),
        ]
    );

    let json = sandbox
        .run(&[
            "metrics",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-07",
            "--format",
            "json",
        ])
        .success()
        .json();
    let lines = &json["lines_per_commit"];
    assert_eq!(lines["count"], 4, "{lines}");
    assert_close(&lines["median"], 2.5);
    assert_eq!(lines["by_size"]["none"], 1);
    assert_eq!(lines["by_size"]["1_10"], 2);
    assert_eq!(lines["by_size"]["51_100"], 1);
    let text = sandbox
        .run(&["metrics", "--since", "2026-03-01", "--until", "2026-03-07"])
        .success()
        .stdout();
    assert!(
        text.contains("lines per commit: median 2.5 over 4 (none: 1 · 1-10: 2 · 11-50: 0 · 51-100: 1"),
        "{text}"
    );
    // Whether smaller commits ship faster: lead time per size bucket.
    let out = sandbox
        .run(&[
            "query",
            "lead-time-by-commit-size",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-07",
            "--format",
            "csv",
        ])
        .success()
        .stdout();
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(
        rows,
        ["no lines,1,0,0", "1-10 lines,2,60,69.6", "51-100 lines,1,24,24"],
        "{out}"
    );
    // Outside the window: no commit, no figure.
    let json = sandbox
        .run(&[
            "metrics",
            "--since",
            "2026-04-01",
            "--until",
            "2026-04-07",
            "--format",
            "json",
        ])
        .success()
        .json();
    assert_eq!(json["lines_per_commit"], Value::Null);

    // Without counting, the counts stay empty.
    let other = Sandbox::new();
    other
        .run(&[
            "collect",
            "git",
            git.path(),
            "--repo-name",
            "acme/api",
            "--no-line-counts",
        ])
        .success();
    let rows = query(&other, "SELECT count(additions) AS n FROM commits");
    assert_eq!(rows[0]["n"], 0);
}

/// Trailers that name an assistant mark commits AI-assisted when git is read (the whole
/// message: trailers end it), and the figures split on them.
#[test]
fn trailers_naming_an_assistant_mark_commits_ai_assisted() {
    let sandbox = Sandbox::new();
    let git = Git::init(&sandbox, "repo");
    let c1 = git.commit("Start", "2026-03-02T10:00:00Z");
    git.annotated_tag("v1.0.0", "2026-03-02T12:00:00Z");
    let c2 = git.commit(
        "Add retry\n\nIt waited forever.\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        "2026-03-03T10:00:00Z",
    );
    let c3 = git.commit(
        "Fix typo\n\nCo-authored-by: Grace <grace@example.com>",
        "2026-03-03T14:00:00Z",
    );
    git.annotated_tag("v1.1.0", "2026-03-04T10:00:00Z");
    let c4 = git.commit("Use a cache\n\nAi-assisted: true", "2026-03-05T10:00:00Z");
    git.annotated_tag("v1.2.0", "2026-03-05T16:00:00Z");

    sandbox
        .run(&["collect", "git", git.path(), "--repo-name", "acme/api"])
        .success();
    let flags: Vec<(String, Value)> = query(&sandbox, "SELECT sha, ai_assisted FROM commits ORDER BY committed_at")
        .iter()
        .map(|r| {
            (
                r["sha"].as_str().unwrap_or_default().to_string(),
                r["ai_assisted"].clone(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            (c1, false.into()),
            (c2, true.into()),
            (c3, false.into()),
            (c4, true.into())
        ]
    );
    let j = sandbox
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
    let a = &j["overall"]["ai"];
    assert_eq!(
        (a["commits"].clone(), a["ai_assisted_commits"].clone()),
        (4.into(), 2.into())
    );
    assert_close(&a["coverage"], 1.0);
    // AI-assisted: c2 24 h, c4 6 h; the others: c1 2 h, c3 20 h.
    assert_close(&a["ai_assisted"]["lead_time_median_hours"], 15.0);
    assert_close(&a["other"]["lead_time_median_hours"], 11.0);
    assert_eq!(
        (
            a["ai_assisted"]["deployments"].clone(),
            a["other"]["deployments"].clone()
        ),
        (2.into(), 1.into())
    );
}
