//! The name rules the lookup applies, mirrored from `transliterate` and `names` (Python is
//! the reference: the unit tests compare every answer with a brute-force reading of it).

use rapidfuzz::distance::osa;
use rustc_hash::FxHasher;
use smallvec::SmallVec;
use std::hash::Hasher;

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

/// A key of the one-deletion index. Two words whose deletions collide only put a word in
/// the pool that the rules then check and refuse, so a hash is as good as the string.
pub fn hash_of(word: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(word);
    hasher.write_usize(word.len());
    hasher.finish()
}

/// The word, then each of its one-letter deletions.
pub fn probes(word: &[u8]) -> impl Iterator<Item = Key> + '_ {
    std::iter::once(Key::from(word)).chain((0..word.len()).map(move |position| {
        let mut out: Key = word[..position].into();
        out.extend_from_slice(&word[position + 1..]);
        out
    }))
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

/// The OSA distance of `query` and `word` when it is at most `cutoff`.
pub fn within(
    comparator: &osa::BatchComparator<u8>,
    query: &[u8],
    word: &[u8],
    cutoff: usize,
) -> Option<usize> {
    if query.len().abs_diff(word.len()) > cutoff {
        return None; // the common case, spared the comparator's set-up
    }
    let args = osa::Args::default().score_cutoff(cutoff);
    comparator.distance_with_args(word.iter().copied(), &args)
}
