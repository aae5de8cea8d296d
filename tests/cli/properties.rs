//! Properties of the whole pipeline, through the library: row order and re-reading the same
//! files change nothing.

use std::path::Path;

use dora::analysis::figures::Scorecard;
use dora::analysis::{self, Context, GroupBy, PeriodKind};
use dora::collect::csv::ReadOptions;
use dora::collect::csv::mapping::Mapping;
use dora::collect::{folder_files, read_files, tables_from_inputs};
use dora::table::Tables;
use polars::prelude::*;
use proptest::prelude::*;

use crate::fixture;

/// The canonical tables of a CSV folder, as read (no derived column).
fn read(dir: &Path) -> Tables<DataFrame> {
    let mapping = Mapping::default();
    let files = folder_files(dir, &mapping).expect("files");
    let options = ReadOptions {
        zone: chrono_tz::UTC,
        mapping: &mapping,
        skip_invalid: false,
        only: None,
        progress: None,
    };
    tables_from_inputs(&read_files(&files, &options, &dora::collect::assistants::Rules::default()).expect("valid"))
}

fn compute(dir: &Path) -> Scorecard {
    let tables = read(dir).lazy();
    let zone: chrono_tz::Tz = "America/Los_Angeles".parse().expect("zone");
    let ctx = Context {
        window: analysis::Window {
            since: 1_767_571_200_000_000,
            until: 1_778_025_600_000_000,
        },
        zone,
        environment: "production".into(),
        group_by: Some(GroupBy::Repo),
        period: Some(PeriodKind::Week),
    };
    analysis::compute(&tables, &ctx).expect("computes")
}

/// Copies the fixture with the data rows of every file shuffled by `seed`.
fn shuffled_copy(from: &Path, to: &Path, seed: u64) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("fixture") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let (header, mut lines) = crate::csv_records(&path);
        let mut state = seed | 1;
        for i in (1..lines.len()).rev() {
            // xorshift: deterministic and dependency-free
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            lines.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let body = std::iter::once(header).chain(lines).collect::<Vec<_>>().join("\n");
        std::fs::write(to.join(path.file_name().expect("name")), body + "\n").expect("write");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn row_order_changes_nothing(seed in any::<u64>()) {
        let reference = compute(&fixture("sample"));
        let dir = tempfile::tempdir().expect("temp");
        shuffled_copy(&fixture("sample"), dir.path(), seed);
        prop_assert_eq!(compute(dir.path()), reference);
    }
}

#[test]
fn duplicated_rows_change_nothing() {
    // Exports that overlap repeat rows; exact copies are collapsed, never double counted.
    let dir = tempfile::tempdir().expect("temp");
    for entry in std::fs::read_dir(fixture("sample")).expect("fixture") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let body: String = crate::csv_records(&path).1.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(
            dir.path().join(path.file_name().expect("name")),
            format!("{text}{body}"),
        )
        .expect("write");
    }
    assert_eq!(compute(dir.path()), compute(&fixture("sample")));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the cells hold, reading ends in rows or in an error, never a panic.
    #[test]
    fn arbitrary_cells_never_panic(
        rows in prop::collection::vec(prop::collection::vec("[\\PC\"\n,]{0,12}", 0..6), 0..6),
        skip_invalid in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("temp");
        let mut text = String::from("id,repo,deployed_at,status,kind\n");
        for row in &rows {
            let cells: Vec<String> = row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        std::fs::write(dir.path().join("deployments.csv"), text).expect("write");
        let mapping = Mapping::default();
        let files = folder_files(dir.path(), &mapping).expect("files");
        let options = ReadOptions { zone: chrono_tz::UTC, mapping: &mapping, skip_invalid, only: None, progress: None };
        if let Ok(inputs) = read_files(&files, &options, &dora::collect::assistants::Rules::default()) {
            let _ = compute_tables(&tables_from_inputs(&inputs).lazy());
        }
    }
}

fn compute_tables(tables: &dora::table::Tables) -> dora::Result<Scorecard> {
    let ctx = Context {
        window: analysis::Window {
            since: 0,
            until: 4_102_444_800_000_000,
        },
        zone: chrono_tz::UTC,
        environment: "production".into(),
        group_by: Some(GroupBy::Team),
        period: Some(PeriodKind::Month),
    };
    analysis::compute(tables, &ctx)
}

/// The feedback loop read from the derived columns of `issue_commits` (a store's, or
/// `--input`'s) is the one joined from the canonical tables (a store written before the
/// columns existed), with and without the derived columns of `deployment_commits`, and with
/// and without `deployment_commits` rows (the time fallback), at every level.
#[test]
fn the_derived_links_give_the_figures_of_the_joins() {
    // Planning the figures and views of these many plans recurses deeper than a test thread's
    // stack in debug builds.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(derived_links_give_the_figures_of_the_joins)
        .expect("a thread")
        .join()
        .expect("the check");
}

fn derived_links_give_the_figures_of_the_joins() {
    use dora::table::schema::{commits as c, deployment_commits as dc, deployments as d};
    let read = read(&fixture("feedback"));
    // Every later deployment of a commit's repository lists it: several per commit.
    let listed = read
        .commits
        .clone()
        .lazy()
        .join(
            read.deployments.clone().lazy(),
            [col(c::REPO)],
            [col(d::REPO)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col(d::DEPLOYED_AT).gt_eq(col(c::COMMITTED_AT)))
        .select([col(d::ID).alias(dc::DEPLOYMENT_ID), col(c::SHA).alias(dc::SHA)])
        .collect()
        .expect("deployment_commits");
    assert!(listed.height() > read.commits.height());
    let at = |text: &str| dora::timestamp::parse(text, chrono_tz::UTC).expect("a timestamp");
    for with_pairs in [false, true] {
        let mut canonical = read.clone();
        if with_pairs {
            canonical.deployment_commits = listed.clone();
        }
        let derived = dora::store::with_derived_columns_of(canonical.clone()).expect("derived");
        let mut pairs_only = derived.clone();
        pairs_only.issue_commits = canonical.issue_commits.clone();
        let (canonical, pairs_only, derived) = (canonical.lazy(), pairs_only.lazy(), derived.lazy());
        for group_by in [None, Some(GroupBy::Repo), Some(GroupBy::Service)] {
            for period in [None, Some(PeriodKind::Week)] {
                for since in ["2026-03-02T00:00:00Z", "2026-01-01T00:00:00Z"] {
                    let ctx = Context {
                        window: analysis::Window {
                            since: at(since),
                            until: at("2026-03-16T00:00:00Z"),
                        },
                        zone: chrono_tz::UTC,
                        environment: "production".into(),
                        group_by,
                        period,
                    };
                    let expected = analysis::compute(&canonical, &ctx).expect("joined");
                    assert!(expected.overall.issues.as_ref().is_some_and(|i| i.bug.delivered > 0));
                    assert_eq!(analysis::compute(&pairs_only, &ctx).expect("pairs derived"), expected);
                    assert_eq!(analysis::compute(&derived, &ctx).expect("all derived"), expected);
                    // And the rows behind the figures: each delivery, its deployment and commits.
                    let rows = |tables: &dora::table::Tables| {
                        let facts = analysis::facts(tables, &ctx).expect("facts");
                        analysis::views::issue_deliveries(&facts, chrono_tz::UTC)
                            .expect("issue_deliveries")
                            .sort(["id"], SortMultipleOptions::default())
                            .collect()
                            .expect("deliveries")
                    };
                    let expected_rows = rows(&canonical);
                    assert!(expected_rows.height() > 0);
                    assert!(rows(&derived).equals_missing(&expected_rows));
                    assert!(rows(&pairs_only).equals_missing(&expected_rows));
                }
            }
        }
    }
}
