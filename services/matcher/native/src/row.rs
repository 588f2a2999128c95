//! Buckets of words scanned whole: the consonant and sound buckets.

use crate::rules::{Key, Pattern};
use rustc_hash::{FxHashMap, FxHashSet};

/// A bucket's words side by side in one buffer: a scan reads memory in order.
#[derive(Default)]
pub struct Row {
    pub ids: Vec<u32>,
    text: Vec<u8>,
    ends: Vec<u32>,
}

impl Row {
    /// Add a word; each word comes once (`Core::link` runs when a word is new).
    pub fn push(&mut self, id: u32, word: &[u8]) {
        self.ids.push(id);
        self.text.extend_from_slice(word);
        self.ends.push(self.text.len() as u32);
    }

    pub fn remove(&mut self, id: u32) {
        let kept: Vec<(u32, Vec<u8>)> = self
            .iter()
            .filter(|(other, _)| *other != id)
            .map(|(other, word)| (other, word.to_vec()))
            .collect();
        *self = Row::default();
        for (other, word) in kept {
            self.push(other, &word);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, &[u8])> {
        let mut start = 0usize;
        self.ids.iter().zip(&self.ends).map(move |(&id, &end)| {
            let word = &self.text[start..end as usize];
            start = end as usize;
            (id, word)
        })
    }
}

pub fn row_change(table: &mut FxHashMap<Key, Row>, key: Key, id: u32, word: &[u8], add: bool) {
    if add {
        table.entry(key).or_default().push(id, word);
    } else if let Some(row) = table.get_mut(&key) {
        row.remove(id);
        if row.ids.is_empty() {
            table.remove(&key);
        }
    }
}

/// `vocabulary._within_two`: the words of a row at most two edits from `key`.
pub fn within_two(key: &[u8], row: &Row, shortest: usize, found: &mut FxHashSet<u32>) {
    let pattern = Pattern::new(key);
    for (id, word) in row.iter() {
        if word.len() >= shortest && pattern.within(word, 2).is_some() {
            found.insert(id);
        }
    }
}
