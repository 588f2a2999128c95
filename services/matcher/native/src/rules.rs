//! The name rules the lookup applies, mirrored from `transliterate` and `names` (Python is
//! the reference: the unit tests compare every answer with a brute-force reading of it).

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
}
