//! The name rules the lookup applies: those of `transliterate` and `names`, with the
//! constants Python passes in (`name_rules.NameRules`) and keeps the only copy of. Python is
//! the reference: the unit tests compare every answer with a brute-force reading of it.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use smallvec::SmallVec;

pub type Ids = SmallVec<[u32; 2]>;
pub type Key = SmallVec<[u8; 24]>;

/// `name_rules.NameRules` as Python holds it (read by attribute).
#[derive(FromPyObject)]
struct Given {
    min_fuzzy_length: usize,
    min_edit_length: usize,
    min_sound_length: usize,
    min_stem_length: usize,
    vowels: String,
    feminine: Vec<(String, String)>,
    sound_classes: Vec<(String, String)>,
}

/// The rule constants, with the letter classes as tables of 256 bytes: a letter's class is
/// one load in the scans' inner loops.
pub struct Rules {
    pub min_fuzzy_length: usize,
    pub min_edit_length: usize,
    pub min_sound_length: usize,
    min_stem_length: usize,
    vowel: [bool; 256],
    sound: [u8; 256], // each letter's sound class symbol (itself when in no class)
    feminine: Vec<(Key, Key)>,
}

impl<'py> FromPyObject<'py> for Rules {
    fn extract_bound(rules: &Bound<'py, PyAny>) -> PyResult<Self> {
        let given: Given = rules.extract()?;
        let mut vowel = [false; 256];
        for &letter in ascii(&given.vowels)? {
            vowel[letter as usize] = true;
        }
        let mut sound: [u8; 256] = std::array::from_fn(|letter| letter as u8);
        for (symbol, letters) in &given.sound_classes {
            let &[symbol] = ascii(symbol)? else {
                return Err(PyValueError::new_err("a sound class symbol is one letter"));
            };
            for &letter in ascii(letters)? {
                sound[letter as usize] = symbol;
            }
        }
        let feminine = given
            .feminine
            .iter()
            .map(|(suffix, male)| Ok((ascii(suffix)?.into(), ascii(male)?.into())))
            .collect::<PyResult<_>>()?;
        Ok(Rules {
            min_fuzzy_length: given.min_fuzzy_length,
            min_edit_length: given.min_edit_length,
            min_sound_length: given.min_sound_length,
            min_stem_length: given.min_stem_length,
            vowel,
            sound,
            feminine,
        })
    }
}

/// Skeletons are ASCII (see `lib.rs`), so rule letters must be too.
pub fn ascii(text: &str) -> PyResult<&[u8]> {
    if text.is_ascii() {
        Ok(text.as_bytes())
    } else {
        Err(PyValueError::new_err("name rule letters are ASCII"))
    }
}

impl Rules {
    /// `transliterate.consonants`: the skeleton without vowels.
    pub fn consonants(&self, word: &[u8]) -> Key {
        word.iter()
            .copied()
            .filter(|&letter| !self.vowel[letter as usize])
            .collect()
    }

    /// `transliterate.sound_key`: consonants by sound class, runs collapsed.
    pub fn sound_key(&self, word: &[u8]) -> Key {
        let mut out = Key::new();
        for &letter in word {
            if self.vowel[letter as usize] {
                continue;
            }
            let class = self.sound[letter as usize];
            if out.last() != Some(&class) {
                out.push(class);
            }
        }
        out
    }

    /// `transliterate.masculine`: the masculine form of a feminine surname skeleton.
    pub fn masculine(&self, word: &[u8]) -> Option<Key> {
        self.feminine.iter().find_map(|(suffix, replacement)| {
            if word.ends_with(suffix) && word.len() >= suffix.len() + self.min_stem_length {
                let mut out: Key = word[..word.len() - suffix.len()].into();
                out.extend_from_slice(replacement);
                Some(out)
            } else {
                None
            }
        })
    }

    /// For a pair at most 1 (typed letters) or 2 (a reading) edits apart: what `names`'
    /// `typed_one_edit` (letters as typed) or `keys_similarity > 0` (a reading) decides.
    pub fn accepts(&self, query: &[u8], word: &[u8], distance: usize, typed: bool) -> bool {
        let shorter = query.len().min(word.len());
        let longer = query.len().max(word.len());
        let lengths = longer >= self.min_edit_length && shorter >= self.min_fuzzy_length;
        if distance == 0 || (distance == 1 && lengths) {
            return true;
        }
        if typed {
            return false;
        }
        if self.masculine(query).as_deref() == Some(word)
            || self.masculine(word).as_deref() == Some(query)
        {
            return true;
        }
        if !lengths || distance == 1 {
            return false;
        }
        if self.consonants(query) == self.consonants(word) {
            return true;
        }
        shorter >= self.min_sound_length && self.sound_key(query) == self.sound_key(word)
    }
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
