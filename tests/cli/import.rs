//! `dora import`: validation, upsert by key, atomic writes, rejects.

use serde_json::Value;

use crate::{Sandbox, fixture};

fn snapshot_target(sandbox: &Sandbox) -> String {
    std::fs::read_link(sandbox.store().join("data"))
        .expect("data link")
        .display()
        .to_string()
}

fn overall(sandbox: &Sandbox) -> Value {
    sandbox.run(&["metrics", "--all", "--format", "json"]).success().json()["overall"].clone()
}

#[test]
fn import_then_reimport_is_idempotent() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let first = sandbox.run(&["import", input.to_str().expect("utf-8")]).success();
    assert!(
        first
            .stderr()
            .contains("deployments                 8 records: 8 added, 0 replaced, 0 unchanged; 8 rows in store"),
        "{}",
        first.stderr()
    );
    let snapshot = snapshot_target(&sandbox);
    let before = overall(&sandbox);

    let again = sandbox.run(&["import", input.to_str().expect("utf-8")]).success();
    assert!(
        again
            .stderr()
            .contains("8 records: 0 added, 0 replaced, 8 unchanged; 8 rows in store"),
        "{}",
        again.stderr()
    );
    assert_eq!(
        snapshot_target(&sandbox),
        snapshot,
        "an import that changes nothing writes nothing"
    );
    assert_eq!(overall(&sandbox), before);
}

#[test]
fn a_changed_row_replaces_the_old_one() {
    let sandbox = Sandbox::new();
    sandbox
        .run(&["import", fixture("basic").to_str().expect("utf-8")])
        .success();
    assert_eq!(overall(&sandbox)["failed_deployments"], 2);
    let update = sandbox.path().join("update.csv");
    std::fs::write(
        &update,
        "id,repo,deployed_at,status\nd1,acme/api,2026-03-02T10:00:00Z,rolled_back\n",
    )
    .expect("write");
    let run = sandbox
        .run(&["import", "--deployments", update.to_str().expect("utf-8")])
        .success();
    assert!(
        run.stderr()
            .contains("1 records: 0 added, 1 replaced, 0 unchanged; 8 rows in store"),
        "{}",
        run.stderr()
    );
    let o = overall(&sandbox);
    assert_eq!(o["failed_deployments"], 3);
    assert_eq!(o["deployments"], 6, "replaced, not added");
    // The other tables are untouched by a per-table import.
    assert_eq!(o["lead_time_hours"]["count"], 6);
}

#[test]
fn invalid_rows_fail_the_import_and_write_nothing() {
    let sandbox = Sandbox::new();
    sandbox
        .run(&["import", fixture("basic").to_str().expect("utf-8")])
        .success();
    let snapshot = snapshot_target(&sandbox);
    let bad = fixture("bad-input");
    let run = sandbox.run(&["import", bad.to_str().expect("utf-8")]);
    assert_eq!(run.code(), 2);
    let err = run.stderr();
    let file = bad.join("deployments.csv").display().to_string();
    assert!(err.contains("4 invalid rows found"), "{err}");
    assert!(
        err.contains(&format!(
            "{file}:3: column `deployed_at`: value \"2026-03-32T10:00:00Z\": not a timestamp"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("{file}:4: column `status`: value \"exploded\": not a deployment status; expected one of success, failure, rolled_back")), "{err}");
    assert!(
        err.contains(&format!(
            "{file}:2: the key id=d1 appears more than once with different content (also on line 5)"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{file}:5: the key id=d1 appears more than once with different content (also on line 2)"
        )),
        "{err}"
    );
    assert!(err.contains("--skip-invalid"), "{err}");
    assert_eq!(snapshot_target(&sandbox), snapshot, "the store is exactly as it was");
    assert!(!sandbox.path().join("dora-rejects.csv").exists());
}

#[test]
fn skip_invalid_imports_the_rest_and_writes_rejects() {
    let sandbox = Sandbox::new();
    let run = sandbox
        .run(&[
            "import",
            fixture("bad-input").to_str().expect("utf-8"),
            "--skip-invalid",
        ])
        .success();
    assert!(
        run.stderr().contains("warning: 4 invalid row(s) skipped"),
        "{}",
        run.stderr()
    );
    let rejects = std::fs::read_to_string(sandbox.path().join("dora-rejects.csv")).expect("rejects written");
    let mut lines = rejects.lines();
    assert_eq!(lines.next(), Some("table,file,line,column,value,reason,record"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4, "{rejects}");
    assert!(rows.iter().any(|r| r.contains(",4,status,exploded,")), "{rejects}");
    let o = overall(&sandbox);
    assert_eq!(o["deployments"], 1, "only d4 (its exact duplicate collapsed) is valid");
}

#[test]
fn missing_column_names_the_file_and_what_was_found() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path().join("in");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("deployments.csv"),
        "id,repository,deployed_at\nd1,a,2026-01-01\n",
    )
    .expect("write");
    let run = sandbox.run(&["import", dir.to_str().expect("utf-8")]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains(
            "deployments.csv` is missing the required column `repo` (columns found: id, repository, deployed_at)"
        ),
        "{}",
        run.stderr()
    );
    assert!(!sandbox.store().join("data").exists());
}

#[test]
fn not_utf8_and_no_header_and_missing_folder() {
    let sandbox = Sandbox::new();
    let dir = sandbox.path().join("in");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("deployments.csv"),
        b"id,repo,deployed_at\nd1,caf\xe9,2026-01-01\n",
    )
    .expect("write");
    let run = sandbox.run(&["import", dir.to_str().expect("utf-8")]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr()
            .contains("is not a readable UTF-8 CSV file: line 2, cell 2: not valid UTF-8"),
        "{}",
        run.stderr()
    );

    std::fs::write(dir.join("deployments.csv"), b"").expect("write");
    let run = sandbox.run(&["import", dir.to_str().expect("utf-8")]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("has no header row"), "{}", run.stderr());

    let run = sandbox.run(&["import", sandbox.path().join("nowhere").to_str().expect("utf-8")]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("failed to read folder"), "{}", run.stderr());
}

#[test]
fn header_only_files_are_valid_and_empty() {
    let sandbox = Sandbox::new();
    let dir = sandbox.copy_fixture("_template");
    sandbox.run(&["import", dir.to_str().expect("utf-8")]).success();
    let o = overall(&sandbox);
    assert_eq!(o["deployments"], 0);
    assert_eq!(o["change_failure_rate"], Value::Null);
}

#[test]
fn mapping_file_imports_another_tools_export() {
    let sandbox = Sandbox::new();
    let dir = fixture("mapped-export");
    let mapping = dir.join("mapping.toml");
    sandbox
        .run(&[
            "import",
            dir.to_str().expect("utf-8"),
            "--mapping",
            mapping.to_str().expect("utf-8"),
            "--tz",
            "Europe/Berlin",
        ])
        .success();
    let j = sandbox
        .run(&[
            "metrics",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-08",
            "--tz",
            "Europe/Berlin",
            "--format",
            "json",
        ])
        .success()
        .json();
    assert_eq!(j["overall"]["deployments"], 2);
    assert_eq!(j["overall"]["failed_deployments"], 1);
    assert_eq!(j["window"]["since"], "2026-02-28T23:00:00Z");
}

#[test]
fn unknown_status_value_from_a_mapped_export_names_the_source_column() {
    let sandbox = Sandbox::new();
    let dir = sandbox.copy_fixture("mapped-export");
    std::fs::write(
        dir.join("export.csv"),
        "Deploy ID,Service Repo,Finished At,Result,Env\n1,a,2026-03-02,PENDING,prod\n",
    )
    .expect("write");
    let run = sandbox.run(&[
        "import",
        dir.to_str().expect("utf-8"),
        "--mapping",
        dir.join("mapping.toml").to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr()
            .contains("export.csv:2: column `Result`: value \"PENDING\": not a deployment status"),
        "{}",
        run.stderr()
    );
}

#[test]
fn import_without_anything_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["import"]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("nothing to import"), "{}", run.stderr());
}

#[test]
fn leftovers_of_a_killed_import_are_invisible_and_cleaned_up() {
    let sandbox = Sandbox::new();
    sandbox
        .run(&["import", fixture("basic").to_str().expect("utf-8")])
        .success();
    let before = overall(&sandbox);
    // What an import killed while writing leaves behind: a half-written staging snapshot and
    // a link that was never renamed into place.
    let staging = sandbox.store().join("snapshots/tmp-000002-4242");
    std::fs::create_dir_all(&staging).expect("dir");
    std::fs::write(staging.join("deployments.parquet"), b"PAR1 half written").expect("write");
    std::os::unix::fs::symlink("snapshots/tmp-000002-4242", sandbox.store().join("data.tmp-4242")).expect("link");
    assert_eq!(overall(&sandbox), before, "readers only follow `data`");

    let update = sandbox.path().join("update.csv");
    std::fs::write(&update, "id,repo,deployed_at\nn1,acme/api,2026-03-03T00:00:00Z\n").expect("write");
    sandbox
        .run(&["import", "--deployments", update.to_str().expect("utf-8")])
        .success();
    assert!(!staging.exists(), "the next import removes the staging folder");
    let snapshots: Vec<_> = std::fs::read_dir(sandbox.store().join("snapshots"))
        .expect("dir")
        .collect();
    assert_eq!(snapshots.len(), 1, "only the current snapshot is kept");
    assert_eq!(overall(&sandbox)["deployments"], 7);
}

#[test]
fn store_files_are_plain_parquet_with_a_manifest() {
    let sandbox = Sandbox::new();
    sandbox
        .run(&["import", fixture("basic").to_str().expect("utf-8")])
        .success();
    let data = sandbox.store().join("data");
    for table in ["deployments", "commits", "deployment_commits", "incidents"] {
        let bytes = std::fs::read(data.join(format!("{table}.parquet"))).expect("table file");
        assert_eq!(&bytes[..4], b"PAR1");
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("manifest.json")).expect("manifest")).expect("json");
    assert_eq!(manifest["format"], "dora-store");
    assert_eq!(manifest["format_version"], 1);
    assert_eq!(manifest["tables"][0]["rows"], 8);
}

#[test]
fn stores_merge_like_the_shards_of_a_ci_matrix() {
    // Two shards (say, two organizations collected by two CI jobs), each its own store, merged
    // into one: the same as importing everything into one store.
    let sandbox = Sandbox::new();
    let (a, b) = (sandbox.path().join("shard-a"), sandbox.path().join("shard-b"));
    let shard = |store: &std::path::Path, fixture_name: &str| {
        sandbox
            .run(&[
                "--store",
                store.to_str().expect("utf-8"),
                "import",
                fixture(fixture_name).to_str().expect("utf-8"),
            ])
            .success();
    };
    shard(&a, "basic");
    shard(&b, "sample");
    let merged = sandbox.path().join("merged");
    let direct = sandbox.path().join("direct");
    for s in [&a, &b] {
        let r = sandbox
            .run(&[
                "--store",
                merged.to_str().expect("utf-8"),
                "import",
                s.to_str().expect("utf-8"),
            ])
            .success();
        assert!(r.stderr().contains("merged `"), "{}", r.stderr());
    }
    shard(&direct, "basic");
    shard(&direct, "sample");
    let metrics = |store: &std::path::Path| {
        let mut j = sandbox
            .run(&[
                "--store",
                store.to_str().expect("utf-8"),
                "metrics",
                "--all",
                "--by",
                "repo",
                "--format",
                "json",
            ])
            .success()
            .json();
        j["inputs"] = serde_json::Value::Null;
        j
    };
    assert_eq!(metrics(&merged), metrics(&direct));
    // Merging the last shard again changes nothing. (Rows with the same key are replaced, so
    // shards must not reuse each other's ids: basic's d1..d6 gave way to sample's.) A store
    // cannot merge itself.
    let again = sandbox
        .run(&[
            "--store",
            merged.to_str().expect("utf-8"),
            "import",
            b.to_str().expect("utf-8"),
        ])
        .success();
    assert!(
        again
            .stderr()
            .contains("deployments         0 added, 0 replaced, 850 unchanged"),
        "{}",
        again.stderr()
    );
    let r = sandbox.run(&[
        "--store",
        merged.to_str().expect("utf-8"),
        "import",
        merged.to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("is the store itself"), "{}", r.stderr());
}
