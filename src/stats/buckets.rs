//! Log-linear duration buckets (HDR-style) of known relative error.
//!
//! Durations are recorded in whole microseconds. Below 128 µs every
//! microsecond has its own bucket; above, each power of two is split into 64
//! equal buckets, so a bucket spans at most 1/64 of its lower bound. A
//! percentile is reported as its bucket's midpoint, hence within
//! [`RELATIVE_ERROR`] (1/128 ≈ 0.78 %) of the true value from 128 µs up, and
//! exact to the microsecond below. Durations of 2^32 µs (about 71 minutes) and
//! more share the last bucket.

/// Sub-buckets per power of two.
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
/// Values below this have one bucket each.
const LINEAR: u64 = 2 * SUB;
/// Highest power of two with its own buckets (values < 2^32 µs).
const MAX_EXP: u32 = 31;

/// Number of buckets of one histogram.
pub const BUCKETS: usize = (LINEAR + (MAX_EXP as u64 - SUB_BITS as u64) * SUB) as usize;

/// Worst relative error of a reported percentile for durations ≥ 128 µs.
pub const RELATIVE_ERROR: f64 = 1.0 / 128.0;

/// The bucket of a duration in microseconds.
#[inline]
pub fn index(micros: u64) -> usize {
    if micros < LINEAR {
        return micros as usize;
    }
    let exp = 63 - micros.leading_zeros();
    if exp > MAX_EXP {
        return BUCKETS - 1;
    }
    let sub = (micros >> (exp - SUB_BITS)) & (SUB - 1);
    (LINEAR + u64::from(exp - SUB_BITS - 1) * SUB + sub) as usize
}

/// The lowest duration (µs) of bucket `i` and its width.
pub fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < LINEAR {
        return (i, 1);
    }
    let k = i - LINEAR;
    let exp = (k / SUB) as u32 + SUB_BITS + 1;
    let sub = k % SUB;
    let width = 1u64 << (exp - SUB_BITS);
    ((1u64 << exp) + sub * width, width)
}

/// The value reported for bucket `i`, in µs: its midpoint (its only value
/// below 128 µs).
pub fn midpoint(i: usize) -> f64 {
    let (low, width) = bounds(i);
    if width == 1 {
        low as f64
    } else {
        low as f64 + width as f64 / 2.0
    }
}

/// The nearest-rank percentile `q` (0..=1) of merged bucket counts, in µs;
/// `None` when empty.
pub fn percentile(counts: &[u64], q: f64) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(midpoint(i));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_range_without_gaps() {
        let mut next = 0;
        for i in 0..BUCKETS {
            let (low, width) = bounds(i);
            assert_eq!(low, next, "bucket {i}");
            assert_eq!(index(low), i);
            assert_eq!(index(low + width - 1), i);
            next = low + width;
        }
        assert_eq!(next, 1 << 32);
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn midpoint_is_within_the_stated_error() {
        for v in [
            128u64,
            129,
            1000,
            4095,
            4096,
            123_456,
            9_999_999,
            (1 << 32) - 1,
        ] {
            let m = midpoint(index(v));
            assert!(
                (m - v as f64).abs() / v as f64 <= RELATIVE_ERROR,
                "{v} -> {m}"
            );
        }
        assert_eq!(midpoint(index(77)), 77.0);
    }
}
