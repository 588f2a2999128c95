//! The name rules the lookup applies, mirrored from `transliterate` and `names` (Python is
//! the reference: the unit tests compare every answer with a brute-force reading of it).

use rapidfuzz::distance::osa;
use smallvec::SmallVec;

pub const MIN_FUZZY_LENGTH: usize = 4;
pub const MIN_EDIT_LENGTH: usize = 5; // one edit in a 4-letter name makes another name
pub const MIN_SOUND_LENGTH: usize = 6; // short keys share huge sound buckets

pub type Ids = SmallVec<[u32; 2]>;
pub type Key = SmallVec<[u8; 24]>;

fn is_vowel(letter: u8) -> bool {
    matches!(letter, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// `transliterate.consonants`: the skeleton without vowels.
pub fn consonants(word: &[u8]) -> Key {
    word.iter()
        .copied()
        .filter(|letter| !is_vowel(*letter))
        .collect()
}

/// `transliterate.sound_key`: consonants by sound class, runs collapsed.
pub fn sound_key(word: &[u8]) -> Key {
    let mut out = Key::new();
    for &letter in word {
        let class = match letter {
            b'b' | b'p' | b'f' | b'v' => b'B',
            b'g' | b'k' | b'H' => b'G',
            b'd' | b't' => b'D',
            b'z' | b's' | b'C' => b'Z',
            b'a' | b'e' | b'i' | b'o' | b'u' => continue,
            other => other,
        };
        if out.last() != Some(&class) {
            out.push(class);
        }
    }
    out
}

const FEMININE: [(&[u8], &[u8]); 5] = [
    (b"skaia", b"ski"),
    (b"tskaia", b"tski"),
    (b"ova", b"ov"),
    (b"eva", b"ev"),
    (b"ina", b"in"),
];

/// `transliterate.masculine`: the masculine form of a feminine surname skeleton.
pub fn masculine(word: &[u8]) -> Option<Key> {
    FEMININE.iter().find_map(|(suffix, replacement)| {
        if word.ends_with(suffix) && word.len() > suffix.len() + 1 {
            let mut out: Key = word[..word.len() - suffix.len()].into();
            out.extend_from_slice(replacement);
            Some(out)
        } else {
            None
        }
    })
}

const BASE: u64 = 0x0000_0100_0000_01b3; // odd: a polynomial hash, letter by letter

/// Keys of the one-deletion index: the word's hash, then the hash of each of its one-letter
/// deletions, without building the deletions. A polynomial hash (each letter times a power
/// of `BASE`) lets a deletion's hash be the letters before it plus those after it, one
/// power lower, both sums kept as the word is walked. Two words whose keys collide only
/// put a word in the pool that the rules then check and refuse, so a hash is as good as the
/// string.
pub fn probe_hashes(word: &[u8]) -> impl Iterator<Item = u64> + '_ {
    let code = |letter: u8| u64::from(letter) + 1;
    // after[p]: the letters after position p, each one power lower than in the word
    let mut after = vec![0u64; word.len() + 1];
    let mut power = 1u64;
    let mut powers = Vec::with_capacity(word.len());
    for _ in 0..word.len() {
        powers.push(power);
        power = power.wrapping_mul(BASE);
    }
    for position in (0..word.len().saturating_sub(1)).rev() {
        let next = code(word[position + 1]).wrapping_mul(powers[position]);
        after[position] = after[position + 1].wrapping_add(next);
    }
    let whole = word
        .iter()
        .zip(&powers)
        .fold(0u64, |sum, (&letter, &power)| {
            sum.wrapping_add(code(letter).wrapping_mul(power))
        });
    let mut before = 0u64;
    let deletions = (0..word.len()).map(move |position| {
        let hash = before.wrapping_add(after[position]);
        before = before.wrapping_add(code(word[position]).wrapping_mul(powers[position]));
        hash
    });
    std::iter::once(whole).chain(deletions)
}

/// For a pair at most 1 (typed letters) or 2 (a reading) edits apart: what `names`'
/// `typed_one_edit` (letters as typed) or `keys_similarity > 0` (a reading) decides.
pub fn accepts(query: &[u8], word: &[u8], distance: usize, typed: bool) -> bool {
    let shorter = query.len().min(word.len());
    let longer = query.len().max(word.len());
    let lengths = longer >= MIN_EDIT_LENGTH && shorter >= MIN_FUZZY_LENGTH;
    if distance == 0 || (distance == 1 && lengths) {
        return true;
    }
    if typed {
        return false;
    }
    if masculine(query).as_deref() == Some(word) || masculine(word).as_deref() == Some(query) {
        return true;
    }
    if !lengths || distance == 1 {
        return false;
    }
    if consonants(query) == consonants(word) {
        return true;
    }
    shorter >= MIN_SOUND_LENGTH && sound_key(query) == sound_key(word)
}

/// The set of letters of a word, one bit each (a letter and its upper-case skeleton symbol
/// share a bit: that only lets more words through to the distance).
pub fn letters(word: &[u8]) -> u32 {
    word.iter().fold(0, |set, letter| set | 1 << (letter & 31))
}

/// One query's letters as bit masks, for the optimal-string-alignment distance of Hyyrö
/// (2003), as rapidfuzz computes it for words of up to 64 letters: one pass of a few
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
        let (mut vp, mut vn, mut d0, mut previous) = (!0u64, 0u64, 0u64, 0u64);
        let mut distance = self.query.len();
        let last = 1u64 << (self.query.len() - 1);
        for &letter in word {
            let matches = self.masks[letter as usize];
            let transposed = ((!d0 & matches) << 1) & previous;
            d0 = (((matches & vp).wrapping_add(vp)) ^ vp) | matches | vn | transposed;
            let hp = vn | !(d0 | vp);
            let hn = d0 & vp;
            distance += usize::from(hp & last != 0);
            distance -= usize::from(hn & last != 0);
            let hp = (hp << 1) | 1;
            vp = (hn << 1) | !(d0 | hp);
            vn = hp & d0;
            previous = matches;
        }
        distance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deletion's key is the key of the word it makes, whatever the position.
    #[test]
    fn a_deletion_has_the_hash_of_the_shorter_word() {
        for word in [&b"holmatov"[..], b"a", b"", b"aab", b"kurbonov", b"ssss"] {
            let hashes: Vec<u64> = probe_hashes(word).collect();
            assert_eq!(hashes.len(), word.len() + 1);
            for position in 0..word.len() {
                let mut shorter = word.to_vec();
                shorter.remove(position);
                assert_eq!(hashes[position + 1], probe_hashes(&shorter).next().unwrap());
            }
        }
        let keys: Vec<u64> = [&b"holmatov"[..], b"xolmatov", b"holmatova", b"olmatov"]
            .iter()
            .map(|word| probe_hashes(word).next().unwrap())
            .collect();
        assert!(keys
            .iter()
            .enumerate()
            .all(|(i, a)| keys[i + 1..].iter().all(|b| a != b)));
    }

    /// Every pair of short words over a small alphabet, and long ones: the same distance as
    /// rapidfuzz's generic comparator.
    #[test]
    fn pattern_distance_is_rapidfuzz_osa() {
        let mut seed = 20261201u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let lengths = [next() % 12, next() % 12, 60 + next() % 10];
            let length = |pick: u64| lengths[(pick % 3) as usize] as usize;
            let (first_length, second_length) = (length(next()), length(next()));
            let first: Vec<u8> = (0..first_length)
                .map(|_| b"abcaCH"[(next() % 6) as usize])
                .collect();
            let second: Vec<u8> = (0..second_length)
                .map(|_| b"abcaCH"[(next() % 6) as usize])
                .collect();
            let expected = osa::distance(first.iter().copied(), second.iter().copied());
            for cutoff in [1, 2, 100] {
                let found = Pattern::new(&first).within(&second, cutoff);
                assert_eq!(found, (expected <= cutoff).then_some(expected));
            }
        }
    }
}
