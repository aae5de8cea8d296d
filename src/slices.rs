//! A buffer laid out in consecutive parts (a counting sort's output), split into the parts so
//! that each can be worked on by another core.

use rayon::prelude::*;

/// Bits of the key that choose a value's part in [`sort_by_top_bits`].
const PART_BITS: u32 = 12;

/// `values` sorted: one pass spreads them over 4,096 parts by the top bits of `key`, then each
/// part (small enough to stay in cache) is sorted on its own, on every core. Rayon's parallel
/// sort of the whole array took about twice as long (perf, 2M hashes). `key`'s top bits must
/// not decrease as values increase (a hash, or a tuple led by one).
pub fn sort_by_top_bits<T: Copy + Ord + Send + Default>(values: &[T], key: impl Fn(&T) -> u64) -> Vec<T> {
    let part_of = |value: &T| (key(value) >> (64 - PART_BITS)) as usize;
    let mut starts = vec![0usize; (1 << PART_BITS) + 1];
    for value in values {
        starts[part_of(value) + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut next = starts.clone();
    let mut spread = vec![T::default(); values.len()];
    for value in values {
        let slot = &mut next[part_of(value)];
        spread[*slot] = *value;
        *slot += 1;
    }
    split_at_bounds(&mut spread, &starts)
        .into_par_iter()
        .for_each(<[T]>::sort_unstable);
    spread
}

/// The parts `values[bounds[i]..bounds[i + 1]]`, as disjoint mutable slices. `bounds` is
/// non-decreasing and within `values`; parts outside it are not returned.
pub fn split_at_bounds<'a, T>(values: &'a mut [T], bounds: &[usize]) -> Vec<&'a mut [T]> {
    let mut parts = Vec::with_capacity(bounds.len().saturating_sub(1));
    let mut rest = match bounds.first() {
        Some(&first) => values.get_mut(first..).unwrap_or_default(),
        None => return parts,
    };
    for pair in bounds.windows(2) {
        let length = pair[1].saturating_sub(pair[0]).min(rest.len());
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(length);
        parts.push(part);
        rest = tail;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_follow_the_bounds() {
        let mut values = [1, 2, 3, 4, 5, 6];
        let parts = split_at_bounds(&mut values, &[1, 1, 3, 6]);
        assert_eq!(parts, [&mut [][..], &mut [2, 3][..], &mut [4, 5, 6][..]]);
        assert!(split_at_bounds(&mut values, &[]).is_empty());
        assert!(split_at_bounds(&mut values, &[0]).is_empty());
    }

    #[test]
    fn sorted_by_top_bits_as_by_a_sort() {
        use proptest::prelude::*;
        proptest!(|(values in proptest::collection::vec((any::<u64>(), any::<u32>()), 0..3_000), small in any::<bool>())| {
            // Small hashes all fall in part 0; large ones spread.
            let values: Vec<(u64, u32)> = values.into_iter().map(|(h, r)| (if small { h >> 50 } else { h }, r)).collect();
            let mut expected = values.clone();
            expected.sort_unstable();
            prop_assert_eq!(sort_by_top_bits(&values, |v| v.0), expected);
        });
    }
}
