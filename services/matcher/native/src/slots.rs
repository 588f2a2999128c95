//! Entry slots: what a token reaches, and the people two tokens (or one) reach together.

use pyo3::prelude::*;
use pyo3::types::PyList;

/// The entry slots one token reaches, sorted and unique. The matcher caches one per token:
/// a common given name reaches thousands of entries, which as a Python frozenset of ints
/// would cost ~40 bytes each, and this costs 4.
#[pyclass(frozen, module = "relay_vocabulary")]
pub struct SlotSet {
    pub slots: Box<[u32]>,
}

#[pymethods]
impl SlotSet {
    fn __len__(&self) -> usize {
        self.slots.len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyList::new(py, self.slots.iter())?.try_iter()?.into_any())
    }
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

/// Slots reached by two of the sets, or by one when `single` marks the slot (an entry whose
/// name has one token), sorted and unique.
pub fn candidates(reached: &[&SlotSet], single: &Marks) -> Vec<u32> {
    let mut found = Vec::new();
    for (position, first) in reached.iter().enumerate() {
        for second in &reached[position + 1..] {
            intersect(&first.slots, &second.slots, &mut found);
        }
    }
    if !single.is_empty() {
        for set in reached {
            found.extend(set.slots.iter().filter(|slot| single.contains(**slot)));
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}
