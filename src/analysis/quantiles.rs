//! Counts and linear quantiles of many samples at the levels of a metrics run (the whole
//! window, each group, each period, each group in each period), in one buffer, without sorting.
//!
//! Polars computes a group-by quantile by gathering each group's values into a new array and
//! selecting in it, once per quantile and per level: with 20M deployed commits, three quantiles
//! and four levels, that was a third of `dora metrics` (perf). Here each sample is written
//! once, into its (group, period) bucket; the buckets of a group are adjacent, so a group is one
//! contiguous slice; one copy in period order serves the periods; and the quantiles of a slice
//! come from nested selections, each in what the previous one left above its rank.
//!
//! The figures equal Polars' `QuantileMethod::Linear` exactly: the same order statistics, the
//! same interpolation arithmetic (tested against Polars below).

use rayon::prelude::*;

/// Count and quantiles of one slice of samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub count: usize,
    /// Samples below zero: counted, not summarized (see [`Buckets::build`]).
    pub below_zero: usize,
    /// One per requested quantile; `None` without samples.
    pub quantiles: Vec<Option<f64>>,
}

/// Which levels to summarize (the whole window always is).
#[derive(Debug, Clone, Copy, Default)]
pub struct Levels {
    pub group: bool,
    pub period: bool,
    pub group_period: bool,
}

/// The summaries of every level; a level not asked for is empty.
#[derive(Debug, Default)]
pub struct Summaries {
    pub overall: Summary,
    /// By group index.
    pub group: Vec<Summary>,
    /// By period index.
    pub period: Vec<Summary>,
    /// By bucket, `group * periods + period`.
    pub group_period: Vec<Summary>,
}

/// Samples laid out by bucket: bucket `b` (`group * periods + period`) holds
/// `values[starts[b]..starts[b + 1]]`.
pub struct Buckets {
    groups: usize,
    periods: usize,
    starts: Vec<usize>,
    values: Vec<f64>,
    below_zero: Vec<usize>,
}

impl Buckets {
    /// Places the samples that `visit` reports as `(bucket, value)`. `visit` runs twice (once to
    /// count each bucket's samples, once to place them) and must report the same samples both
    /// times; buckets out of range and NaN values are ignored. Values below zero are counted per
    /// bucket and left out of the summaries: for lead time they are data errors, reported apart.
    pub fn build(groups: usize, periods: usize, visit: impl Fn(&mut dyn FnMut(usize, f64))) -> Buckets {
        let n_buckets = groups * periods;
        let mut counts = vec![0usize; n_buckets];
        let mut below_zero = vec![0usize; n_buckets];
        visit(&mut |bucket, value| {
            let counter = if value >= 0.0 {
                &mut counts
            } else if value < 0.0 {
                &mut below_zero
            } else {
                return;
            };
            if let Some(c) = counter.get_mut(bucket) {
                *c += 1;
            }
        });
        let mut starts = Vec::with_capacity(n_buckets + 1);
        let mut total = 0;
        starts.push(0);
        for c in &counts {
            total += c;
            starts.push(total);
        }
        // Next free position of each bucket.
        let mut next: Vec<usize> = starts[..n_buckets].to_vec();
        let mut values = vec![0.0; total];
        visit(&mut |bucket, value| {
            if value >= 0.0
                && let Some(at) = next.get_mut(bucket)
                && let Some(slot) = values.get_mut(*at)
            {
                *slot = value;
                *at += 1;
            }
        });
        Buckets {
            groups,
            periods,
            starts,
            values,
            below_zero,
        }
    }

    /// Summaries of the wanted levels for the quantiles `qs`. Reorders the values within each
    /// bucket and group, which changes no summary.
    pub fn summarize(mut self, qs: &[f64], levels: Levels) -> Summaries {
        let (groups, periods) = (self.groups, self.periods);
        let mut out = Summaries::default();
        let below = |buckets: &mut dyn Iterator<Item = usize>| buckets.map(|b| self.below_zero[b]).sum::<usize>();
        let below_by_group: Vec<usize> = (0..groups)
            .map(|g| below(&mut (g * periods..(g + 1) * periods)))
            .collect();
        let below_by_period: Vec<usize> = (0..periods)
            .map(|p| below(&mut (0..groups).map(|g| g * periods + p)))
            .collect();
        let below_all: usize = self.below_zero.iter().sum();
        let with_below = |mut summaries: Vec<Summary>, below: &[usize]| {
            for (s, b) in summaries.iter_mut().zip(below) {
                s.below_zero = *b;
            }
            summaries
        };
        if levels.group_period {
            let bounds: Vec<usize> = self.starts.clone();
            out.group_period = with_below(summarize_slices(&mut self.values, &bounds, qs), &self.below_zero);
        }
        // The period copy is made before the group level reorders values across the buckets of
        // a group.
        let mut by_period = Vec::new();
        let mut period_bounds = Vec::new();
        if levels.period {
            by_period.reserve_exact(self.values.len());
            period_bounds.push(0);
            for p in 0..periods {
                for g in 0..groups {
                    let b = g * periods + p;
                    by_period.extend_from_slice(&self.values[self.starts[b]..self.starts[b + 1]]);
                }
                period_bounds.push(by_period.len());
            }
        }
        if levels.group {
            let bounds: Vec<usize> = (0..=groups).map(|g| self.starts[g * periods]).collect();
            out.group = with_below(summarize_slices(&mut self.values, &bounds, qs), &below_by_group);
        }
        if levels.period {
            out.period = with_below(summarize_slices(&mut by_period, &period_bounds, qs), &below_by_period);
        }
        out.overall = summarize(&mut self.values, qs);
        out.overall.below_zero = below_all;
        out
    }
}

/// The summary of each slice `values[bounds[i]..bounds[i + 1]]`, on all cores.
fn summarize_slices(values: &mut [f64], bounds: &[usize], qs: &[f64]) -> Vec<Summary> {
    crate::slices::split_at_bounds(values, bounds)
        .into_par_iter()
        .map(|s| summarize(s, qs))
        .collect()
}

/// Count and linear quantiles of `values` (reordered in place).
pub fn summarize(values: &mut [f64], qs: &[f64]) -> Summary {
    let n = values.len();
    if n == 0 {
        return Summary {
            count: 0,
            below_zero: 0,
            quantiles: vec![None; qs.len()],
        };
    }
    // Polars' quantile_idx: the rank below, its fraction, the rank above.
    let positions: Vec<(usize, f64, usize)> = qs
        .iter()
        .map(|&q| {
            let float_idx = (n as f64 - 1.0) * q;
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "0 <= q <= 1: the index is within the slice, as in Polars"
            )]
            let (low, high) = ((float_idx as usize).min(n - 1), (float_idx.ceil() as usize).min(n - 1));
            (low, float_idx, high)
        })
        .collect();
    let mut ranks: Vec<usize> = positions.iter().flat_map(|&(low, _, high)| [low, high]).collect();
    ranks.sort_unstable();
    ranks.dedup();
    // Each selection leaves everything above its rank in the slice after it: the next rank is
    // selected there only.
    let mut at_rank = Vec::with_capacity(ranks.len());
    let mut from = 0;
    for &rank in &ranks {
        let rest = &mut values[from..];
        let (_, value, _) = rest.select_nth_unstable_by(rank - from, f64::total_cmp);
        at_rank.push((rank, *value));
        from = rank + 1;
    }
    let value_at = |rank: usize| at_rank.iter().find(|(r, _)| *r == rank).map_or(f64::NAN, |(_, v)| *v);
    let quantiles = positions
        .iter()
        .map(|&(low, float_idx, high)| {
            let lower = value_at(low);
            if low == high {
                return Some(lower);
            }
            let upper = value_at(high);
            // Polars' linear_interpol, operation for operation.
            #[expect(
                clippy::float_cmp,
                reason = "Polars compares exactly; the same figures need the same test"
            )]
            Some(if lower == upper {
                lower
            } else {
                (float_idx - low as f64) * (upper - lower) + lower
            })
        })
        .collect();
    Summary {
        count: n,
        below_zero: 0,
        quantiles,
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;
    use proptest::prelude::*;

    use super::*;

    const QS: [f64; 3] = [0.5, 0.75, 0.9];

    fn polars_quantiles(values: &[f64]) -> Vec<Option<f64>> {
        let s = Series::new("v".into(), values);
        QS.iter()
            .map(|&q| {
                s.f64()
                    .expect("f64")
                    .quantile(q, QuantileMethod::Linear)
                    .expect("quantile")
            })
            .collect()
    }

    #[test]
    fn small_slices_match_polars() {
        for values in [
            vec![],
            vec![3.0],
            vec![2.0, 1.0],
            vec![5.0, 1.0, 3.0],
            vec![1.0, 1.0, 1.0, 2.0],
            vec![0.5, 0.25, 9.0, 4.0, 4.0, 7.5],
        ] {
            let mut v = values.clone();
            let s = summarize(&mut v, &QS);
            assert_eq!(s.count, values.len());
            assert_eq!(s.quantiles, polars_quantiles(&values), "{values:?}");
        }
    }

    proptest! {
        #[test]
        fn any_slice_matches_polars(values in prop::collection::vec(-1e6f64..1e6, 0..200)) {
            let mut v = values.clone();
            prop_assert_eq!(summarize(&mut v, &QS).quantiles, polars_quantiles(&values));
        }

        #[test]
        fn every_level_matches_a_direct_computation(
            samples in prop::collection::vec((0usize..3, 0usize..4, -5i32..50), 0..300),
        ) {
            let (groups, periods) = (3, 4);
            let buckets = Buckets::build(groups, periods, |f| {
                for &(g, p, v) in &samples {
                    f(g * periods + p, f64::from(v));
                }
                // Out of range: ignored.
                f(groups * periods, 1.0);
            });
            let all = Levels { group: true, period: true, group_period: true };
            let s = buckets.summarize(&QS, all);
            let of = |keep: &dyn Fn(usize, usize) -> bool| {
                let kept = samples.iter().filter(|(g, p, _)| keep(*g, *p));
                let mut v: Vec<f64> = kept.clone().filter(|s| s.2 >= 0).map(|&(_, _, v)| f64::from(v)).collect();
                let mut s = summarize(&mut v, &QS);
                s.below_zero = kept.filter(|s| s.2 < 0).count();
                s
            };
            prop_assert_eq!(&s.overall, &of(&|_, _| true));
            for g in 0..groups {
                prop_assert_eq!(&s.group[g], &of(&|sg, _| sg == g));
                for p in 0..periods {
                    prop_assert_eq!(&s.group_period[g * periods + p], &of(&|sg, sp| sg == g && sp == p));
                }
            }
            for p in 0..periods {
                prop_assert_eq!(&s.period[p], &of(&|_, sp| sp == p));
            }
        }
    }
}
