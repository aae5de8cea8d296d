//! The Polars plan against a naive implementation of the definitions (docs/metrics.md) over
//! plain vectors, on random small event sets: ties at the same instant, unsorted rows, failed
//! and rolled-back deployments, named and unnamed incidents, open incidents, stated kinds.

use std::path::Path;

use dora::analysis::figures::Figures;
use dora::analysis::{self, Context, GroupBy, Window};
use dora::collect::csv::ReadOptions;
use dora::collect::csv::mapping::Mapping;
use dora::collect::{folder_files, read_files, tables_from_inputs};
use proptest::prelude::*;

const HOUR: i64 = 3_600_000_000;
const BASE: i64 = 1_772_323_200_000_000; // 2026-03-01T00:00:00Z

#[derive(Debug, Clone)]
struct Dep {
    id: String,
    repo: u8,
    at: i64,
    env: bool,
    status: u8, // 0 success, 1 failure, 2 rolled_back
    kind: u8,   // 0 empty, 1 normal, 2 hotfix, 3 rollback
}

#[derive(Debug, Clone)]
struct Commit {
    repo: u8,
    sha: String,
    at: i64,
}

#[derive(Debug, Clone)]
struct Incident {
    id: String,
    repo: u8,
    created: i64,
    resolved: Option<i64>,
    named: Option<usize>, // index into deployments
}

#[derive(Debug, Clone)]
struct Data {
    deps: Vec<Dep>,
    commits: Vec<Commit>,
    shipped: Vec<(usize, usize)>, // (deployment index, commit index)
    incidents: Vec<Incident>,
}

fn ts(t: i64) -> String {
    dora::timestamp::format_utc(t)
}

fn data() -> impl Strategy<Value = Data> {
    // Half-hour grid over ten days: many ties.
    let time = || (0i64..480).prop_map(|k| BASE + k * HOUR / 2);
    let dep = (
        0u8..3,
        time(),
        prop::bool::weighted(0.85),
        prop::sample::select(vec![0u8, 0, 0, 1, 2]),
        0u8..4,
    );
    let commit = (0u8..3, time());
    (
        prop::collection::vec(dep, 0..14),
        prop::collection::vec(commit, 0..20),
        prop::collection::vec(
            (
                0u8..3,
                time(),
                prop::option::weighted(0.8, 1i64..40),
                any::<prop::sample::Index>(),
                prop::bool::weighted(0.4),
            ),
            0..8,
        ),
        any::<bool>(),
        prop::collection::vec(any::<prop::sample::Index>(), 20),
    )
        .prop_map(|(deps, commits, incidents, mapped, picks)| {
            let deps: Vec<Dep> = deps
                .into_iter()
                .enumerate()
                .map(|(n, (repo, at, env, status, kind))| Dep {
                    id: format!("d{n}"),
                    repo,
                    at,
                    env,
                    status,
                    kind,
                })
                .collect();
            let commits: Vec<Commit> = commits
                .into_iter()
                .enumerate()
                .map(|(n, (repo, at))| Commit {
                    repo,
                    sha: format!("c{n}"),
                    at,
                })
                .collect();
            let mut shipped = Vec::new();
            if mapped && !deps.is_empty() {
                for (c, commit) in commits.iter().enumerate() {
                    let same: Vec<usize> = (0..deps.len()).filter(|&d| deps[d].repo == commit.repo).collect();
                    if !same.is_empty() {
                        shipped.push((same[picks[c % picks.len()].index(same.len())], c));
                    }
                }
            }
            let incidents = incidents
                .into_iter()
                .enumerate()
                .map(|(n, (repo, created, duration, pick, named))| Incident {
                    id: format!("i{n}"),
                    repo,
                    created,
                    resolved: duration.map(|h| created + h * HOUR / 2),
                    named: (named && !deps.is_empty()).then(|| pick.index(deps.len())),
                })
                .collect();
            Data {
                deps,
                commits,
                shipped,
                incidents,
            }
        })
}

fn write(data: &Data, dir: &Path) {
    let status = ["success", "failure", "rolled_back"];
    let kind = ["", "normal", "hotfix", "rollback"];
    let mut s = String::from("id,repo,environment,status,deployed_at,kind\n");
    // Written in reverse: row order must not matter.
    for d in data.deps.iter().rev() {
        let env = if d.env { "production" } else { "staging" };
        s += &format!(
            "{},r{},{env},{},{},{}\n",
            d.id,
            d.repo,
            status[d.status as usize],
            ts(d.at),
            kind[d.kind as usize]
        );
    }
    std::fs::write(dir.join("deployments.csv"), s).expect("write");
    let mut s = String::from("repo,sha,committed_at\n");
    for c in &data.commits {
        s += &format!("r{},{},{}\n", c.repo, c.sha, ts(c.at));
    }
    std::fs::write(dir.join("commits.csv"), s).expect("write");
    let mut s = String::from("deployment_id,sha\n");
    for (d, c) in &data.shipped {
        s += &format!("{},{}\n", data.deps[*d].id, data.commits[*c].sha);
    }
    std::fs::write(dir.join("deployment_commits.csv"), s).expect("write");
    let mut s = String::from("id,repo,created_at,resolved_at,deployment_id\n");
    for i in &data.incidents {
        let resolved = i.resolved.map(ts).unwrap_or_default();
        let named = i.named.map(|d| data.deps[d].id.clone()).unwrap_or_default();
        s += &format!("{},r{},{},{resolved},{named}\n", i.id, i.repo, ts(i.created));
    }
    std::fs::write(dir.join("incidents.csv"), s).expect("write");
}

/// Linear-interpolation quantile of an unsorted sample.
fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = (v.len() - 1) as f64 * q;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// The definitions, written as plainly as possible. `repo`: only that repository's figures.
fn naive(data: &Data, window: Window, repo: Option<u8>) -> Figures {
    let h = |t: i64| t as f64 / HOUR as f64;
    let in_window = |t: i64| t >= window.since && t < window.until;
    let prod: Vec<usize> = (0..data.deps.len())
        .filter(|&d| data.deps[d].env && data.deps[d].status != 1)
        .collect();
    // Production deployments of a repository in (deployed_at, id) order.
    let ordered = |r: u8| {
        let mut v: Vec<usize> = prod.iter().copied().filter(|&d| data.deps[d].repo == r).collect();
        v.sort_by(|&a, &b| (data.deps[a].at, &data.deps[a].id).cmp(&(data.deps[b].at, &data.deps[b].id)));
        v
    };
    let next_at = |d: usize| {
        let v = ordered(data.deps[d].repo);
        let pos = v.iter().position(|&x| x == d).expect("production");
        v.get(pos + 1).map(|&n| data.deps[n].at)
    };
    let attributed = |i: &Incident| -> Option<usize> {
        match i.named {
            Some(d) => prod.contains(&d).then_some(d),
            None => ordered(i.repo)
                .into_iter()
                .find(|&d| data.deps[d].at <= i.created && next_at(d).is_none_or(|n| i.created < n)),
        }
    };
    let wanted = |r: u8| repo.is_none_or(|x| x == r);
    let window_deps: Vec<usize> = prod
        .iter()
        .copied()
        .filter(|&d| in_window(data.deps[d].at) && wanted(data.deps[d].repo))
        .collect();

    let mut f = Figures {
        deployments: window_deps.len() as u64,
        ..Figures::default()
    };
    let mut recovery = Vec::new();
    for &d in &window_deps {
        let dep = &data.deps[d];
        let theirs: Vec<&Incident> = data.incidents.iter().filter(|i| attributed(i) == Some(d)).collect();
        let failed = dep.status == 2 || !theirs.is_empty();
        if failed {
            f.failed_deployments += 1;
            let recovered = if theirs.is_empty() {
                next_at(d)
            } else if theirs.iter().any(|i| i.resolved.is_none()) {
                None
            } else {
                theirs.iter().filter_map(|i| i.resolved).max()
            };
            match recovered {
                Some(t) => recovery.push(h(t - dep.at)),
                None => f.failed_deployment_recovery_hours.open += 1,
            }
        }
        let rework = match dep.kind {
            0 => data
                .incidents
                .iter()
                .any(|i| i.repo == dep.repo && i.created <= dep.at && i.resolved.is_some_and(|r| dep.at < r)),
            k => k >= 2,
        };
        f.rework_deployments += u64::from(rework);
    }
    f.failed_deployment_recovery_hours.count = recovery.len() as u64;
    f.failed_deployment_recovery_hours.median = quantile(&recovery, 0.5);

    let mut lead = Vec::new();
    for &d in &window_deps {
        let dep = &data.deps[d];
        let shipped: Vec<&Commit> = if data.shipped.is_empty() {
            let v = ordered(dep.repo);
            let pos = v.iter().position(|&x| x == d).expect("production");
            // Ties at the same instant: the commits go to one of them; the lead times agree.
            let previous = v[..pos].iter().rev().map(|&p| data.deps[p].at).find(|&t| t < dep.at);
            let first_at_instant = v.iter().find(|&&x| data.deps[x].at == dep.at) == Some(&d);
            data.commits
                .iter()
                .filter(|c| {
                    first_at_instant && c.repo == dep.repo && c.at <= dep.at && previous.is_none_or(|p| c.at > p)
                })
                .collect()
        } else {
            data.shipped
                .iter()
                .filter(|(sd, _)| *sd == d)
                .map(|(_, c)| &data.commits[*c])
                .filter(|c| c.repo == dep.repo)
                .collect()
        };
        for c in shipped {
            let hours = h(dep.at - c.at);
            if hours < 0.0 {
                f.lead_time_hours.negative_dropped += 1;
            } else {
                lead.push(hours);
            }
        }
    }
    f.lead_time_hours.count = lead.len() as u64;
    f.lead_time_hours.median = quantile(&lead, 0.5);
    f.lead_time_hours.p90 = quantile(&lead, 0.9);

    let mut restore = Vec::new();
    for i in data.incidents.iter().filter(|i| in_window(i.created) && wanted(i.repo)) {
        match i.resolved {
            Some(r) => restore.push(h(r - i.created)),
            None => f.time_to_restore_hours.open += 1,
        }
        f.unattributed_incidents += u64::from(attributed(i).is_none());
    }
    f.time_to_restore_hours.count = restore.len() as u64;
    f.time_to_restore_hours.median = quantile(&restore, 0.5);
    f
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => false,
    }
}

fn check(got: &Figures, want: &Figures) -> Result<(), String> {
    let pairs = [
        ("deployments", got.deployments, want.deployments),
        ("failed", got.failed_deployments, want.failed_deployments),
        ("rework", got.rework_deployments, want.rework_deployments),
        ("lead count", got.lead_time_hours.count, want.lead_time_hours.count),
        (
            "lead negative",
            got.lead_time_hours.negative_dropped,
            want.lead_time_hours.negative_dropped,
        ),
        (
            "ttr count",
            got.time_to_restore_hours.count,
            want.time_to_restore_hours.count,
        ),
        (
            "ttr open",
            got.time_to_restore_hours.open,
            want.time_to_restore_hours.open,
        ),
        (
            "recovery count",
            got.failed_deployment_recovery_hours.count,
            want.failed_deployment_recovery_hours.count,
        ),
        (
            "recovery open",
            got.failed_deployment_recovery_hours.open,
            want.failed_deployment_recovery_hours.open,
        ),
        ("unattributed", got.unattributed_incidents, want.unattributed_incidents),
    ];
    for (name, g, w) in pairs {
        if g != w {
            return Err(format!("{name}: dora {g}, naive {w}"));
        }
    }
    let floats = [
        ("lead median", got.lead_time_hours.median, want.lead_time_hours.median),
        ("lead p90", got.lead_time_hours.p90, want.lead_time_hours.p90),
        (
            "ttr median",
            got.time_to_restore_hours.median,
            want.time_to_restore_hours.median,
        ),
        (
            "recovery median",
            got.failed_deployment_recovery_hours.median,
            want.failed_deployment_recovery_hours.median,
        ),
    ];
    for (name, g, w) in floats {
        if !close(g, w) {
            return Err(format!("{name}: dora {g:?}, naive {w:?}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn plan_matches_naive_definitions(data in data(), start in 0i64..6, length in 1i64..8) {
        let dir = tempfile::tempdir().expect("temp");
        write(&data, dir.path());
        let mapping = Mapping::default();
        let files = folder_files(dir.path(), &mapping).expect("files");
        let options = ReadOptions { zone: chrono_tz::UTC, mapping: &mapping, skip_invalid: false, only: None, progress: None };
        let tables = tables_from_inputs(&read_files(&files, &options, &dora::collect::assistants::Rules::default()).expect("valid")).lazy();
        let window = Window { since: BASE + start * 24 * HOUR, until: BASE + (start + length) * 24 * HOUR };
        let ctx = Context { window, zone: chrono_tz::UTC, environment: "production".into(), group_by: Some(GroupBy::Repo), period: None };
        let report = analysis::compute(&tables, &ctx).expect("computes");
        if let Err(e) = check(&report.overall, &naive(&data, window, None)) {
            return Err(TestCaseError::fail(format!("overall {e}")));
        }
        for group in &report.groups {
            let repo: u8 = group.key.as_deref().and_then(|k| k.strip_prefix('r')).and_then(|k| k.parse().ok()).expect("repo key");
            if let Err(e) = check(&group.figures, &naive(&data, window, Some(repo))) {
                return Err(TestCaseError::fail(format!("repo r{repo}: {e}")));
            }
        }
    }
}
