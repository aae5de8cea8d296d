//! Every writer but the GitHub collector (tests/cli/reruns.rs), run twice on unchanged sources,
//! leaves every table row for row and every figure where it was; run again after new data
//! arrives, it gives the store of one run over all of it.

use std::path::{Path, PathBuf};

use crate::git::Git;
use crate::{Sandbox, assert_same_store, fixture, store_contents};

/// The first `share` of each CSV file's rows (the header kept): the data as it was earlier.
fn earlier_export(from: &Path, to: &Path, share: f64) -> PathBuf {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("a fixture") {
        let path = entry.expect("entry").path();
        let (header, records) = crate::csv_records(&path);
        let keep = (records.len() as f64 * share) as usize;
        let text = std::iter::once(&header)
            .chain(&records[..keep])
            .fold(String::new(), |text, r| text + r + "\n");
        std::fs::write(to.join(path.file_name().expect("a name")), text).expect("write");
    }
    to.to_path_buf()
}

fn import(sandbox: &Sandbox, store: &Path, input: &Path) {
    sandbox
        .run(&[
            "--store",
            store.to_str().expect("utf-8"),
            "import",
            input.to_str().expect("utf-8"),
        ])
        .success();
}

#[test]
fn import_twice_and_import_after_new_rows_give_the_store_of_one_import() {
    let sandbox = Sandbox::new();
    let full = fixture("sample");
    let once = sandbox.path().join("once");
    import(&sandbox, &once, &full);
    let want = store_contents(&sandbox, &once);

    let twice = sandbox.path().join("twice");
    import(&sandbox, &twice, &full);
    import(&sandbox, &twice, &full);
    assert_same_store("imported twice", &store_contents(&sandbox, &twice), &want);

    // The export as it was a third and two thirds of the way, then all of it.
    let growing = sandbox.path().join("growing");
    for (i, share) in [0.33, 0.66].into_iter().enumerate() {
        let earlier = earlier_export(&full, &sandbox.path().join(format!("earlier-{i}")), share);
        import(&sandbox, &growing, &earlier);
    }
    import(&sandbox, &growing, &full);
    assert_same_store("imported as it grew", &store_contents(&sandbox, &growing), &want);
}

#[test]
fn merging_a_store_twice_gives_the_store_of_one_merge() {
    let sandbox = Sandbox::new();
    let source = sandbox.path().join("source");
    import(&sandbox, &source, &fixture("sample"));
    let (once, twice) = (sandbox.path().join("once"), sandbox.path().join("twice"));
    import(&sandbox, &once, &source);
    import(&sandbox, &twice, &source);
    import(&sandbox, &twice, &source);
    assert_same_store(
        "merged twice",
        &store_contents(&sandbox, &twice),
        &store_contents(&sandbox, &once),
    );
    // And a merged store holds what the source holds.
    assert_same_store(
        "merged",
        &store_contents(&sandbox, &once),
        &store_contents(&sandbox, &source),
    );
}

#[test]
fn collect_git_twice_and_after_new_tags_gives_the_store_of_one_run() {
    let sandbox = Sandbox::new();
    let git = Git::init(&sandbox, "repo");
    let collect = |store: &Path| {
        sandbox
            .run(&[
                "--store",
                store.to_str().expect("utf-8"),
                "collect",
                "git",
                git.path(),
                "--repo-name",
                "acme/api",
            ])
            .success();
    };
    let growing = sandbox.path().join("growing");
    for day in 1..=12 {
        git.commit(&format!("change {day}"), &format!("2026-03-{day:02}T10:00:00Z"));
        if day % 2 == 0 {
            git.commit(&format!("fix {day}"), &format!("2026-03-{day:02}T15:00:00Z"));
        }
        if day % 3 == 0 {
            git.tag(&format!("v1.{day}.0"));
            // The store follows the repository as it grows, tag by tag.
            collect(&growing);
        }
    }
    let once = sandbox.path().join("once");
    collect(&once);
    let want = store_contents(&sandbox, &once);
    assert_same_store("collected as it grew", &store_contents(&sandbox, &growing), &want);
    collect(&once);
    assert_same_store("collected twice", &store_contents(&sandbox, &once), &want);
}
