//! Entry slots: what a token reaches, and the people two tokens (or one) reach together.

use pyo3::prelude::*;
use std::cell::RefCell;
use std::sync::OnceLock;

/// Which vocabulary, as it stood: a `SlotSet` is read against the postings it was made from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub core: u64,
    pub generation: u64, // one more at every change of postings
}

/// The words one token reaches (their ids, in the vocabulary that looked them up). The
/// matcher caches one per token: a common given name reaches thousands of entries, and this
/// holds the few words that lead to them, not the entries.
///
/// Their slots are read from the vocabulary's postings when asked (`Reached`), and merged
/// into a sorted union only when needed: most events pair a token of few slots (a surname)
/// with one of thousands (a given name), and probing the large one's lists for the few slots
/// costs far less than merging (or copying) thousands.
#[pyclass(frozen, module = "relay_vocabulary")]
pub struct SlotSet {
    pub words: Box<[u32]>,
    pub stamp: Stamp,
    total: usize, // slots in all the words' lists
    union: OnceLock<Box<[u32]>>,
}

impl SlotSet {
    pub fn new(words: Vec<u32>, stamp: Stamp, total: usize) -> Self {
        SlotSet {
            words: words.into_boxed_slice(),
            stamp,
            total,
            union: OnceLock::new(),
        }
    }
}

/// A set with its words' slots, borrowed from the vocabulary that made it (each list sorted
/// and unique).
pub struct Reached<'a> {
    set: &'a SlotSet,
    lists: Vec<&'a [u32]>,
}

impl<'a> Reached<'a> {
    pub fn new(set: &'a SlotSet, lists: Vec<&'a [u32]>) -> Self {
        Reached { set, lists }
    }

    /// Every slot, sorted and unique (kept with the set once made).
    pub fn slots(&self) -> &'a [u32] {
        self.set.union.get_or_init(|| {
            SCRATCH
                .with_borrow_mut(|scratch| union(&self.lists, scratch))
                .into_boxed_slice()
        })
    }

    fn contains(&self, slot: u32) -> bool {
        self.lists
            .iter()
            .any(|list| list.binary_search(&slot).is_ok())
    }

    /// Whether probing this set's lists for `probes` slots costs less than its union: a
    /// binary search of each list per probe, against a few operations per slot it holds.
    fn probed_for(&self, probes: usize) -> bool {
        self.set.union.get().is_none() && probes * self.lists.len() * 2 < self.set.total
    }
}

thread_local! {
    // the bits `union` sets and clears again; one per thread, as Python may call from several
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// Slot numbers as a bit set: membership costs a shift and a mask.
#[derive(Default)]
pub struct Marks {
    bits: Vec<u64>,
    count: usize,
}

impl Marks {
    pub fn set(&mut self, slot: u32, marked: bool) {
        let (word, bit) = (slot as usize / 64, 1u64 << (slot % 64));
        if word >= self.bits.len() {
            if !marked {
                return;
            }
            self.bits.resize(word + 1, 0);
        }
        let was = self.bits[word] & bit != 0;
        if marked && !was {
            self.bits[word] |= bit;
            self.count += 1;
        } else if !marked && was {
            self.bits[word] &= !bit;
            self.count -= 1;
        }
    }

    pub fn contains(&self, slot: u32) -> bool {
        let word = slot as usize / 64;
        word < self.bits.len() && self.bits[word] & (1u64 << (slot % 64)) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Append the slots in both sorted lists to `out`, at the cost of the smaller when the
/// other is much larger (a surname's few slots probe a given name's thousands).
pub fn intersect(first: &[u32], second: &[u32], out: &mut Vec<u32>) {
    let (small, large) = if first.len() <= second.len() {
        (first, second)
    } else {
        (second, first)
    };
    if small.len() * 16 < large.len() {
        out.extend(
            small
                .iter()
                .filter(|slot| large.binary_search(slot).is_ok()),
        );
        return;
    }
    let (mut i, mut j) = (0, 0);
    while i < small.len() && j < large.len() {
        match small[i].cmp(&large[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(small[i]);
                i += 1;
                j += 1;
            }
        }
    }
}

/// Unions this small are sorted: the bits would cost more than they save.
const SORTED_UNION: usize = 256;

/// Bits of slots, and a bit per word of them that is not zero: reading a union back visits
/// only the words it set. All zeros between uses.
#[derive(Default)]
struct Scratch {
    bits: Vec<u64>,
    used: Vec<u64>,
}

/// The sorted union of sorted lists of slots, without duplicates. A common given name's
/// union runs to thousands of slots: setting their bits and reading them back in order
/// costs less than sorting them.
fn union(lists: &[&[u32]], scratch: &mut Scratch) -> Vec<u32> {
    let total: usize = lists.iter().map(|list| list.len()).sum();
    let mut out: Vec<u32> = Vec::with_capacity(total);
    if let [only] = lists {
        out.extend_from_slice(only);
        return out;
    }
    if total < SORTED_UNION {
        for list in lists {
            out.extend_from_slice(list);
        }
        out.sort_unstable();
        out.dedup();
        return out;
    }
    let last = lists.iter().filter_map(|list| list.last()).max();
    let words = last.map_or(0, |&slot| slot as usize / 64 + 1);
    if scratch.bits.len() < words {
        scratch.bits.resize(words, 0);
        scratch.used.resize(words.div_ceil(64), 0);
    }
    let Scratch { bits, used } = scratch;
    for &slot in lists.iter().flat_map(|list| list.iter()) {
        let word = slot as usize / 64;
        bits[word] |= 1 << (slot % 64);
        used[word / 64] |= 1 << (word % 64);
    }
    for (group, mask) in used.iter_mut().enumerate() {
        while *mask != 0 {
            let word = group * 64 + mask.trailing_zeros() as usize;
            *mask &= *mask - 1;
            let bits = &mut bits[word];
            while *bits != 0 {
                out.push((word * 64) as u32 + bits.trailing_zeros());
                *bits &= *bits - 1;
            }
        }
    }
    out
}

/// Slots reached by two of the sets, or by one when `single` marks the slot (an entry whose
/// name has one token), sorted and unique.
pub fn candidates(reached: &[Reached], single: &Marks) -> Vec<u32> {
    let mut found = Vec::new();
    for (position, first) in reached.iter().enumerate() {
        for second in &reached[position + 1..] {
            both(first, second, &mut found);
        }
    }
    if !single.is_empty() {
        for set in reached {
            let slots = set.lists.iter().flat_map(|list| list.iter());
            found.extend(slots.filter(|slot| single.contains(**slot)));
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// Append the slots in both sets to `out`.
fn both(first: &Reached, second: &Reached, out: &mut Vec<u32>) {
    let (small, large) = if first.set.total <= second.set.total {
        (first, second)
    } else {
        (second, first)
    };
    let few = small.slots();
    if large.probed_for(few.len()) {
        out.extend(few.iter().filter(|&&slot| large.contains(slot)));
    } else {
        intersect(few, large.slots(), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shape of union (one list, small, sparse, dense, far from slot 0): the same as
    /// sorting the lists together, and the scratch bits left clear.
    #[test]
    fn union_is_the_sorted_lists_without_duplicates() {
        let mut numbers = crate::test_numbers(20261207);
        let mut next = move |bound: u64| numbers(bound) as u32;
        let mut scratch = Scratch::default();
        for (lists, size, span, base) in [
            (1, 50, 1000, 0),
            (3, 40, 100, 5),
            (4, 2000, 1_000_000, 0),
            (12, 900, 20_000, 700_000),
            (30, 400, 64, 63),
            (2, 0, 10, 0),
        ] {
            let made: Vec<Vec<u32>> = (0..lists)
                .map(|_| {
                    let mut list: Vec<u32> = (0..size).map(|_| base + next(span)).collect();
                    list.sort_unstable();
                    list.dedup();
                    list
                })
                .collect();
            let borrowed: Vec<&[u32]> = made.iter().map(|list| &list[..]).collect();
            let mut expected: Vec<u32> = made.concat();
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(union(&borrowed, &mut scratch), expected);
            assert!(scratch
                .bits
                .iter()
                .chain(&scratch.used)
                .all(|&word| word == 0));
        }
    }

    fn reached<'a>(made: &'a [Vec<u32>], set: &'a SlotSet) -> Reached<'a> {
        Reached::new(set, made.iter().map(|list| &list[..]).collect())
    }

    /// Pairs of every shape (few slots and thousands, one list and dozens, a union made
    /// before or not): the slots both sets hold, and those either holds that are marked
    /// single, as plain vectors say.
    #[test]
    fn candidates_are_the_shared_slots() {
        let mut numbers = crate::test_numbers(7);
        let mut next = move |bound: u64| numbers(bound) as u32;
        // a token's word lists, the set of them and their union
        let mut make = |lists: usize, size: usize| -> (Vec<Vec<u32>>, SlotSet, Vec<u32>) {
            let made: Vec<Vec<u32>> = (0..lists)
                .map(|_| {
                    let mut list: Vec<u32> = (0..size).map(|_| next(5_000)).collect();
                    list.sort_unstable();
                    list.dedup();
                    list
                })
                .collect();
            let mut all = made.concat();
            let stamp = Stamp {
                core: 0,
                generation: 0,
            };
            let set = SlotSet::new((0..lists as u32).collect(), stamp, all.len());
            all.sort_unstable();
            all.dedup();
            (made, set, all)
        };
        let mut single = Marks::default();
        for slot in (0..5_000).step_by(97) {
            single.set(slot, true);
        }
        let shapes = [
            (1, 3),
            (2, 40),
            (16, 300),
            (40, 100),
            (3, 2000),
            (1, 0),
            (2, 5),
        ];
        for (lists, size) in shapes {
            for (other_lists, other_size) in [(2, 5), (1, 60), (8, 400)] {
                let (one_lists, one_set, one_slots) = make(lists, size);
                let (other_lists, other_set, other_slots) = make(other_lists, other_size);
                let (one, other) = (
                    reached(&one_lists, &one_set),
                    reached(&other_lists, &other_set),
                );
                let mut expected: Vec<u32> = one_slots
                    .iter()
                    .copied()
                    .filter(|slot| other_slots.contains(slot))
                    .collect();
                expected.extend(
                    one_slots
                        .iter()
                        .chain(&other_slots)
                        .copied()
                        .filter(|&slot| single.contains(slot)),
                );
                expected.sort_unstable();
                expected.dedup();
                let (first, second) = (
                    reached(&one_lists, &one_set),
                    reached(&other_lists, &other_set),
                );
                assert_eq!(candidates(&[one, other], &single), expected);
                assert_eq!(candidates(&[second, first], &single), expected);
                let made = reached(&one_lists, &one_set);
                assert_eq!(made.slots(), &one_slots[..]); // the union, kept with the set
                assert_eq!(
                    candidates(&[made, reached(&other_lists, &other_set)], &single),
                    expected
                );
            }
        }
    }
}
