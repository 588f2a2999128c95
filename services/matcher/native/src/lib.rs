//! The matcher's name vocabulary as native code: skeleton -> entry slots, with the fuzzy
//! lookup that `services/matcher/domain/vocabulary.py` describes (its docstrings give the
//! rules and why the pool holds every word they can accept).
//!
//! Why native: a name the matcher has never seen costs a one-deletion neighbourhood and a
//! scan of its sound buckets over millions of keys. In Python each probe is a pointer chase
//! through scattered objects; here words are small ids, neighbourhood keys are 64-bit
//! hashes and each bucket's words lie side by side in one buffer.
//!
//! Skeletons and typed letters are ASCII (`transliterate.to_latin` keeps a-z only; skeleton
//! symbols are upper-case ASCII), so bytes are letters.

mod bulk;
mod distance;
mod row;
mod rules;
mod slots;
mod spell;

use bulk::merge;
use distance::Pattern;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use row::{row_change, within_two, Row};
use rules::{probe_hashes, Ids, Key, Rules};
use rustc_hash::FxHashMap;
use slots::{candidates, Marks, Reached, SlotSet, Stamp};
use std::sync::atomic::{AtomicU64, Ordering};

/// Skeleton -> entry slots, with fuzzy lookup of skeletons one edit or a vowel away.
#[pyclass(module = "relay_vocabulary")]
pub struct Core {
    rules: Rules,
    ids: FxHashMap<Box<[u8]>, u32>,
    words: Vec<Key>,    // inline up to 24 letters: one cache line per word checked
    postings: Vec<Ids>, // sorted slots of each word id
    free: Vec<u32>,
    // each word under its own hash and those of its one-letter deletions (fuzzy words): one
    // lookup per probe finds the words equal to it and those it is a deletion of
    neighbours: FxHashMap<u64, Ids>,
    consonant_rows: FxHashMap<Key, Row>, // words of `min_fuzzy_length`+ letters
    sound_rows: FxHashMap<Key, Row>,     // words of `min_sound_length`+ letters only
    single: Marks,                       // slots whose name has one token
    stamp: Stamp,                        // the `SlotSet`s made now are read against it
}

// Each vocabulary's own number: a `SlotSet` of one is never read against another's postings.
static VOCABULARIES: AtomicU64 = AtomicU64::new(0);

impl Core {
    fn link(&mut self, id: u32, word: &[u8], add: bool) {
        // a word with a byte that is no letter (a variant group, `#17`) is never near a name
        let rules = &self.rules;
        let fuzzy =
            word.len() >= rules.min_fuzzy_length && word.iter().all(u8::is_ascii_alphabetic);
        for hash in probe_hashes(word).take(if fuzzy { word.len() + 1 } else { 1 }) {
            if add {
                let bucket = self.neighbours.entry(hash).or_default();
                if !bucket.contains(&id) {
                    bucket.push(id);
                }
            } else if let Some(bucket) = self.neighbours.get_mut(&hash) {
                bucket.retain(|other| *other != id);
                if bucket.is_empty() {
                    self.neighbours.remove(&hash);
                }
            }
        }
        if fuzzy {
            row_change(
                &mut self.consonant_rows,
                rules.consonants(word),
                id,
                word,
                add,
            );
            if word.len() >= rules.min_sound_length {
                row_change(&mut self.sound_rows, rules.sound_key(word), id, word, add);
            }
        }
    }

    /// File `slot` under `word`; the word's id when it is new (its caller links it).
    fn file(&mut self, word: &[u8], slot: u32) -> Option<u32> {
        match self.id(word) {
            Some(id) => {
                merge(&mut self.postings[id as usize], &[slot]);
                None
            }
            None => {
                let id = self.new_word(word);
                self.postings[id as usize].push(slot);
                Some(id)
            }
        }
    }

    /// A new word with no slots yet: its id (one freed earlier, if any).
    fn new_word(&mut self, word: &[u8]) -> u32 {
        let id = match self.free.pop() {
            Some(id) => {
                self.words[id as usize] = word.into();
                self.postings[id as usize] = Ids::new();
                id
            }
            None => {
                self.words.push(word.into());
                self.postings.push(Ids::new());
                (self.words.len() - 1) as u32
            }
        };
        self.ids.insert(word.into(), id);
        id
    }

    fn id(&self, word: &[u8]) -> Option<u32> {
        self.ids.get(word).copied()
    }

    /// The ids of the words the token reaches: the direct ones, then the pool words the
    /// rules accept (`services/matcher/domain/vocabulary.py` says why the pool holds them all).
    ///
    /// Sets are sorted vectors: a token reaches tens of words, which a hash set would
    /// spend more on hashing and growing than a sort does.
    fn reach_ids(&self, keys: &[&[u8]], latin: &[u8], extra: &[&[u8]]) -> Vec<u32> {
        let mut found = self.direct(keys, latin, extra);
        let mut queries: Vec<&[u8]> = Vec::new();
        for &word in keys.iter().chain(std::iter::once(&latin)) {
            if word.len() >= self.rules.min_fuzzy_length && !queries.contains(&word) {
                queries.push(word);
            }
        }
        let pool = self.pool(&queries);
        self.bucket_part(keys, &mut found);
        found.sort_unstable();
        found.dedup();
        let pool: Vec<u32> = pool
            .into_iter()
            .filter(|id| found.binary_search(id).is_err())
            .collect();
        if !pool.is_empty() {
            self.verified(keys, latin, &pool, &mut found);
        }
        found
    }

    /// The words among the readings, the typed letters and the readings' masculine forms;
    /// `extra` are words Python found for the token and looked up exactly: the typed letters'
    /// masculine form once `_near` has accepted it (that rule compares whole readings, which
    /// stays in Python) and the token's known-variant groups (`variants`).
    fn direct(&self, keys: &[&[u8]], latin: &[u8], extra: &[&[u8]]) -> Vec<u32> {
        let mut found = Vec::new();
        for &word in keys.iter().chain(std::iter::once(&latin)) {
            found.extend(self.id(word));
        }
        for key in keys {
            if let Some(male) = self.rules.masculine(key) {
                found.extend(self.id(&male));
            }
        }
        for &word in extra {
            found.extend(self.id(word));
        }
        found
    }

    /// The one-deletion neighbourhood of the queries (SymSpell).
    ///
    /// Most probes miss the CPU caches; done in a tight loop of their own, the lookups
    /// overlap their waits for memory instead of queueing behind the pool's inserts.
    fn pool(&self, queries: &[&[u8]]) -> Vec<u32> {
        let hashes: Vec<u64> = queries
            .iter()
            .flat_map(|query| probe_hashes(query))
            .collect();
        let buckets: Vec<&Ids> = hashes
            .iter()
            .filter_map(|hash| self.neighbours.get(hash))
            .collect();
        let mut pool: Vec<u32> = buckets.into_iter().flatten().copied().collect();
        pool.sort_unstable();
        pool.dedup();
        pool
    }

    /// The words of the readings' consonant and sound buckets at most two edits away:
    /// every word outside the neighbourhood that the rules can accept is one of them. Every
    /// reading of `min_fuzzy_length`+ letters has its consonant bucket scanned, whatever its
    /// sound bucket: a short reading's two-edit partners (KOEV~KEOVA) live only there.
    fn bucket_part(&self, keys: &[&[u8]], found: &mut Vec<u32>) {
        let rules = &self.rules;
        let mut done: Vec<&[u8]> = Vec::new();
        for &key in keys {
            if key.len() < rules.min_fuzzy_length || done.contains(&key) {
                continue;
            }
            done.push(key);
            // a word of `min_sound_length`+ letters shares its sound key with every word of
            // its consonants, so the sound row holds those of the consonant row: each is
            // scanned once
            let shortest = if key.len() < rules.min_edit_length {
                rules.min_edit_length // then the word must be the longer one
            } else {
                0
            };
            let sound_row = key.len() >= rules.min_sound_length;
            let longest = if sound_row {
                rules.min_sound_length
            } else {
                usize::MAX
            };
            if shortest < longest && key.len() < longest.saturating_add(2) {
                if let Some(row) = self.consonant_rows.get(&rules.consonants(key)) {
                    within_two(key, row, shortest..longest, found);
                }
            }
            if sound_row {
                if let Some(row) = self.sound_rows.get(&rules.sound_key(key)) {
                    within_two(key, row, 0..usize::MAX, found);
                }
            }
        }
    }

    /// The pool words the rules accept, added to `found` (which holds none of them).
    fn verified(&self, keys: &[&[u8]], latin: &[u8], pool: &[u32], found: &mut Vec<u32>) {
        let mut rows: Vec<(&[u8], bool)> = Vec::with_capacity(keys.len() + 1);
        if !keys.contains(&latin) {
            rows.push((latin, true));
        }
        rows.extend(keys.iter().map(|&key| (key, false)));
        // the words' letters, fetched from memory all at once (see `pool`)
        let words: Vec<(u32, &[u8])> = pool
            .iter()
            .map(|&id| (id, &self.words[id as usize][..]))
            .collect();
        let mut accepted = vec![false; words.len()];
        for (query, typed) in rows {
            let cutoff = if typed { 1 } else { 2 };
            let pattern = Pattern::new(query);
            for (&(id, word), done) in words.iter().zip(accepted.iter_mut()) {
                if *done {
                    continue;
                }
                if let Some(distance) = pattern.within(word, cutoff) {
                    if self.rules.accepts(query, word, distance, typed) {
                        *done = true;
                        found.push(id);
                    }
                }
            }
        }
    }

    fn slot_set(&self, (keys, latin, extra): (&[&[u8]], &[u8], &[&[u8]])) -> SlotSet {
        let words = self.reach_ids(keys, latin, extra);
        let total = words
            .iter()
            .map(|&id| self.postings[id as usize].len())
            .sum();
        SlotSet::new(words, self.stamp, total)
    }

    /// The set with its words' slots, when it was made by this vocabulary as it is now.
    fn reached<'a>(&'a self, set: &'a SlotSet) -> PyResult<Reached<'a>> {
        if set.stamp != self.stamp {
            return Err(PyValueError::new_err(
                "a slot set of another vocabulary, or of this one before it changed",
            ));
        }
        let lists = set.words.iter();
        Ok(Reached::new(
            set,
            lists.map(|&id| &self.postings[id as usize][..]).collect(),
        ))
    }

    /// Postings change: sets made before are stale.
    fn changed(&mut self) {
        self.stamp.generation += 1;
    }

    fn keys_of(keys: &[PyBackedStr]) -> Vec<&[u8]> {
        keys.iter().map(|key| key.as_bytes()).collect()
    }
}

#[pymethods]
impl Core {
    /// An empty vocabulary under the rules Python passes (`name_rules.NameRules`).
    #[new]
    fn new(rules: Rules) -> Self {
        Core {
            rules,
            ids: FxHashMap::default(),
            words: Vec::new(),
            postings: Vec::new(),
            free: Vec::new(),
            neighbours: FxHashMap::default(),
            consonant_rows: FxHashMap::default(),
            sound_rows: FxHashMap::default(),
            single: Marks::default(),
            stamp: Stamp {
                core: VOCABULARIES.fetch_add(1, Ordering::Relaxed),
                generation: 0,
            },
        }
    }

    /// Add `slot` under `key`; True when the word is new.
    fn add(&mut self, key: &str, slot: u32) -> bool {
        self.changed();
        let word = key.as_bytes();
        let Some(id) = self.file(word, slot) else {
            return false;
        };
        self.link(id, word, true);
        true
    }

    /// `add` of every key of `keys[i]` under `slots[i]`, in that order, in one call: a
    /// store's people are filed at start without a Python call per key. A person's keys are
    /// strings, or one bytes with a newline between keys (as the store keeps them). Returns
    /// how many words are new. The state is the one `add` gives (the unit tests compare them).
    fn add_bulk(&mut self, keys: &Bound<'_, PyAny>, slots: Vec<u32>) -> PyResult<usize> {
        self.changed();
        let mut fresh = Vec::new();
        let filed = self.file_all(keys, &slots, &mut fresh);
        // in the order `add` links them; even after a refused key, every word filed is found
        for &id in &fresh {
            let word = self.words[id as usize].clone();
            self.link(id, &word, true);
        }
        filed.map(|()| fresh.len())
    }

    /// Remove `slot` from under `key`; True when the word is gone.
    fn discard(&mut self, key: &str, slot: u32) -> bool {
        self.changed();
        let word = key.as_bytes();
        let Some(id) = self.id(word) else {
            return false;
        };
        let slots = &mut self.postings[id as usize];
        if let Ok(position) = slots.binary_search(&slot) {
            slots.remove(position);
        }
        if !slots.is_empty() {
            return false;
        }
        self.ids.remove(word);
        self.link(id, word, false);
        self.words[id as usize] = Key::new();
        self.free.push(id);
        true
    }

    fn __contains__(&self, word: &str) -> bool {
        self.ids.contains_key(word.as_bytes())
    }

    fn __len__(&self) -> usize {
        self.ids.len()
    }

    /// The slots under one word (none when it is not a word).
    fn postings(&self, word: &str) -> Vec<u32> {
        self.id(word.as_bytes())
            .map(|id| self.postings[id as usize].to_vec())
            .unwrap_or_default()
    }

    /// Every word.
    fn words(&self) -> Vec<String> {
        self.ids
            .keys()
            .map(|word| String::from_utf8_lossy(word).into_owned())
            .collect()
    }

    /// The words a token (its readings and typed letters) reaches.
    #[pyo3(signature = (keys, latin, extra=Vec::new()))]
    fn reach(&self, keys: Vec<PyBackedStr>, latin: &str, extra: Vec<PyBackedStr>) -> Vec<String> {
        let (keys, extra) = (Core::keys_of(&keys), Core::keys_of(&extra));
        self.reach_ids(&keys, latin.as_bytes(), &extra)
            .into_iter()
            .map(|id| String::from_utf8_lossy(&self.words[id as usize]).into_owned())
            .collect()
    }

    /// The slots of every word each token (keys, latin, extra) reaches, in one call: looked up one after the
    /// other, the vocabulary's memory stays in the CPU caches from one token to the next.
    fn slots_many(
        &self,
        tokens: Vec<(Vec<PyBackedStr>, PyBackedStr, Vec<PyBackedStr>)>,
    ) -> Vec<SlotSet> {
        tokens
            .iter()
            .map(|(keys, latin, extra)| {
                let (keys, extra) = (Core::keys_of(keys), Core::keys_of(extra));
                self.slot_set((&keys, latin.as_bytes(), &extra))
            })
            .collect()
    }

    /// Mark (or unmark) a slot whose name has a single token: one token reaching it is
    /// enough to make it a candidate.
    fn set_single(&mut self, slot: u32, single: bool) {
        self.single.set(slot, single);
    }

    /// The slots two of the tokens reach together, or one token alone where marked single.
    /// Refuses a set of another vocabulary, or of this one before it changed.
    fn candidates(&self, reached: Vec<PyRef<'_, SlotSet>>) -> PyResult<Vec<u32>> {
        let sets = reached.iter().map(|set| self.reached(set));
        Ok(candidates(
            &sets.collect::<PyResult<Vec<_>>>()?,
            &self.single,
        ))
    }

    /// A set's slots, sorted and unique (refused as `candidates` refuses).
    fn slot_list(&self, set: PyRef<'_, SlotSet>) -> PyResult<Vec<u32>> {
        Ok(self.reached(&set)?.slots().to_vec())
    }
}

/// For the tests: the same numbers on every run (xorshift), each below the bound asked.
#[cfg(test)]
pub(crate) fn test_numbers(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |bound| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    }
}

#[pymodule]
fn relay_vocabulary(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Core>()?;
    module.add_class::<spell::Speller>()?;
    module.add_class::<SlotSet>()
}
