//! Batch size, as DORA's 2025 survey asks about it: how many changes a deployment ships.
//!
//! Each completed production deployment of the window counts the commits it shipped (its
//! lead-time pairs: the same commits lead time measures, negative lead times included); a scope
//! reports the median and how many deployments fall in each of the survey's buckets: 1, 2-10,
//! 11-50, 51-100, more than 100 commits (and none, for deployments that shipped nothing new).

use super::figures::ChangesPerDeployment;
use super::quantiles::{Buckets, Levels};

/// One size class of a batch: its bounds (inclusive), its key in the JSON artifact and CSV, and
/// its label in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeClass {
    pub fewest: i64,
    pub most: i64,
    pub key: &'static str,
    pub label: &'static str,
}

const fn class(fewest: i64, most: i64, key: &'static str, label: &'static str) -> SizeClass {
    SizeClass {
        fewest,
        most,
        key,
        label,
    }
}

/// The size classes of [`ChangesPerDeployment::by_size`], in commits shipped.
pub const CLASSES: [SizeClass; 6] = [
    class(0, 0, "none", "none"),
    class(1, 1, "1", "1"),
    class(2, 10, "2_10", "2-10"),
    class(11, 50, "11_50", "11-50"),
    class(51, 100, "51_100", "51-100"),
    class(101, i64::MAX, "over_100", ">100"),
];

/// The size classes of lines changed per change; the 2025 survey's buckets after `none`.
pub const LINE_CLASSES: [SizeClass; 6] = [
    class(0, 0, "none", "none"),
    class(1, 10, "1_10", "1-10"),
    class(11, 50, "11_50", "11-50"),
    class(51, 100, "51_100", "51-100"),
    class(101, 250, "101_250", "101-250"),
    class(251, i64::MAX, "over_250", ">250"),
];

fn class_of(commits: u32) -> usize {
    let commits = i64::from(commits);
    CLASSES
        .iter()
        .position(|c| (c.fewest..=c.most).contains(&commits))
        .unwrap_or(CLASSES.len() - 1)
}

/// "none: 0 · 1: 5 · 2-10: 1 · ...": each class's label and count, in order.
pub fn classes_text(classes: &[SizeClass], counts: impl IntoIterator<Item = u64>) -> String {
    classes
        .iter()
        .zip(counts)
        .map(|(c, n)| format!("{}: {n}", c.label))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The figures of every level, laid out as [`super::quantiles::Summaries`].
#[derive(Debug, Default)]
pub struct BatchSummaries {
    pub overall: ChangesPerDeployment,
    pub group: Vec<ChangesPerDeployment>,
    pub period: Vec<ChangesPerDeployment>,
    pub group_period: Vec<ChangesPerDeployment>,
}

/// Summaries of the window's deployments, each given as its (group, period) bucket and the
/// commits it shipped.
pub fn summarize(deployments: &[(usize, u32)], groups: usize, periods: usize, levels: Levels) -> BatchSummaries {
    let n_buckets = groups * periods;
    let mut by_size = vec![[0u64; 6]; n_buckets];
    for &(bucket, commits) in deployments {
        if let Some(h) = by_size.get_mut(bucket) {
            h[class_of(commits)] += 1;
        }
    }
    let medians = Buckets::build(groups, periods, |place| {
        for &(bucket, commits) in deployments {
            place(bucket, f64::from(commits));
        }
    })
    .summarize(&[0.5], levels);
    let add = |into: &mut [u64; 6], from: &[u64; 6]| {
        for (a, b) in into.iter_mut().zip(from) {
            *a += b;
        }
    };
    let figure = |h: [u64; 6], s: &super::quantiles::Summary| ChangesPerDeployment {
        deployments: h.iter().sum(),
        median: s.quantiles.first().copied().flatten(),
        by_size: h,
    };
    let mut out = BatchSummaries::default();
    if levels.group_period {
        out.group_period = by_size
            .iter()
            .zip(&medians.group_period)
            .map(|(h, s)| figure(*h, s))
            .collect();
    }
    if levels.group {
        out.group = (0..groups)
            .zip(&medians.group)
            .map(|(g, s)| {
                let mut h = [0; 6];
                for bucket in &by_size[g * periods..(g + 1) * periods] {
                    add(&mut h, bucket);
                }
                figure(h, s)
            })
            .collect();
    }
    if levels.period {
        out.period = (0..periods)
            .zip(&medians.period)
            .map(|(p, s)| {
                let mut h = [0; 6];
                for g in 0..groups {
                    add(&mut h, &by_size[g * periods + p]);
                }
                figure(h, s)
            })
            .collect();
    }
    let mut all = [0; 6];
    for h in &by_size {
        add(&mut all, h);
    }
    out.overall = figure(all, &medians.overall);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_medians_at_every_level() {
        // Two groups, two periods: bucket = group * 2 + period.
        let deployments = [(0, 1), (0, 3), (1, 0), (2, 120), (3, 11), (3, 50), (3, 51)];
        let levels = Levels {
            group: true,
            period: true,
            group_period: true,
        };
        let s = summarize(&deployments, 2, 2, levels);
        assert_eq!(s.overall.deployments, 7);
        assert_eq!(s.overall.by_size, [1, 1, 1, 2, 1, 1]);
        assert_eq!(s.overall.median, Some(11.0));
        assert_eq!(s.group[0].by_size, [1, 1, 1, 0, 0, 0]);
        assert_eq!(s.group[0].median, Some(1.0));
        assert_eq!(s.period[1].by_size, [1, 0, 0, 2, 1, 0]);
        assert_eq!(s.group_period[3].median, Some(50.0));
        assert_eq!(s.group_period[1].median, Some(0.0));
        assert_eq!(class_of(100), 4);
        assert_eq!(class_of(101), 5);
    }
}
