//! `dora check`: thresholds as a CI gate (exit 0 / 1 / 2).

use crate::{Sandbox, fixture, on_basic};

fn check(sandbox: &Sandbox, args: &[&str]) -> crate::Run {
    on_basic(sandbox, "check", args)
}

#[test]
fn a_broken_threshold_fails_the_build_and_every_one_is_listed() {
    let sandbox = Sandbox::new();
    // basic: lead time median 17 h, change failure rate 2/6, 2.8 deployments/week, restore 2 h.
    let r = check(
        &sandbox,
        &[
            "--max-lead-time",
            "12h",
            "--max-change-failure-rate",
            "15%",
            "--min-deployments-per-week",
            "3",
            "--max-time-to-restore",
            "1d",
        ],
    );
    assert_eq!(r.code(), 1, "{}", r.stdout());
    let out = r.stdout();
    assert!(out.contains("3 of 4 check(s) failed:"), "{out}");
    assert!(
        out.contains("  lead time (median) is 17.0 h; the limit is at most 12h"),
        "{out}"
    );
    assert!(
        out.contains("  change failure rate is 33.3%; the limit is at most 15%"),
        "{out}"
    );
    assert!(
        out.contains("  deployments per week is 2.80; the limit is at least 3"),
        "{out}"
    );
    assert!(!out.contains("time to restore (median) is"), "{out}");

    let r = check(
        &sandbox,
        &[
            "--max-lead-time",
            "17h",
            "--max-change-failure-rate",
            "0.34",
            "--min-deployments-per-week",
            "2.8",
        ],
    );
    assert_eq!(r.code(), 0, "{}", r.stdout());
    assert!(r.stdout().contains("all 3 check(s) passed"));
}

#[test]
fn no_data_passes_unless_strict() {
    let sandbox = Sandbox::new();
    let input = fixture("basic");
    let empty_window = ["--since", "2020-01-01", "--until", "2020-02-01"];
    let mut args = vec![
        "check",
        "--input",
        input.to_str().expect("utf-8"),
        "--max-lead-time",
        "1d",
    ];
    args.extend(empty_window);
    let r = sandbox.run(&args);
    assert_eq!(r.code(), 0);
    assert!(r.stdout().contains("no data"), "{}", r.stdout());
    args.push("--strict");
    let r = sandbox.run(&args);
    assert_eq!(r.code(), 1);
    assert!(
        r.stdout().contains("lead time (median) has no data (--strict)"),
        "{}",
        r.stdout()
    );
}

#[test]
fn per_group_checks_name_the_group() {
    let sandbox = Sandbox::new();
    let r = check(
        &sandbox,
        &["--by", "repo", "--max-change-failure-rate", "20%", "--format", "json"],
    );
    assert_eq!(r.code(), 1);
    let rows = r.json();
    assert_eq!(rows[0]["scope"], "acme/api");
    assert_eq!(rows[0]["value"], "50.0%");
    assert_eq!(rows[0]["status"], "FAILED");
    assert_eq!(rows[1]["scope"], "acme/web");
    assert_eq!(rows[1]["status"], "ok");
}

#[test]
fn usage_errors_exit_2() {
    let sandbox = Sandbox::new();
    let r = check(&sandbox, &["--max-lead-time", "2"]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr()
            .contains("invalid --max-lead-time `2`: expected a duration with a unit"),
        "{}",
        r.stderr()
    );
    let r = check(&sandbox, &["--max-change-failure-rate", "150%"]);
    assert_eq!(r.code(), 2);
    let r = check(&sandbox, &[]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("no threshold given"), "{}", r.stderr());
    let r = check(&sandbox, &["--max-lead-tim", "2d"]);
    assert_eq!(r.code(), 2, "clap rejects unknown flags with 2");
}

#[test]
fn results_go_to_a_file_in_any_format_parquet_included() {
    use polars::prelude::{ParquetReader, SerReader};
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("results.parquet");
    let out_text = out.to_str().expect("utf-8");
    let args = [
        "--by",
        "repo",
        "--max-change-failure-rate",
        "20%",
        "--format",
        "parquet",
        "--out",
        out_text,
    ];
    let r = check(&sandbox, &args);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    assert_eq!(r.stdout(), "", "the results went to the file");
    let file = std::fs::File::open(&out).expect("the Parquet file was written");
    let rows = ParquetReader::new(file).finish().expect("a Parquet file");
    assert_eq!(rows.height(), 2, "{rows}");
    let status = rows.column("status").expect("status").str().expect("text").clone();
    assert_eq!(status.get(0), Some("FAILED"));
    assert_eq!(status.get(1), Some("ok"));

    // Without `--out`, the error names the flag the command has.
    let r = check(&sandbox, &args[..6]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("add `--out FILE`"), "{}", r.stderr());
}
