//! Synthetic event data in the canonical CSV layout, for benchmarks and for trying dora at scale.
//!
//! The layout and distributions are those of the reference generator
//! (`../shared/bench/gen.py`): per-repository deploy cadence (from several a day to a few a
//! month) and failure rate, commits spread uniformly over the window, a staging deployment before
//! half of the production ones, failed deployments whose commits wait for the next one,
//! rollbacks, incidents with and without a cause, open incidents, and timestamps written with
//! mixed UTC offsets. The values differ from gen.py's (another random generator) but are
//! deterministic for a seed, whatever the number of threads: each repository has its own
//! generator seeded from (seed, repository number).
//!
//! gen.py writes about 100,000 commits a second; this writes millions (repositories in
//! parallel, timestamps and hashes formatted by hand), so 10M-100M commit benchmarks take
//! seconds to set up instead of hours. Identifiers are per repository (`d17-3`, `INC-17-1`)
//! rather than gen.py's global counters, so repositories can be generated independently.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, Timelike};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Commits in all (roughly: split evenly over the repositories).
    pub commits: u64,
    pub repos: u32,
    /// Length of the history, from 2026-01-05 (a Monday).
    pub days: u32,
    pub seed: u64,
    /// Write `deployment_commits.csv` (gen.py's `--no-mapping` leaves it out).
    pub mapping: bool,
}

/// Rows written per file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub deployments: u64,
    pub commits: u64,
    pub deployment_commits: u64,
    pub incidents: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Self) {
        self.deployments += o.deployments;
        self.commits += o.commits;
        self.deployment_commits += o.deployment_commits;
        self.incidents += o.incidents;
    }
}

/// 2026-01-05T00:00:00Z, the first day of gen.py's window.
const START_SECONDS: i64 = 1_767_571_200;
const MICROS: i64 = 1_000_000;
const HOUR: i64 = 3600 * MICROS;
const DAY: i64 = 24 * HOUR;
/// The UTC offsets timestamps are written in, as gen.py: UTC ("Z"), -08:00, +05:30, +02:00.
const OFFSETS_MINUTES: [i32; 4] = [0, -8 * 60, 5 * 60 + 30, 2 * 60];

const FILES: [(&str, &str); 4] = [
    (
        "deployments.csv",
        "id,repo,environment,sha,status,started_at,deployed_at\n",
    ),
    ("commits.csv", "repo,sha,authored_at,committed_at\n"),
    ("deployment_commits.csv", "deployment_id,sha\n"),
    ("incidents.csv", "id,repo,created_at,resolved_at,deployment_id\n"),
];

/// Writes `deployments.csv`, `commits.csv`, `deployment_commits.csv` (unless `!spec.mapping`)
/// and `incidents.csv` into `out`. Each file is written under a temporary name and renamed when
/// complete, so an interrupted run leaves no half-written file under a real name.
pub fn generate(spec: &Spec, out: &Path) -> Result<Counts> {
    fs::create_dir_all(out).map_err(|e| Error::io("create", out, e))?;
    let mut writers = Vec::new();
    for (i, (name, header)) in FILES.iter().enumerate() {
        if i == 2 && !spec.mapping {
            continue;
        }
        let tmp = out.join(format!(".{name}.tmp-{}", std::process::id()));
        let file = fs::File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        w.write_all(header.as_bytes())
            .map_err(|e| Error::io("write", &tmp, e))?;
        writers.push((i, tmp, out.join(name), w));
    }

    let per_repo = (spec.commits / u64::from(spec.repos.max(1))).max(1);
    let span = i64::from(spec.days) * DAY;
    // Repositories are generated in parallel a batch at a time and written in order.
    let batch = rayon::current_num_threads().max(1) * 4;
    let mut counts = Counts::default();
    let mut next = 0u32;
    while next < spec.repos {
        let end = spec.repos.min(next + batch as u32);
        let outputs: Vec<RepoOutput> = (next..end)
            .into_par_iter()
            .map(|r| repo(spec.seed, r, per_repo, span, spec.mapping))
            .collect();
        for output in outputs {
            counts += output.counts;
            for (i, tmp, _, w) in &mut writers {
                w.write_all(&output.files[*i])
                    .map_err(|e| Error::io("write", &*tmp, e))?;
            }
        }
        next = end;
    }
    for (_, tmp, path, w) in writers {
        let file = w.into_inner().map_err(|e| Error::io("write", &tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("write", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| Error::io("rename", &tmp, e))?;
    }
    Ok(counts)
}

/// The four files' bytes for one repository.
struct RepoOutput {
    files: [Vec<u8>; 4],
    counts: Counts,
}

/// One repository's history: the loop of gen.py, event for event.
fn repo(seed: u64, r: u32, commits: u64, span: i64, mapping: bool) -> RepoOutput {
    let mut rng = fastrand::Rng::with_seed(mix(seed, u64::from(r)));
    let name = format!("acme/service-{r:03}");
    let start = START_SECONDS * MICROS;
    let end = start + span;
    // Mean time between production deploys: from several a day to a few a month.
    let gap = [4 * HOUR, 20 * HOUR, 3 * DAY, 9 * DAY][rng.usize(0..4)] as f64;
    let fail_p = [0.02, 0.08, 0.2][rng.usize(0..3)];
    let mut commit_times: Vec<i64> = (0..commits).map(|_| start + (rng.f64() * span as f64) as i64).collect();
    commit_times.sort_unstable();

    let n = commits as usize;
    let mut out = RepoOutput {
        files: [
            Vec::with_capacity(n / 8 * 2),
            Vec::with_capacity(n * 112),
            Vec::with_capacity(if mapping { n * 52 } else { 0 }),
            Vec::new(),
        ],
        counts: Counts::default(),
    };
    let [deployments, commit_rows, mapping_rows, incidents] = &mut out.files;
    let mut deploys = 0u64;
    let mut incident_n = 0u64;
    let mut pending: Vec<[u8; 40]> = Vec::new();
    let mut ci = 0usize;
    let mut t = start as f64 + exponential(&mut rng, gap);
    while t < (end as f64) + gap {
        let dt = t as i64;
        t += exponential(&mut rng, gap) + 60.0 * MICROS as f64;
        while ci < n && commit_times[ci] <= dt {
            let sha = sha(&mut rng);
            let committed = commit_times[ci];
            let authored = committed - rng.i64(0..=3 * 86_400) * MICROS;
            commit_rows.extend_from_slice(name.as_bytes());
            commit_rows.push(b',');
            commit_rows.extend_from_slice(&sha);
            commit_rows.push(b',');
            timestamp(commit_rows, authored, &mut rng);
            commit_rows.push(b',');
            timestamp(commit_rows, committed, &mut rng);
            commit_rows.push(b'\n');
            pending.push(sha);
            ci += 1;
        }
        let Some(head) = pending.last().copied() else {
            continue;
        };
        let started = dt - rng.i64(60..=1800) * MICROS;
        // A staging deploy first, sometimes.
        if rng.f64() < 0.5 {
            deploys += 1;
            deployment(deployments, r, deploys, &name, "staging", &head, "success");
            timestamp(deployments, started - HOUR, &mut rng);
            deployments.push(b',');
            timestamp(deployments, dt - HOUR, &mut rng);
            deployments.push(b'\n');
        }
        deploys += 1;
        let id = deploys;
        let u = rng.f64();
        let status = if u < 0.05 {
            "failure"
        } else if u < 0.05 + fail_p / 3.0 {
            "rolled_back"
        } else {
            "success"
        };
        deployment(deployments, r, id, &name, "production", &head, status);
        timestamp(deployments, started, &mut rng);
        deployments.push(b',');
        timestamp(deployments, dt, &mut rng);
        deployments.push(b'\n');
        if status == "failure" {
            continue; // the commits wait for the next deployment that reaches production
        }
        if mapping {
            for sha in &pending {
                deployment_id(mapping_rows, r, id);
                mapping_rows.push(b',');
                mapping_rows.extend_from_slice(sha);
                mapping_rows.push(b'\n');
            }
            out.counts.deployment_commits += pending.len() as u64;
        }
        pending.clear();
        if rng.f64() < fail_p {
            incident_n += 1;
            let created = dt + rng.i64(120..=3600 * 12) * MICROS;
            let open = rng.f64() < 0.05;
            let _ = write!(incidents, "INC-{r}-{incident_n},{name},");
            timestamp(incidents, created, &mut rng);
            incidents.push(b',');
            if !open {
                let seconds = lognormal(&mut rng, 8.0, 1.2) as i64;
                timestamp(incidents, created + seconds * MICROS, &mut rng);
            }
            incidents.push(b',');
            if rng.f64() < 0.6 {
                deployment_id(incidents, r, id);
            }
            incidents.push(b'\n');
        }
    }
    out.counts.commits = ci as u64;
    out.counts.deployments = deploys;
    out.counts.incidents = incident_n;
    out
}

/// `d{r}-{id},{repo},{environment},{sha},{status},` (the timestamps follow).
fn deployment(buf: &mut Vec<u8>, r: u32, id: u64, repo: &str, environment: &str, sha: &[u8; 40], status: &str) {
    deployment_id(buf, r, id);
    for part in [repo.as_bytes(), environment.as_bytes(), sha, status.as_bytes()] {
        buf.push(b',');
        buf.extend_from_slice(part);
    }
    buf.push(b',');
}

fn deployment_id(buf: &mut Vec<u8>, r: u32, id: u64) {
    let _ = write!(buf, "d{r}-{id}");
}

/// A random 160-bit hash as 40 lowercase hex digits.
fn sha(rng: &mut fastrand::Rng) -> [u8; 40] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 40];
    let words = [rng.u64(..), rng.u64(..), u64::from(rng.u32(..))];
    let mut i = 0;
    for (word, digits) in words.iter().zip([16, 16, 8]) {
        for d in (0..digits).rev() {
            out[i] = HEX[((word >> (4 * d)) & 0xf) as usize];
            i += 1;
        }
    }
    out
}

/// Writes `micros` (UTC) as ISO 8601 in a random one of the offsets, as Python's `isoformat()`
/// does: microseconds only when not zero, `Z` for UTC.
fn timestamp(buf: &mut Vec<u8>, micros: i64, rng: &mut fastrand::Rng) {
    let offset = OFFSETS_MINUTES[rng.usize(0..OFFSETS_MINUTES.len())];
    let local = micros + i64::from(offset) * 60 * MICROS;
    let Some(t) = chrono::DateTime::from_timestamp_micros(local) else {
        return;
    };
    let year = t.year().clamp(0, 9999).cast_unsigned();
    two(buf, year / 100);
    two(buf, year % 100);
    buf.push(b'-');
    two(buf, t.month());
    buf.push(b'-');
    two(buf, t.day());
    buf.push(b'T');
    two(buf, t.hour());
    buf.push(b':');
    two(buf, t.minute());
    buf.push(b':');
    two(buf, t.second());
    let fraction = local.rem_euclid(MICROS) as u32;
    if fraction != 0 {
        buf.push(b'.');
        two(buf, fraction / 10_000);
        two(buf, fraction / 100 % 100);
        two(buf, fraction % 100);
    }
    if offset == 0 {
        buf.push(b'Z');
    } else {
        let abs = offset.unsigned_abs();
        buf.push(if offset < 0 { b'-' } else { b'+' });
        two(buf, abs / 60);
        buf.push(b':');
        two(buf, abs % 60);
    }
}

fn two(buf: &mut Vec<u8>, n: u32) {
    buf.push(b'0' + (n / 10) as u8);
    buf.push(b'0' + (n % 10) as u8);
}

/// `random.expovariate(1 / mean)`.
fn exponential(rng: &mut fastrand::Rng, mean: f64) -> f64 {
    -(1.0 - rng.f64()).ln() * mean
}

/// `random.lognormvariate(mu, sigma)`, the normal draw by Box-Muller.
fn lognormal(rng: &mut fastrand::Rng, mu: f64, sigma: f64) -> f64 {
    let u1 = 1.0 - rng.f64();
    let u2 = rng.f64();
    let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (mu + sigma * normal).exp()
}

/// splitmix64 of (seed, repository): independent, well-spread seeds per repository.
fn mix(seed: u64, r: u64) -> u64 {
    let mut z = seed ^ r.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_like_python_isoformat() {
        let mut rng = fastrand::Rng::with_seed(1);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..64 {
            let mut buf = Vec::new();
            timestamp(&mut buf, START_SECONDS * MICROS + 90 * MICROS + 120, &mut rng);
            seen.insert(String::from_utf8(buf).unwrap());
        }
        let expected: std::collections::BTreeSet<String> = [
            "2026-01-05T00:01:30.000120Z",
            "2026-01-04T16:01:30.000120-08:00",
            "2026-01-05T05:31:30.000120+05:30",
            "2026-01-05T02:01:30.000120+02:00",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(seen, expected);
        let mut whole = Vec::new();
        let mut utc = fastrand::Rng::with_seed(3);
        while whole.is_empty() || !whole.ends_with(b"Z") {
            whole.clear();
            timestamp(&mut whole, START_SECONDS * MICROS, &mut utc);
        }
        assert_eq!(whole, b"2026-01-05T00:00:00Z");
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = repo(7, 3, 500, 30 * DAY, true);
        let b = repo(7, 3, 500, 30 * DAY, true);
        let c = repo(8, 3, 500, 30 * DAY, true);
        assert_eq!(a.files, b.files);
        assert_ne!(a.files[1], c.files[1]);
    }
}
