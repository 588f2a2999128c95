//! Optimal-string-alignment distances of short words, as rapidfuzz computes them (Hyyrö
//! 2003, bit-parallel), for the many words a bucket scan compares with one query.

use rapidfuzz::distance::osa;

/// The letters of a word, one bit each, in the low half, and those it has twice or more in
/// the high half (a letter and its upper-case skeleton symbol share a bit: that only lets
/// more words through to the distance). An edit changes the count of at most two letters by
/// one, so the bits of two words two edits apart differ in at most four places
/// (`too_far_apart`).
pub fn letters(word: &[u8]) -> u64 {
    let (mut once, mut twice) = (0u32, 0u32);
    for letter in word {
        let bit = 1 << (letter & 31);
        twice |= once & bit;
        once |= bit;
    }
    u64::from(twice) << 32 | u64::from(once)
}

/// Whether two words' `letters` show they are more than two edits apart: each edit brings in
/// or takes away at most one letter, and moves at most two letters' counts by one.
pub fn too_far_apart(first: u64, second: u64) -> bool {
    let (one, other) = (first as u32, second as u32);
    (one & !other).count_ones() > 2
        || (other & !one).count_ones() > 2
        || (first ^ second).count_ones() > 4
}

/// One query's letters as bit masks, for words of up to 64 letters: one pass of a few
/// word-wide operations per letter of the other word. rapidfuzz's own comparator is generic
/// over letter types and lengths; on these short ASCII words it spent twice as long per
/// word (`perf`: 11% of a first pass over new names), and longer words still go to it.
pub struct Pattern<'a> {
    query: &'a [u8],
    masks: [u64; 256],
}

impl<'a> Pattern<'a> {
    pub fn new(query: &'a [u8]) -> Self {
        let mut masks = [0u64; 256];
        for (position, &letter) in query.iter().take(64).enumerate() {
            masks[letter as usize] |= 1 << position;
        }
        Pattern { query, masks }
    }

    /// The distance to `word` when it is at most `cutoff`.
    pub fn within(&self, word: &[u8], cutoff: usize) -> Option<usize> {
        let length = self.query.len();
        if length.abs_diff(word.len()) > cutoff {
            return None;
        }
        let distance = if length == 0 {
            word.len()
        } else if length > 64 {
            osa::distance(self.query.iter().copied(), word.iter().copied())
        } else {
            self.distance(word)
        };
        (distance <= cutoff).then_some(distance)
    }

    fn distance(&self, word: &[u8]) -> usize {
        let mut lane = Lane::new(self.query.len());
        for &letter in word {
            lane.step(self.masks[letter as usize]);
        }
        lane.distance
    }

    /// The distances to four words at once (queries of 1 to 64 letters): one word's steps
    /// form a chain, each waiting for the last; four chains side by side keep the CPU busy.
    pub fn distances4(&self, words: [&[u8]; 4]) -> [usize; 4] {
        debug_assert!((1..=64).contains(&self.query.len()));
        let mut lanes = [Lane::new(self.query.len()); 4];
        let longest = words.iter().map(|word| word.len()).max().unwrap_or(0);
        for position in 0..longest {
            for (lane, word) in lanes.iter_mut().zip(words) {
                if let Some(&letter) = word.get(position) {
                    lane.step(self.masks[letter as usize]);
                }
            }
        }
        lanes.map(|lane| lane.distance)
    }

    /// Whether `distances4` can serve this query.
    pub fn fits_in_a_word(&self) -> bool {
        (1..=64).contains(&self.query.len())
    }
}

/// The state of one comparison: Hyyrö's vertical deltas and the distance so far.
#[derive(Clone, Copy)]
struct Lane {
    vp: u64,
    vn: u64,
    d0: u64,
    previous: u64,
    last: u64,
    distance: usize,
}

impl Lane {
    fn new(length: usize) -> Self {
        Lane {
            vp: !0,
            vn: 0,
            d0: 0,
            previous: 0,
            last: 1 << (length - 1),
            distance: length,
        }
    }

    #[inline(always)]
    fn step(&mut self, matches: u64) {
        let transposed = ((!self.d0 & matches) << 1) & self.previous;
        self.d0 = (((matches & self.vp).wrapping_add(self.vp)) ^ self.vp)
            | matches
            | self.vn
            | transposed;
        let hp = self.vn | !(self.d0 | self.vp);
        let hn = self.d0 & self.vp;
        self.distance += usize::from(hp & self.last != 0);
        self.distance -= usize::from(hn & self.last != 0);
        let hp = (hp << 1) | 1;
        self.vp = (hn << 1) | !(self.d0 | hp);
        self.vn = hp & self.d0;
        self.previous = matches;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_words(count: usize) -> Vec<Vec<u8>> {
        let mut next = crate::test_numbers(20261201);
        (0..count)
            .map(|_| {
                let lengths = [next(12), next(12), 60 + next(10)];
                let length = lengths[next(3) as usize] as usize;
                (0..length).map(|_| b"abcaCH"[next(6) as usize]).collect()
            })
            .collect()
    }

    /// Short words over a small alphabet, and long ones: the same distance as rapidfuzz's
    /// generic comparator, one word at a time or four.
    #[test]
    fn pattern_distance_is_rapidfuzz_osa() {
        let words = random_words(4_000);
        for (first, others) in words.iter().zip(words.chunks(4).cycle()) {
            let pattern = Pattern::new(first);
            let expected: Vec<usize> = others
                .iter()
                .map(|other| osa::distance(first.iter().copied(), other.iter().copied()))
                .collect();
            for (other, &distance) in others.iter().zip(&expected) {
                for cutoff in [1, 2, 100] {
                    let found = pattern.within(other, cutoff);
                    assert_eq!(found, (distance <= cutoff).then_some(distance));
                }
            }
            if pattern.fits_in_a_word() && others.len() == 4 {
                let four = [&others[0][..], &others[1], &others[2], &others[3]];
                assert_eq!(pattern.distances4(four).to_vec(), expected);
            }
        }
    }

    /// The letter filter never turns away a word two edits or fewer away: words with one
    /// or two random edits (insertions, deletions, substitutions, swaps) of every kind.
    #[test]
    fn letters_keep_every_word_within_two_edits() {
        let mut numbers = crate::test_numbers(99);
        let mut next = move |bound: usize| numbers(bound as u64) as usize;
        let alphabet = b"aabeiokSCHJlmnv";
        for _ in 0..20_000 {
            let word: Vec<u8> = (0..1 + next(10))
                .map(|_| alphabet[next(alphabet.len())])
                .collect();
            let mut edited = word.clone();
            for _ in 0..1 + next(2) {
                let at = next(edited.len() + 1);
                let letter = alphabet[next(alphabet.len())];
                match next(4) {
                    0 => edited.insert(at, letter),
                    1 if at < edited.len() => drop(edited.remove(at)),
                    2 if at < edited.len() => edited[at] = letter,
                    _ if at + 1 < edited.len() => edited.swap(at, at + 1),
                    _ => {}
                }
            }
            let distance = osa::distance(word.iter().copied(), edited.iter().copied());
            if distance <= 2 {
                assert!(
                    !too_far_apart(letters(&word), letters(&edited)),
                    "{word:?} {edited:?}"
                );
            }
        }
    }
}
