//! A buffer laid out in consecutive parts (a counting sort's output), split into the parts so
//! that each can be worked on by another core.

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
}
