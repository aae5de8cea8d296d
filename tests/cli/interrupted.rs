//! Interrupted and concurrent writers: `dora import` killed (SIGKILL) at many points leaves the
//! store as exactly the old snapshot or exactly the new one, and the next run completes it; two
//! writers never interleave; readers see one snapshot, never a mix.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Sandbox, generate};

/// The table files of the current snapshot and their checksums, from its manifest: equal
/// manifests mean equal stores (`None`: no snapshot yet). Also used by tests/cli/reruns.rs.
pub(crate) fn snapshot(store: &Path) -> Option<Vec<(String, String)>> {
    let text = std::fs::read_to_string(store.join("data/manifest.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("a manifest");
    let mut tables: Vec<(String, String)> = manifest["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().into(),
                t["sha256"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    tables.sort();
    Some(tables)
}

/// Starts `dora ARGS` in the sandbox without waiting for it; `env`: extra variables.
pub(crate) fn spawn(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dora"));
    command
        .args(args)
        .current_dir(sandbox.path())
        .env("DORA_STORE", sandbox.store())
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command.spawn().expect("dora starts")
}

/// The two snapshots a killed writer may leave: the one before it and the one it writes.
pub(crate) struct Sides {
    pub old: Option<Vec<(String, String)>>,
    pub new: Option<Vec<(String, String)>>,
}

/// Kills `writer` (SIGKILL) `after` it started, and says whether it left the old snapshot
/// (`true`) or the new one (`false`); anything else fails the test.
#[track_caller]
pub(crate) fn kill_after(mut writer: Child, after: Duration, store: &Path, sides: &Sides) -> bool {
    std::thread::sleep(after);
    let _ = writer.kill();
    let _ = writer.wait();
    let now = snapshot(store);
    assert!(
        now == sides.old || now == sides.new,
        "killed after {after:?}: a snapshot that is neither"
    );
    now == sides.old
}

/// What `dora query` counts in a table (the reader's view of the store).
fn count(sandbox: &Sandbox, table: &str) -> i64 {
    let r = sandbox
        .run(&[
            "query",
            &format!("SELECT COUNT(*) AS n FROM {table}"),
            "--format",
            "json",
            "--all",
        ])
        .success();
    r.json()[0]["n"].as_i64().expect("a count")
}

#[test]
fn an_import_killed_at_any_point_leaves_the_old_or_the_new_snapshot() {
    let sandbox = Sandbox::new();
    let data = |name: &str, commits: &str, seed: &str| {
        generate(&sandbox, name, &["--commits", commits, "--repos", "5", "--seed", seed])
    };
    let (first, second) = (data("first", "2000", "1"), data("second", "60000", "2"));
    let (first, second) = (first.to_str().expect("utf-8"), second.to_str().expect("utf-8"));

    // The two snapshots a killed import may leave, and how long an import takes.
    sandbox.run(&["import", first]).success();
    let old = snapshot(&sandbox.store());
    let old_commits = count(&sandbox, "commits");
    let reference = Sandbox::new();
    reference.run(&["import", first]).success();
    let started = Instant::now();
    reference.run(&["import", second]).success();
    let took = started.elapsed();
    let sides = Sides {
        old,
        new: snapshot(&reference.store()),
    };
    let new_commits = count(&reference, "commits");
    assert_ne!(sides.old, sides.new);

    let mut outcomes = (0, 0);
    for point in 0..16u32 {
        // Kill points spread from the start to past the usual end of an import (which takes
        // longer while the reader below runs beside it).
        let after = took * point / 10;
        let left_old = kill_after(
            spawn(&sandbox, &["import", second], &[]),
            after,
            &sandbox.store(),
            &sides,
        );
        if left_old {
            outcomes.0 += 1;
        } else {
            outcomes.1 += 1;
        }
        // A reader sees no leftover: the counts are those of one snapshot.
        let expected = if left_old { old_commits } else { new_commits };
        assert_eq!(count(&sandbox, "commits"), expected, "killed after {after:?}");
        // The next run completes, as if nothing had happened.
        sandbox.run(&["import", second]).success();
        assert_eq!(
            snapshot(&sandbox.store()),
            sides.new,
            "the run after a kill after {after:?}"
        );
        // Back to the old snapshot for the next kill point.
        std::fs::remove_dir_all(sandbox.store()).expect("remove the store");
        sandbox.run(&["import", first]).success();
    }
    // The kills hit both sides of the switch.
    assert!(
        outcomes.0 > 0 && outcomes.1 > 0,
        "old {} / new {}",
        outcomes.0,
        outcomes.1
    );
}

#[test]
fn a_second_writer_waits_for_the_first_and_names_it_when_it_gives_up() {
    let sandbox = Sandbox::new();
    let update = sandbox.path().join("update.csv");
    std::fs::write(&update, "id,repo,deployed_at\nn1,acme/api,2026-03-03T00:00:00Z\n").expect("write");
    let update = update.to_str().expect("utf-8");
    sandbox.run(&["import", "--deployments", update]).success();

    // Another process holds the lock (this test, as a writer would).
    let lock_path = sandbox.store().join("lock");
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(&lock_path)
        .expect("the lock file");
    lock.lock().expect("locked");
    std::fs::write(&lock_path, "pid 4242, started 2026-12-02T10:00:00Z\n").expect("write");
    let r = sandbox.run(&["--lock-wait", "1", "import", "--deployments", update]);
    assert_eq!(r.code(), 2, "{}", r.stderr());
    assert!(
        r.stderr().contains(
            "locked by another dora process (pid 4242, started 2026-12-02T10:00:00Z) and stayed locked for 1 s"
        ),
        "{}",
        r.stderr()
    );

    // A writer that waits long enough goes on when the lock is released.
    let waiting = spawn(&sandbox, &["--lock-wait", "30", "import", "--deployments", update], &[]);
    std::thread::sleep(Duration::from_millis(700));
    lock.unlock().expect("unlocked");
    let out = waiting.wait_with_output().expect("the waiting writer ends");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // A lock file left by a killed writer holds no lock: the next writer takes it at once.
    drop(lock);
    std::fs::write(&lock_path, "pid 99999, started 2026-01-01T00:00:00Z\n").expect("write");
    let started = Instant::now();
    sandbox
        .run(&["--lock-wait", "30", "import", "--deployments", update])
        .success();
    assert!(started.elapsed() < Duration::from_secs(20));
    let holder = std::fs::read_to_string(&lock_path).expect("the lock file");
    assert!(holder.starts_with("pid ") && !holder.contains("99999"), "{holder}");
}

#[test]
fn writers_at_once_never_interleave_and_readers_see_one_snapshot() {
    let sandbox = Sandbox::new();
    let mut inputs = Vec::new();
    for (i, seed) in ["3", "4"].iter().enumerate() {
        let dir = generate(
            &sandbox,
            &format!("input-{i}"),
            &["--commits", "20000", "--repos", "3", "--seed", seed],
        );
        inputs.push(dir.to_str().expect("utf-8").to_string());
    }
    // What the store holds after the first, the second, or both, in either order.
    let mut possible = vec![None];
    for order in [[0, 1], [1, 0]] {
        let s = Sandbox::new();
        for i in order {
            s.run(&["import", &inputs[i]]).success();
            possible.push(Some(count(&s, "commits")));
        }
    }
    let mut writers: Vec<Child> = inputs.iter().map(|i| spawn(&sandbox, &["import", i], &[])).collect();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while writers.iter_mut().any(|w| w.try_wait().expect("a status").is_none()) && Instant::now() < deadline {
        if snapshot(&sandbox.store()).is_some() {
            seen.push(Some(count(&sandbox, "commits")));
        }
    }
    for w in writers {
        let out = w.wait_with_output().expect("a writer ends");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    seen.push(Some(count(&sandbox, "commits")));
    for n in &seen {
        assert!(
            possible.contains(n),
            "a reader saw {n:?} commits, not one of the snapshots {possible:?}"
        );
    }
    // Both writers landed: the store has the rows of both inputs.
    assert_eq!(seen.last(), possible.last());
}
