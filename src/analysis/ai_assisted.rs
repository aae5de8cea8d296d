//! AI-assisted changes (DORA 2025): how many deployed commits an assistant helped write, and
//! lead time and change failure rate on each side.
//!
//! The changes are a scope's deployed commits (its lead-time pairs). A commit's flag is
//! `commits.ai_assisted` (read from its trailers at collection, [`crate::collect::assistants`]);
//! a commit whose message was never read has none and is on neither side, which the coverage
//! shows. A completed production deployment is AI-assisted when it shipped at least one
//! AI-assisted commit, and on the other side when it shipped commits with a known flag, none
//! of them AI-assisted; one that shipped no commit with a flag is on neither (aborted rollouts
//! ship none). Change failure rate on each side is its failed deployments over its deployments.
//!
//! The counts are taken per (group, period) bucket in the pass that places the lead times
//! ([`super::lead_time::summarize`]); this file adds them up to the levels of a run.

use super::figures::{AiAssisted, AiSide};
use super::quantiles::{Buckets, Levels, Summaries, Summary};

/// The split's counts in one (group, period) bucket; sides are `[AI-assisted, other]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub commits: u64,
    pub read: u64,
    pub ai: u64,
    pub deployments: [u64; 2],
    pub failed: [u64; 2],
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.commits += other.commits;
        self.read += other.read;
        self.ai += other.ai;
        for side in 0..2 {
            self.deployments[side] += other.deployments[side];
            self.failed[side] += other.failed[side];
        }
    }
}

/// What a deployment shipped, as far as the flags tell: nothing flagged, only commits without
/// an assistant, or at least one with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shipped(u8);

impl Shipped {
    const READ: u8 = 1;
    const AI: u8 = 2;

    pub fn add(&mut self, flag: Option<bool>) {
        match flag {
            Some(true) => self.0 |= Self::READ | Self::AI,
            Some(false) => self.0 |= Self::READ,
            None => {}
        }
    }

    /// 0 for the AI-assisted side, 1 for the other, `None` for neither.
    pub fn side(self) -> Option<usize> {
        if self.0 & Self::AI != 0 {
            Some(0)
        } else if self.0 & Self::READ != 0 {
            Some(1)
        } else {
            None
        }
    }
}

/// The split of every bucket: counts, and each side's lead times.
pub struct Split {
    pub counts: Vec<Counts>,
    pub ai: Buckets,
    pub other: Buckets,
}

impl Split {
    /// Counts every deployed commit `visit` yields as (bucket, hours, flag) into `counts`, and
    /// gathers the lead times of each side.
    pub fn of(
        mut counts: Vec<Counts>,
        groups: usize,
        periods: usize,
        visit: impl Fn(&mut dyn FnMut(usize, f64, Option<bool>)),
    ) -> Split {
        visit(&mut |bucket, _, flag| {
            if let Some(c) = counts.get_mut(bucket) {
                c.commits += 1;
                c.read += u64::from(flag.is_some());
                c.ai += u64::from(flag == Some(true));
            }
        });
        let side = |want: bool| {
            Buckets::build(groups, periods, |place| {
                visit(&mut |bucket, hours, flag| {
                    if flag == Some(want) {
                        place(bucket, hours);
                    }
                });
            })
        };
        Split {
            ai: side(true),
            other: side(false),
            counts,
        }
    }
}

/// The figures of every level, laid out as [`Summaries`].
#[derive(Debug, Default)]
pub struct AiSummaries {
    pub overall: AiAssisted,
    pub group: Vec<AiAssisted>,
    pub period: Vec<AiAssisted>,
    pub group_period: Vec<AiAssisted>,
}

/// The figures at the wanted levels; `quantiles` are those of the lead-time figures.
pub fn summarize(split: Split, groups: usize, periods: usize, quantiles: &[f64], levels: Levels) -> AiSummaries {
    let ai = split.ai.summarize(quantiles, levels);
    let other = split.other.summarize(quantiles, levels);
    let counts = &split.counts;
    let sum = |buckets: &mut dyn Iterator<Item = usize>| {
        let mut total = Counts::default();
        for b in buckets {
            if let Some(c) = counts.get(b) {
                total.add(c);
            }
        }
        total
    };
    let level = |summaries: fn(&Summaries) -> &Vec<Summary>, n: usize, buckets: &dyn Fn(usize) -> Vec<usize>| {
        (0..n)
            .map(|i| {
                figures(
                    sum(&mut buckets(i).into_iter()),
                    summaries(&ai).get(i),
                    summaries(&other).get(i),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut out = AiSummaries::default();
    if levels.group_period {
        out.group_period = level(|s| &s.group_period, groups * periods, &|b| vec![b]);
    }
    if levels.group {
        out.group = level(|s| &s.group, groups, &|g| (g * periods..(g + 1) * periods).collect());
    }
    if levels.period {
        out.period = level(|s| &s.period, periods, &|p| {
            (0..groups).map(|g| g * periods + p).collect()
        });
    }
    out.overall = figures(sum(&mut (0..counts.len())), Some(&ai.overall), Some(&other.overall));
    out
}

fn figures(counts: Counts, ai: Option<&Summary>, other: Option<&Summary>) -> AiAssisted {
    let ratio = |n: u64, of: u64| (of > 0).then(|| n as f64 / of as f64);
    let side = |s: Option<&Summary>, i: usize| AiSide {
        lead_time_hours: s.map(super::lead_time::figure).unwrap_or_default(),
        deployments: counts.deployments[i],
        failed_deployments: counts.failed[i],
        change_failure_rate: ratio(counts.failed[i], counts.deployments[i]),
    };
    AiAssisted {
        commits: counts.commits,
        commits_read: counts.read,
        ai_assisted_commits: counts.ai,
        share: ratio(counts.ai, counts.read),
        coverage: ratio(counts.read, counts.commits),
        ai_assisted: side(ai, 0),
        other: side(other, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_is_on_the_side_of_what_it_shipped() {
        let side = |flags: &[Option<bool>]| {
            let mut s = Shipped::default();
            for f in flags {
                s.add(*f);
            }
            s.side()
        };
        assert_eq!(side(&[]), None);
        assert_eq!(side(&[None, None]), None);
        assert_eq!(side(&[None, Some(false)]), Some(1));
        assert_eq!(side(&[Some(false), Some(true), None]), Some(0));
    }

    #[test]
    fn counts_and_lead_times_add_up_at_every_level() {
        // Two groups, two periods: bucket = group * 2 + period.
        let samples = [
            (0, 1.0, true),
            (0, 3.0, false),
            (1, 5.0, true),
            (3, 7.0, false),
            (3, -1.0, true),
        ];
        let side = |want: bool| {
            Buckets::build(2, 2, |place| {
                for &(b, h, ai) in &samples {
                    if ai == want {
                        place(b, h);
                    }
                }
            })
        };
        let mut counts = vec![Counts::default(); 4];
        counts[0] = Counts {
            commits: 3,
            read: 2,
            ai: 1,
            deployments: [1, 0],
            failed: [1, 0],
        };
        counts[1] = Counts {
            commits: 1,
            read: 1,
            ai: 1,
            deployments: [1, 0],
            failed: [0, 0],
        };
        counts[3] = Counts {
            commits: 2,
            read: 2,
            ai: 1,
            deployments: [1, 1],
            failed: [0, 1],
        };
        let levels = Levels {
            group: true,
            period: true,
            group_period: true,
        };
        let s = summarize(
            Split {
                counts,
                ai: side(true),
                other: side(false),
            },
            2,
            2,
            &[0.5, 0.75, 0.9],
            levels,
        );
        assert_eq!(s.overall.commits, 6);
        assert_eq!(s.overall.share, Some(0.6));
        assert_eq!(s.overall.coverage, Some(5.0 / 6.0));
        assert_eq!(s.overall.ai_assisted.lead_time_hours.count, 2);
        assert_eq!(s.overall.ai_assisted.lead_time_hours.median, Some(3.0));
        assert_eq!(s.overall.ai_assisted.lead_time_hours.negative_dropped, 1);
        assert_eq!(s.overall.ai_assisted.change_failure_rate, Some(1.0 / 3.0));
        assert_eq!(s.overall.other.change_failure_rate, Some(1.0));
        assert_eq!(s.group[0].commits, 4);
        assert_eq!(s.group[1].commits, 2);
        assert_eq!(s.group[1].other.lead_time_hours.median, Some(7.0));
        assert_eq!(s.period[0].commits, 3);
        assert_eq!(s.period[0].ai_assisted.lead_time_hours.median, Some(1.0));
        assert_eq!(s.group_period[2].commits, 0);
        assert_eq!(s.group_period[2].share, None);
        assert_eq!(s.group_period[1].ai_assisted.lead_time_hours.median, Some(5.0));
    }
}
