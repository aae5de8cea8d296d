//! Large data: `dora generate`, and the bounded-memory import path (CSV read in chunks, the
//! store merged in partitions), run here on small data by making chunks and partitions tiny.

use serde_json::Value;

use crate::{Sandbox, fixture};

/// Small chunks and partitions: every chunk boundary and partition split of the big path.
const TINY: [(&str, &str); 2] = [("DORA_CSV_CHUNK_BYTES", "4096"), ("DORA_PARTITION_ROWS", "300")];

fn generate(sandbox: &Sandbox, name: &str, seed: &str) -> std::path::PathBuf {
    crate::generate(
        sandbox,
        name,
        &["--commits", "3000", "--repos", "6", "--days", "60", "--seed", seed],
    )
}

/// `dora metrics` per repository and week, from `source` (`--store DIR` or `--input DIR`).
fn metrics(sandbox: &Sandbox, source: &[&str]) -> Value {
    let mut args = vec![
        "metrics", "--all", "--by", "repo", "--period", "week", "--format", "json",
    ];
    args.extend(source);
    let mut json = sandbox.run(&args).success().json();
    // The fingerprint hashes the input files, whose bytes depend on row order.
    json.as_object_mut().expect("object").remove("inputs");
    json
}

fn store(dir: &std::path::Path) -> [&str; 2] {
    ["--store", dir.to_str().expect("utf-8")]
}

fn import(sandbox: &Sandbox, store: &std::path::Path, dir: &std::path::Path, env: &[(&str, &str)]) -> String {
    sandbox
        .run_with_env(
            &[
                "--store",
                store.to_str().expect("utf-8"),
                "import",
                dir.to_str().expect("utf-8"),
            ],
            env,
        )
        .success()
        .stderr()
}

#[test]
fn generated_data_is_deterministic_for_a_seed() {
    let sandbox = Sandbox::new();
    let a = generate(&sandbox, "a", "3");
    let b = generate(&sandbox, "b", "3");
    let c = generate(&sandbox, "c", "4");
    for file in [
        "deployments.csv",
        "commits.csv",
        "deployment_commits.csv",
        "incidents.csv",
    ] {
        let read = |dir: &std::path::Path| std::fs::read(dir.join(file)).expect("file");
        assert_eq!(read(&a), read(&b), "{file}: same seed, same bytes");
        assert_ne!(read(&a), read(&c), "{file}: another seed, other data");
    }
    let commits = std::fs::read_to_string(a.join("commits.csv")).expect("commits");
    let rows = commits.lines().count() - 1;
    assert!((2_500..=3_000).contains(&rows), "about the commits asked for: {rows}");
    // gen.py's mix: staging and production, every status, incidents with and without a cause,
    // open incidents, four UTC offsets.
    let deployments = std::fs::read_to_string(a.join("deployments.csv")).expect("deployments");
    for needle in [
        ",staging,",
        ",production,",
        ",failure,",
        ",rolled_back,",
        ",success,",
        "Z,",
        "-08:00",
        "+05:30",
        "+02:00",
    ] {
        assert!(deployments.contains(needle), "{needle}");
    }
    let incidents = std::fs::read_to_string(a.join("incidents.csv")).expect("incidents");
    assert!(incidents.lines().any(|l| l.ends_with(',')), "incidents without a cause");
    assert!(incidents.lines().any(|l| l.contains(",,")), "open incidents");
}

#[test]
fn partitioned_import_gives_the_same_store_as_in_memory() {
    let sandbox = Sandbox::new();
    let data = generate(&sandbox, "data", "5");
    let plain = sandbox.path().join("plain");
    let parted = sandbox.path().join("parted");
    import(&sandbox, &plain, &data, &[]);
    let first = import(&sandbox, &parted, &data, &TINY);
    assert!(first.contains("0 replaced, 0 unchanged"), "{first}");
    let expected = metrics(&sandbox, &store(&plain));
    assert!(expected["overall"]["lead_time_hours"]["count"].as_u64().expect("count") > 2_000);
    assert_eq!(metrics(&sandbox, &store(&parted)), expected);
    // The CSV folder itself gives the same figures (no store, no derived column).
    assert_eq!(metrics(&sandbox, &["--input", data.to_str().expect("utf-8")]), expected);

    // Again: nothing changes, nothing is written.
    let link = || std::fs::read_link(parted.join("data")).expect("link");
    let before = link();
    let again = import(&sandbox, &parted, &data, &TINY);
    assert!(again.contains(" 0 added, 0 replaced"), "{again}");
    assert_eq!(link(), before);

    // More data on top, partitioned, equals the same two imports in memory.
    let more = generate(&sandbox, "more", "6");
    import(&sandbox, &plain, &more, &[]);
    import(&sandbox, &parted, &more, &TINY);
    assert_eq!(metrics(&sandbox, &store(&parted)), metrics(&sandbox, &store(&plain)));
    // No staging or spill files are left.
    let snapshots: Vec<_> = std::fs::read_dir(parted.join("snapshots")).expect("dir").collect();
    assert_eq!(snapshots.len(), 1);
    let files: Vec<String> = std::fs::read_dir(parted.join("data"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 8, "seven tables and the manifest: {files:?}");
}

#[test]
fn chunked_reading_finds_every_problem_with_its_line() {
    let sandbox = Sandbox::new();
    let bad = fixture("bad-input");
    let args = ["import", bad.to_str().expect("utf-8")];
    let whole = sandbox.run(&args);
    // Chunks of 40 bytes: a chunk per record or two, so the duplicate key is found across chunks.
    let chunked = sandbox.run_with_env(&args, &[("DORA_CSV_CHUNK_BYTES", "40")]);
    assert_eq!(whole.code(), 2);
    assert_eq!(chunked.code(), 2);
    assert_eq!(chunked.stderr(), whole.stderr());
}

#[test]
fn quoted_cells_spanning_lines_are_never_split() {
    let sandbox = Sandbox::new();
    // A cell with a doubled quote, a comma and line breaks (a column dora does not read).
    let mut quoted = String::from("id,repo,deployed_at,note\n");
    for i in 0..40 {
        quoted.push_str(&format!(
            "d{i},acme/api,2026-03-{:02}T10:00:00Z,\"line one, \"\"quoted\"\"\nline two\n\"\n",
            1 + i % 28
        ));
    }
    let other = sandbox.path().join("with-notes");
    std::fs::create_dir_all(&other).expect("dir");
    std::fs::write(other.join("deployments.csv"), &quoted).expect("write");
    for size in ["7", "33", "100"] {
        let store = sandbox.path().join(format!("store-{size}"));
        let out = import(&sandbox, &store, &other, &[("DORA_CSV_CHUNK_BYTES", size)]);
        assert!(out.contains("40 records: 40 added"), "chunks of {size} bytes: {out}");
    }
}
