//! A stable insertion sort for the few short lists the gateway orders (a
//! person's devices, a link's parameters, readiness features). The standard
//! library's sorts are faster on long input but each use compiles kilobytes
//! of code into the wasm; these lists hold tens of items at most (a query
//! string is capped at 4096 bytes).

use std::cmp::Ordering;

/// Sorts `items` by `compare`, keeping equal items in their order.
pub fn stable_sort_by<T>(items: &mut [T], compare: impl Fn(&T, &T) -> Ordering) {
    for i in 1..items.len() {
        // items[i] moves down, one swap at a time, past every earlier item
        // greater than it (swaps, not `rotate_right`: less code in the wasm).
        let mut at = i;
        while at > 0 && compare(&items[at - 1], &items[at]) == Ordering::Greater {
            items.swap(at - 1, at);
            at -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::stable_sort_by;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn sorts_like_the_standard_stable_sort(items in proptest::collection::vec((0u8..8, any::<u16>()), 0..40)) {
            let mut ours = items.clone();
            stable_sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
            let mut std = items;
            std.sort_by_key(|a| a.0);
            prop_assert_eq!(ours, std);
        }
    }
}
