//! A token's skeletons: steps 3 to 5 of `transliterate`'s docstring (readings, digraphs,
//! glides, doubled letters), under the tables Python passes (`transliterate.SPELLING`) and
//! keeps the only copy of. Step 1 and 2 (scripts and accents to a-z) stay in Python.
//!
//! Why native: every name never seen before is spelt, each reading through some thirty
//! replacements; in Python that was a third of screening a new name.

use crate::rules::ascii;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// `transliterate.SpellingRules` as Python holds it (read by attribute).
#[derive(FromPyObject)]
struct Given {
    second_readings: Vec<(String, String)>,
    baltic_endings: (usize, Vec<(String, String)>),
    french_endings: (usize, Vec<(String, String)>),
    digraphs: Vec<(String, String)>,
    glides: Vec<(String, String)>,
    #[pyo3(attribute("final"))]
    last: Vec<(String, String)>,
}

/// Word endings: the first one a word has, with at least `stem` letters before it.
struct Endings {
    stem: usize,
    endings: Pairs,
}

impl Endings {
    fn new((stem, endings): &(usize, Vec<(String, String)>)) -> PyResult<Self> {
        Ok(Endings {
            stem: *stem,
            endings: pairs(endings)?,
        })
    }

    /// The word with its ending respelt, when it has one.
    fn respelt(&self, word: &[u8]) -> Option<Vec<u8>> {
        self.endings.iter().find_map(|(ending, written)| {
            (word.ends_with(ending) && word.len() >= ending.len() + self.stem).then(|| {
                let mut out = word[..word.len() - ending.len()].to_vec();
                out.extend_from_slice(written);
                out
            })
        })
    }
}

/// The spelling rules; `skeletons` is `transliterate.spelt`'s second half.
#[pyclass(frozen, module = "relay_vocabulary")]
pub struct Speller {
    second_readings: Pairs,
    baltic: Endings,
    french: Endings,
    digraphs: Pairs,
    glides: Pairs,
    last: Pairs,
}

fn pairs(given: &[(String, String)]) -> PyResult<Pairs> {
    given
        .iter()
        .map(|(old, new)| {
            if old.is_empty() {
                return Err(PyValueError::new_err(
                    "a spelling rule replaces some letters",
                ));
            }
            Ok((ascii(old)?.to_vec(), ascii(new)?.to_vec()))
        })
        .collect()
}

/// `str.replace`: every occurrence, left to right, none overlapping.
fn replace(text: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + new.len());
    let mut rest = text;
    while let Some(at) = find(rest, old) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(new);
        rest = &rest[at + old.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn replace_all(text: Vec<u8>, table: &Pairs) -> Vec<u8> {
    table.iter().fold(text, |text, (old, new)| {
        if contains(&text, old) {
            replace(&text, old, new)
        } else {
            text
        }
    })
}

fn contains(text: &[u8], part: &[u8]) -> bool {
    find(text, part).is_some()
}

/// Where `part` (not empty) first is in `text`. Words and rules are a few letters: a loop
/// of byte compares beats a call to `memcmp` per place.
fn find(text: &[u8], part: &[u8]) -> Option<usize> {
    let (&first, rest) = part.split_first()?;
    let places = text.len().checked_sub(part.len())?;
    (0..=places).find(|&at| text[at] == first && text[at + 1..at + part.len()].iter().eq(rest))
}

/// Each run of one letter as that letter once.
fn once(text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    out.dedup();
    out
}

fn has_run(text: &[u8]) -> bool {
    text.windows(2).any(|pair| pair[0] == pair[1])
}

impl Speller {
    /// The token's readings: each second reading whose letters it has doubles them.
    fn readings(&self, latin: &[u8]) -> Vec<Vec<u8>> {
        let mut readings = vec![latin.to_vec()];
        for (ambiguous, alternative) in &self.second_readings {
            if contains(latin, ambiguous) {
                let more: Vec<Vec<u8>> = readings
                    .iter()
                    .map(|reading| replace(reading, ambiguous, alternative))
                    .collect();
                readings.extend(more);
            }
        }
        if self.baltic.respelt(latin).is_some() {
            let more: Vec<Vec<u8>> = readings
                .iter()
                .map(|reading| {
                    self.baltic
                        .respelt(reading)
                        .unwrap_or_else(|| reading.clone())
                })
                .collect();
            readings.extend(more);
        }
        readings
    }

    /// Steps 3 and 4 up to the doubled letters: what a reading's two skeletons share.
    fn spell(&self, reading: &[u8]) -> Vec<u8> {
        let text = self
            .french
            .respelt(reading)
            .unwrap_or_else(|| reading.to_vec());
        replace_all(text, &self.digraphs)
    }

    /// The rest of steps 4 and 5; doubled letters kept or collapsed.
    fn finish(&self, spelling: &[u8], doubled: bool) -> Vec<u8> {
        let text = if doubled {
            spelling.to_vec()
        } else {
            once(spelling)
        };
        let text = replace_all(replace_all(text, &self.glides), &self.last);
        if doubled {
            text
        } else {
            once(&text)
        }
    }
}

#[pymethods]
impl Speller {
    #[new]
    fn new(rules: &Bound<'_, PyAny>) -> PyResult<Self> {
        let given: Given = rules.extract()?;
        Ok(Speller {
            second_readings: pairs(&given.second_readings)?,
            baltic: Endings::new(&given.baltic_endings)?,
            french: Endings::new(&given.french_endings)?,
            digraphs: pairs(&given.digraphs)?,
            glides: pairs(&given.glides)?,
            last: pairs(&given.last)?,
        })
    }

    /// Every skeleton of a token's plain Latin letters (`transliterate.to_latin`), each
    /// once, in the order of its first reading; the letters kept doubled come after.
    fn skeletons(&self, latin: &str) -> PyResult<Vec<String>> {
        let latin = ascii(latin)?;
        let spellings: Vec<Vec<u8>> = self
            .readings(latin)
            .iter()
            .map(|reading| self.spell(reading))
            .collect();
        let mut keys: Vec<Vec<u8>> = Vec::with_capacity(spellings.len() * 2);
        let kept = if has_run(latin) {
            &[false, true][..]
        } else {
            &[false]
        };
        for &doubled in kept {
            for spelling in &spellings {
                let key = self.finish(spelling, doubled);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        // ASCII in and ASCII tables: the bytes are text
        Ok(keys
            .into_iter()
            .map(|key| String::from_utf8_lossy(&key).into_owned())
            .collect())
    }
}
