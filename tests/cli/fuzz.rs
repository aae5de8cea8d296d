//! Fuzzing every reader of outside input (fuzz/README.md): a seed file, mutated, fed to the
//! reader; a panic or an error that does not name the file fails the test. The number of cases
//! per target is fixed, so this runs in seconds on every `cargo test`.

use std::path::{Path, PathBuf};

use dora::collect::csv::ReadOptions;
use dora::collect::csv::mapping::Mapping;
use dora::collect::{folder_files, read_files};
use proptest::prelude::*;

use crate::{Sandbox, fixture};

/// The seeds of a target: the project's own files of that kind, then fuzz/corpus/TARGET.
fn seeds(target: &str, also: &[PathBuf], ends: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs: Vec<PathBuf> = also.to_vec();
    dirs.push(root.join("fuzz/corpus").join(target));
    let mut seeds = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if path.to_string_lossy().ends_with(ends)
                || path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("crash-"))
            {
                seeds.push((path.clone(), std::fs::read(&path).expect("a seed")));
            }
        }
    }
    assert!(!seeds.is_empty(), "no seeds for {target}");
    seeds
}

/// One edit of a seed: insert, remove, overwrite or repeat bytes at a position.
type Edit = (u8, usize, u8, usize);

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    // Bytes that matter to the formats: quotes, separators, line ends, digits and signs of
    // numbers and times, brackets, and bytes that are not UTF-8.
    let bytes = b"\",;\n\r\t\0 #=[]{}:.-+0123456789TZxe\\\xff\xc3".to_vec();
    prop::collection::vec((0u8..4, any::<usize>(), prop::sample::select(bytes), 1usize..48), 0..10)
}

fn mutate(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for &(op, at, byte, len) in edits {
        let at = at % (bytes.len() + 1);
        match op {
            0 => bytes.insert(at, byte),
            1 => {
                bytes.drain(at..(at + len).min(bytes.len()));
            }
            2 => {
                if let Some(b) = bytes.get_mut(at) {
                    *b = byte;
                }
            }
            _ => {
                let end = (at + len).min(bytes.len());
                let slice = bytes[at..end].to_vec();
                bytes.splice(at..at, slice);
            }
        }
    }
    bytes
}

fn pick<T>(seeds: &[T], index: usize) -> &T {
    &seeds[index % seeds.len()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// CSV exports, plain (the parallel tokenizer) and quoted (Polars' reader): rows or an
    /// error naming the file.
    #[test]
    fn csv_files(index in any::<usize>(), edits in edits(), skip_invalid in any::<bool>()) {
        let all = seeds("csv", &[fixture("basic"), fixture("sample")], ".csv");
        let (path, seed) = pick(&all, index);
        let name = path.file_name().expect("a name").to_string_lossy().into_owned();
        let dir = tempfile::tempdir().expect("temp");
        let bytes = mutate(seed, &edits);
        std::fs::write(dir.path().join(&name), &bytes).expect("write");
        if name != "deployments.csv" {
            std::fs::copy(fixture("basic").join("deployments.csv"), dir.path().join("deployments.csv")).expect("copy");
        }
        let mapping = Mapping::default();
        let files = folder_files(dir.path(), &mapping).expect("files");
        let options = ReadOptions { zone: chrono_tz::UTC, mapping: &mapping, skip_invalid, only: None, progress: None };
        if let Err(e) = read_files(&files, &options, &dora::collect::assistants::Rules::default()) {
            let message = format!("{e:#}");
            prop_assert!(message.contains(".csv"), "{message}");
        }
    }

    /// Mapping files (`--mapping`).
    #[test]
    fn mapping_files(index in any::<usize>(), edits in edits()) {
        let all = seeds("mapping", &[fixture("mapped-export")], ".toml");
        let (_, seed) = pick(&all, index);
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("mapping.toml");
        std::fs::write(&path, mutate(seed, &edits)).expect("write");
        if let Err(e) = Mapping::load(&path) {
            let message = format!("{e:#}");
            prop_assert!(message.contains("mapping.toml"), "{message}");
        }
    }

    /// The settings file, `dora.toml`.
    #[test]
    fn settings_files(index in any::<usize>(), edits in edits()) {
        let all = seeds("config", &[], ".toml");
        let (_, seed) = pick(&all, index);
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("dora.toml");
        std::fs::write(&path, mutate(seed, &edits)).expect("write");
        if let Err(e) = dora::config::load(Some(&path)) {
            let message = format!("{e:#}");
            prop_assert!(message.contains("dora.toml"), "{message}");
        }
    }

    /// GitHub's JSON answers, read into the models the collector uses: parsed, or an error with
    /// its line and column.
    #[test]
    fn github_answers(index in any::<usize>(), edits in edits()) {
        use dora::collect::github::models;
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let all = seeds("github", &[root.join("fixtures/github")], ".json");
        let (_, seed) = pick(&all, index);
        let text = String::from_utf8_lossy(&mutate(seed, &edits)).into_owned();
        let results = [
            serde_json::from_str::<Vec<models::Deployment>>(&text).err(),
            serde_json::from_str::<Vec<models::DeploymentStatus>>(&text).err(),
            serde_json::from_str::<Vec<models::Commit>>(&text).err(),
            serde_json::from_str::<models::Comparison>(&text).err(),
            serde_json::from_str::<Vec<models::Issue>>(&text).err(),
            serde_json::from_str::<Vec<models::PullRequest>>(&text).err(),
            serde_json::from_str::<Vec<models::Release>>(&text).err(),
        ];
        for e in results.into_iter().flatten() {
            prop_assert!(e.line() > 0 || e.is_eof(), "{e}");
        }
    }

    /// SQL text of `dora query`: prepared, or refused with a message.
    #[test]
    fn sql_text(index in any::<usize>(), edits in edits()) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let all = seeds("sql", &[root.join("queries")], ".sql");
        let (path, seed) = pick(&all, index);
        let text = String::from_utf8_lossy(&mutate(seed, &edits)).into_owned();
        // A saved query's header and its body, as `--file` reads them.
        match dora::query::saved::parse("fuzzed", &text, &path.display().to_string()) {
            Ok(q) => {
                let _ = dora::query::prepare(&q.sql, &dora::query::params::Bindings::new());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        let _ = dora::query::prepare(&text, &dora::query::params::Bindings::new());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The `git log` records `collect git` reads: commits, or an error quoting the record.
    #[test]
    fn git_log_records(index in any::<usize>(), edits in edits()) {
        let all = seeds("git-log", &[], ".bin");
        let (_, seed) = pick(&all, index);
        if let Err(message) = dora::collect::git::repo::parse_log(&mutate(seed, &edits)) {
            prop_assert!(message.contains("unexpected `git log` output"), "{message}");
        }
    }
}

/// The seed parses; a commit time out of range (once an overflow of seconds * 1,000,000, a
/// panic) is an error naming the record.
#[test]
fn git_log_seed_and_crash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/git-log");
    let commits = dora::collect::git::repo::parse_log(&std::fs::read(root.join("log.bin")).expect("the seed"))
        .expect("the seed parses");
    assert_eq!(commits.len(), 2);
    assert!(commits[1].parents.is_empty());
    let crash = std::fs::read(root.join("crash-time-out-of-range.bin")).expect("the crash");
    let error = dora::collect::git::repo::parse_log(&crash).expect_err("out of range");
    assert!(error.contains("unexpected `git log` output"), "{error}");
}

/// Report templates (`report --template`): through the binary, so fewer cases; the report is
/// written, or the error names the template.
#[test]
fn report_templates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let all = seeds("template", &[root.join("reports/templates")], ".md.j2");
    let sandbox = Sandbox::new();
    let input = fixture("sample");
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    });
    runner
        .run(&(any::<usize>(), edits()), |(index, edits)| {
            let (_, seed) = pick(&all, index);
            let templates = tempfile::tempdir().expect("temp");
            std::fs::write(templates.path().join("report.md.j2"), mutate(seed, &edits)).expect("write");
            let out = tempfile::tempdir().expect("temp");
            let r = sandbox.run(&[
                "report",
                "--input",
                input.to_str().expect("utf-8"),
                "--week",
                "2026-W10",
                "--template",
                templates.path().to_str().expect("utf-8"),
                "--out",
                out.path().to_str().expect("utf-8"),
            ]);
            prop_assert!(!r.stderr().contains("panicked"), "{}", r.stderr());
            if r.code() != 0 {
                prop_assert_eq!(r.code(), 2);
                prop_assert!(r.stderr().contains("report.md.j2"), "{}", r.stderr());
            }
            Ok(())
        })
        .expect("no panic, and errors that name the template");
}
