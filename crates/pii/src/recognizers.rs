//! The recognizers this crate ships, one module per family.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use regex::{Captures, Match, Regex, RegexBuilder};

use crate::AnalyzerBuilder;

pub mod contact;
pub mod financial;
pub mod identifiers;
pub mod network;
pub mod organizations;
pub mod person;
pub mod places;
pub mod secrets;
pub mod temporal;

/// Adds every shipped recognizer to `builder`.
pub fn standard(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    let builder = contact::register(builder);
    let builder = financial::register(builder);
    let builder = identifiers::register(builder);
    let builder = network::register(builder);
    let builder = person::register(builder);
    let builder = places::register(builder);
    let builder = organizations::register(builder);
    let builder = secrets::register(builder);
    temporal::register(builder)
}

/// Whether `text` may hold a digit of regex `\d` (Unicode `Nd`): `false`
/// only if it holds none, so recognizers whose every pattern needs one can
/// skip texts without (most texts) before running their regexes.
pub(crate) fn may_have_digit(text: &str) -> bool {
    // `is_numeric` takes every `Nd` char and some others: a safe superset.
    text.bytes().any(|b| b.is_ascii_digit())
        || !text.is_ascii() && text.chars().any(char::is_numeric)
}

/// A map keyed by short words of fixed lists, with a fast hash: the lists
/// are the crate's own, so SipHash's DoS resistance buys nothing, and the
/// recognizers look up most words of every text.
pub(crate) type WordMap<V> = HashMap<&'static str, V, BuildHasherDefault<WordHasher>>;

/// FxHash-style hasher for [`WordMap`].
#[derive(Default)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A regex with Unicode word boundaries (`\b`), searched fast.
///
/// The `regex` crate's lazy DFA cannot decide a Unicode `\b` next to a
/// non-ASCII character, so on any text with one it falls back to engines
/// many times slower. `gate` is the same pattern with every `\b` dropped:
/// a weaker pattern, so it matches wherever `full` does (with the same
/// span), and it stays on the DFA. Its leftmost match is where `full`'s
/// next match can start at the earliest; no gate match, no full match.
/// The results are exactly those of `full` alone; only the slow engine's
/// search is skipped (no match) or shortened (starts at the gate's match).
/// `full` must not match the empty string.
#[derive(Debug)]
pub(crate) struct BoundaryRegex {
    full: Regex,
    gate: Regex,
}

impl BoundaryRegex {
    pub(crate) fn new(pattern: &str) -> Result<Self, regex::Error> {
        // The street patterns are large Unicode automata: with the default
        // 2 MB transition cache the lazy DFA keeps clearing and rebuilding
        // states (the reverse search for a match's start especially).
        let build = |p: &str| RegexBuilder::new(p).dfa_size_limit(DFA_CACHE_BYTES).build();
        Ok(Self {
            full: build(pattern)?,
            gate: build(&without_word_boundaries(pattern))?,
        })
    }

    /// Where `full`'s first match at or after `pos` can start, if anywhere.
    fn next_start(&self, text: &str, pos: usize) -> Option<usize> {
        self.gate.find_at(text, pos).map(|g| g.start())
    }

    /// `Regex::find_at` of the full pattern.
    pub(crate) fn find_at<'t>(&self, text: &'t str, pos: usize) -> Option<Match<'t>> {
        let start = self.next_start(text, pos)?;
        self.full.find_at(text, start)
    }

    /// `Regex::find_iter` of the full pattern.
    pub(crate) fn find_iter<'r, 't>(&'r self, text: &'t str) -> impl Iterator<Item = Match<'t>> + 'r
    where
        't: 'r,
    {
        let mut pos = 0;
        std::iter::from_fn(move || {
            let m = self.find_at(text, pos)?;
            debug_assert!(!m.is_empty(), "BoundaryRegex patterns never match empty");
            pos = m.end();
            Some(m)
        })
    }

    /// `Regex::captures_iter` of the full pattern.
    pub(crate) fn captures_iter<'r, 't>(
        &'r self,
        text: &'t str,
    ) -> impl Iterator<Item = Captures<'t>> + 'r
    where
        't: 'r,
    {
        let mut pos = 0;
        std::iter::from_fn(move || {
            let start = self.next_start(text, pos)?;
            let c = self.full.captures_at(text, start)?;
            let whole = c.get(0)?;
            debug_assert!(
                !whole.is_empty(),
                "BoundaryRegex patterns never match empty"
            );
            pos = whole.end();
            Some(c)
        })
    }
}

/// Transition cache per lazy DFA (the `regex` default is 2 MB); it fills
/// only as far as texts need.
const DFA_CACHE_BYTES: usize = 32 << 20;

/// `pattern` with every `\b` assertion removed (escaped backslashes kept).
fn without_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => {}
            Some(escaped) => {
                out.push(c);
                out.push(escaped);
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::Recognizer;

    /// The texts a recognizer finds in `text` at the analyzer's default
    /// floor or above.
    pub(crate) fn spans(r: &dyn Recognizer, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        r.find(text, &mut out);
        out.iter()
            .filter(|d| d.score >= crate::analyzer::DEFAULT_MIN_SCORE)
            .map(|d| text[d.start..d.end].to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_drops_only_word_boundaries() {
        assert_eq!(
            without_word_boundaries(r"\b\d+(?-u:\b)\\b[\b]?"),
            r"\d+(?-u:)\\b[]?"
        );
    }

    #[test]
    fn boundary_regex_finds_what_the_plain_regex_finds() {
        let pattern = r"(?i)\b(\d{1,3})\s*years?\b";
        let plain = Regex::new(pattern).unwrap();
        let fast = BoundaryRegex::new(pattern).unwrap();
        for text in [
            "42 years, 7 year old, é5 years, 5 yearsé, 9 years",
            "Zoë is 30 years old; ٣ years; x12 years",
            "no numbers here",
        ] {
            let want: Vec<_> = plain.find_iter(text).map(|m| m.range()).collect();
            let got: Vec<_> = fast.find_iter(text).map(|m| m.range()).collect();
            assert_eq!(got, want, "{text}");
            let want: Vec<_> = plain.captures_iter(text).map(|c| c[1].to_owned()).collect();
            let got: Vec<_> = fast.captures_iter(text).map(|c| c[1].to_owned()).collect();
            assert_eq!(got, want, "{text}");
        }
    }
}
