//! Filing many people at once (`Core::add_bulk`): a store's people at start.

use crate::rules::Ids;
use crate::Core;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

impl Core {
    /// `file` of each person's keys (see `add_bulk`) under its slot, in two passes:
    /// each key's word id (the new words' ids go to `fresh` in the order they came), then
    /// each word's new slots at once. Appending slot by slot would touch the end of a
    /// different word's postings for every key, a miss of the CPU caches each time.
    pub(crate) fn file_all(
        &mut self,
        keys: &Bound<'_, PyAny>,
        slots: &[u32],
        fresh: &mut Vec<u32>,
    ) -> PyResult<()> {
        let mut filed: Vec<(u32, u32)> = Vec::with_capacity(slots.len() * 8);
        let mut people = keys.try_iter()?;
        let mut outcome = Ok(());
        for &slot in slots {
            let Some(person) = people.next() else {
                outcome = Err(PyValueError::new_err("fewer keys than slots"));
                break;
            };
            if let Err(error) = self.word_ids(&person?, slot, &mut filed, fresh) {
                outcome = Err(error);
                break;
            }
        }
        if outcome.is_ok() && people.next().is_some() {
            outcome = Err(PyValueError::new_err("more keys than slots"));
        }
        self.post(&filed); // even after an error: no word is left without its slots
        outcome
    }

    /// The ids of one person's words (new ones made, with no slots yet), as (id, slot).
    fn word_ids(
        &mut self,
        person: &Bound<'_, PyAny>,
        slot: u32,
        filed: &mut Vec<(u32, u32)>,
        fresh: &mut Vec<u32>,
    ) -> PyResult<()> {
        let mut file = |word: &[u8]| {
            let id = self.id(word).unwrap_or_else(|| {
                let id = self.new_word(word);
                fresh.push(id);
                id
            });
            filed.push((id, slot));
        };
        if let Ok(joined) = person.downcast::<PyBytes>() {
            // as the store keeps them (`codec.KEY_SEPARATOR`): no Python string per key
            joined
                .as_bytes()
                .split(|&byte| byte == b'\n')
                .filter(|word| !word.is_empty())
                .for_each(file);
            return Ok(());
        }
        if person.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err("a person's keys, not one key"));
        }
        for key in person.try_iter()? {
            file(key?.downcast::<PyString>()?.to_str()?.as_bytes());
        }
        Ok(())
    }

    /// Add each (id, slot) to the word's postings: grouped by word (a counting sort, which
    /// keeps each word's slots in the order they came), then each word's in one go.
    fn post(&mut self, filed: &[(u32, u32)]) {
        let mut starts = vec![0u32; self.words.len() + 1];
        for &(id, _) in filed {
            starts[id as usize + 1] += 1;
        }
        for id in 1..starts.len() {
            starts[id] += starts[id - 1];
        }
        let mut grouped = vec![0u32; filed.len()];
        let mut next = starts.clone();
        for &(id, slot) in filed {
            grouped[next[id as usize] as usize] = slot;
            next[id as usize] += 1;
        }
        for (id, bounds) in starts.windows(2).enumerate() {
            let new = &grouped[bounds[0] as usize..bounds[1] as usize];
            if !new.is_empty() {
                merge(&mut self.postings[id], new);
            }
        }
    }
}

/// Add `new` to the sorted, unique `slots`: appended when they all come after (a restore
/// files slots in ascending order), else each where it belongs.
pub(crate) fn merge(slots: &mut Ids, new: &[u32]) {
    let Some(&first) = new.first() else {
        return;
    };
    let ascending = new.windows(2).all(|pair| pair[0] < pair[1]);
    if ascending && slots.last().is_none_or(|&last| last < first) {
        slots.extend_from_slice(new);
        return;
    }
    for &slot in new {
        if let Err(position) = slots.binary_search(&slot) {
            slots.insert(position, slot);
        }
    }
}
