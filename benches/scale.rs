//! dora at three sizes of generated data (10k, 1M, 10M commits): import, each metric, `metrics`
//! end to end, a report and a saved query, each run in-process exactly as the command line
//! runs it. See benches/README.md.
//!
//!     cargo bench --bench scale                 # everything (about 15 minutes on 2 cores)
//!     cargo bench --bench scale -- import       # one group
//!     DORA_BENCH_SIZES=10000,1000000 cargo bench --bench scale
//!
//! Data is generated once per size (`dora generate`, seed 7, one repository per 10,000
//! commits) into target/bench-data/ and imported once into a store next to it; the import
//! benchmark writes a fresh store each sample.

// A benchmark harness, not the CLI: it reads its own settings from the environment.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use clap::Parser as _;
use divan::Bencher;

fn main() {
    divan::main();
}

/// The sizes, in commits.
const SIZES: [u64; 3] = [10_000, 1_000_000, 10_000_000];

/// [`SIZES`], or those of them `DORA_BENCH_SIZES` (comma-separated) names.
fn sizes() -> Vec<u64> {
    let only: Option<Vec<u64>> = std::env::var("DORA_BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect());
    SIZES
        .into_iter()
        .filter(|n| only.as_ref().is_none_or(|o| o.contains(n)))
        .collect()
}

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"), PathBuf::from);
    target.join("bench-data")
}

/// The generated CSV folder of a size (made on first use).
fn data(commits: u64) -> PathBuf {
    let dir = bench_dir().join(format!("gen-{commits}"));
    if !dir.join("incidents.csv").is_file() {
        let spec = dora::generate::Spec {
            commits,
            repos: (commits / 10_000).clamp(10, 5_000) as u32,
            days: 180,
            seed: 7,
            mapping: true,
        };
        dora::generate::generate(&spec, &dir).expect("generate bench data");
    }
    dir
}

/// The store of a size, imported once from [`data`].
fn store(commits: u64) -> PathBuf {
    let store = bench_dir().join(format!("store-{commits}"));
    if !store.join("data").exists() {
        let data = data(commits);
        dora(&["--store", path(&store), "-q", "import", path(&data)]);
    }
    store
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 bench path")
}

/// Runs `dora ARGS` in-process, as `main` does.
fn dora(args: &[&str]) {
    let cli =
        dora::cli::Cli::try_parse_from(std::iter::once("dora").chain(args.iter().copied())).expect("valid arguments");
    let status = dora::commands::run(cli).expect("command runs");
    assert_eq!(status, dora::commands::ExitStatus::Success);
}

/// Where a benchmark writes its output (a file, so nothing is printed).
fn out(name: &str) -> PathBuf {
    let dir = bench_dir().join("out");
    std::fs::create_dir_all(&dir).expect("out dir");
    dir.join(name)
}

const WINDOW: [&str; 7] = [
    "--since",
    "2026-01-05",
    "--until",
    "2026-07-06",
    "--tz",
    "America/Los_Angeles",
    "--quiet",
];

#[divan::bench(args = sizes(), sample_count = 3, sample_size = 1)]
fn import(bencher: Bencher, commits: u64) {
    let data = data(commits);
    bencher
        .with_inputs(|| tempfile::tempdir_in(bench_dir()).expect("temp store"))
        .bench_local_values(|dir| {
            let store = dir.path().join("store");
            dora(&["--store", path(&store), "-q", "import", path(&data)]);
            dir
        });
}

/// `dora metrics`: every metric, per repository and ISO week, as JSON.
#[divan::bench(args = sizes(), sample_count = 5, sample_size = 1)]
fn metrics(bencher: Bencher, commits: u64) {
    let store = store(commits);
    let out = out("metrics.json");
    bencher.bench_local(|| {
        let mut args = vec!["--store", path(&store), "metrics", "--by", "repo", "--period", "week"];
        args.extend(WINDOW);
        args.extend(["--format", "json", "--out", path(&out)]);
        dora(&args);
    });
}

/// `METRIC@COMMITS` for every metric and size.
fn metric_cases() -> Vec<&'static str> {
    use clap::ValueEnum as _;
    let names = dora::analysis::explain::Metric::value_variants()
        .iter()
        .filter_map(|m| m.to_possible_value().map(|v| v.get_name().to_string()));
    names
        .flat_map(|m| sizes().into_iter().map(move |n| &*format!("{m}@{n}").leak()))
        .collect()
}

/// One metric at a time: `dora explain METRIC` computes its figure and the rows behind it (the
/// ten that move it most are written).
#[divan::bench(args = metric_cases(), sample_count = 3, sample_size = 1)]
fn metric(bencher: Bencher, case: &str) {
    let (metric, commits) = case.split_once('@').expect("METRIC@COMMITS");
    let commits: u64 = commits.parse().expect("a size");
    let store = store(commits);
    let out = out(&format!("explain-{metric}.csv"));
    bencher.bench_local(|| {
        let mut args = vec!["--store", path(&store), "explain", metric];
        args.extend(WINDOW);
        args.extend(["--limit", "10", "--format", "csv", "--out", path(&out)]);
        dora(&args);
    });
}

/// `dora report` of one month: Markdown, HTML and SVG charts with a 12-week trend.
#[divan::bench(args = sizes(), sample_count = 3, sample_size = 1)]
fn report(bencher: Bencher, commits: u64) {
    let store = store(commits);
    let out = out("report");
    bencher.bench_local(|| {
        dora(&[
            "--store",
            path(&store),
            "-q",
            "report",
            "--month",
            "2026-05",
            "--tz",
            "America/Los_Angeles",
            "--out",
            path(&out),
        ]);
    });
}

/// A saved query over the `changes` view: lead time by the size of the deployment.
#[divan::bench(args = sizes(), sample_count = 3, sample_size = 1)]
fn saved_query(bencher: Bencher, commits: u64) {
    let store = store(commits);
    let out = out("query.csv");
    bencher.bench_local(|| {
        let mut args = vec!["--store", path(&store), "query", "lead-time-by-batch-size"];
        args.extend(WINDOW);
        args.extend(["--format", "csv", "--out", path(&out)]);
        dora(&args);
    });
}
