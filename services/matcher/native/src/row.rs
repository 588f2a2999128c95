//! Buckets of words scanned whole: the consonant and sound buckets.

use crate::distance::{letters, too_far_apart, Pattern};
use crate::rules::Key;
use rustc_hash::FxHashMap;
use std::ops::Range;

/// A bucket's words side by side in one buffer: a scan reads memory in order. Each word's
/// letters (`letters`) come beside it: most words of a bucket are turned away by them.
#[derive(Default)]
pub struct Row {
    pub ids: Vec<u32>,
    text: Vec<u8>,
    ends: Vec<u32>,
    letters: Vec<u64>,
}

impl Row {
    /// Add a word; each word comes once (`Core::link` runs when a word is new).
    pub fn push(&mut self, id: u32, word: &[u8]) {
        self.ids.push(id);
        self.text.extend_from_slice(word);
        self.ends.push(self.text.len() as u32);
        self.letters.push(letters(word));
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

    fn word(&self, index: usize) -> &[u8] {
        let start = index
            .checked_sub(1)
            .map_or(0, |before| self.ends[before] as usize);
        &self.text[start..self.ends[index] as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, &[u8])> {
        (0..self.ids.len()).map(|index| (self.ids[index], self.word(index)))
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

/// The words of a row at most two edits from `key`, among those of `lengths`.
pub fn within_two(key: &[u8], row: &Row, lengths: Range<usize>, found: &mut Vec<u32>) {
    let pattern = Pattern::new(key);
    let own = letters(key);
    // the letters alone turn most words away: their text is not looked at
    let close = row
        .letters
        .iter()
        .enumerate()
        .filter(|&(_, &other)| !too_far_apart(own, other))
        .map(|(index, _)| (row.ids[index], row.word(index)))
        .filter(|&(_, word)| lengths.contains(&word.len()) && key.len().abs_diff(word.len()) <= 2);
    if !pattern.fits_in_a_word() {
        found.extend(close.filter_map(|(id, word)| pattern.within(word, 2).map(|_| id)));
        return;
    }
    // four at a time (`Pattern::distances4`); an empty word is as far as the key is long
    let mut batch: [(u32, &[u8]); 4] = [(0, &[]); 4];
    let mut size = 0;
    for (id, word) in close {
        batch[size] = (id, word);
        size += 1;
        if size == 4 {
            keep_within_two(&pattern, &batch, found);
            size = 0;
        }
    }
    keep_within_two(&pattern, &batch[..size], found);
}

fn keep_within_two(pattern: &Pattern, batch: &[(u32, &[u8])], found: &mut Vec<u32>) {
    if batch.is_empty() {
        return;
    }
    let mut words: [&[u8]; 4] = [&[]; 4];
    for (slot, &(_, word)) in words.iter_mut().zip(batch) {
        *slot = word;
    }
    let distances = pattern.distances4(words);
    found.extend(
        batch
            .iter()
            .zip(distances)
            .filter(|&(_, distance)| distance <= 2)
            .map(|(&(id, _), _)| id),
    );
}
