//! [`GatedRegex`]: a Unicode-`\b` regex behind a small, loose gate.

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

/// A regex with Unicode word boundaries (`\b`) and a gate that finds where
/// its matches can start, like [`crate::recognizers::BoundaryRegex`], but
/// with a gate far smaller than the full pattern.
///
/// The gate only has to match at every position where `full` matches (a
/// superset language): then its leftmost match start is where `full`'s next
/// match can start at the earliest, and no gate match means no full match.
/// The results are exactly those of `full` alone. The street patterns'
/// automata are mostly Unicode letter classes copied once per bounded
/// repetition (`{0,4}`); [`loose_gate`] drops the `\b`s (so the gate stays
/// on the lazy DFA on non-ASCII text), widens each Unicode class to "its
/// ASCII part or any non-ASCII char" (a handful of UTF-8 ranges) and lifts
/// the repetitions' upper bounds (no copies). On ASCII text the gate is as
/// selective as before but for the bounds; on other text it is looser,
/// which costs the full regex's search some time, never a result.
#[derive(Debug)]
pub(super) struct GatedRegex {
    full: Regex,
    gate: Regex,
    bound: Option<Bound>,
}

/// How the matches of `full`, a pattern whose big bounded repetition
/// `{0,n}` was lifted to `*` (one copy of the group in the automata
/// instead of `n`: a fraction of the memory), are brought back to those of
/// the pattern as written. Both need every iteration of the repetition to
/// hold a run of spaces or tabs of its own (`[ \t]+` next to a word).
///
/// Why the lifted pattern's answer is exact when its match took at most
/// `n` iterations: at each start the regex picks the first of its match
/// paths in priority order (leftmost-first). Lifting the bound adds paths
/// (more iterations) but keeps the order of the old ones, so when its pick
/// is an old path, it is the old pattern's pick too. And it matches
/// wherever the old pattern does, so it finds no later start.
#[derive(Debug)]
enum Bound {
    /// The repetition sits inside the pattern, wrapped in capture group
    /// 1 in `full`. A match with at most `outside + max` runs of spaces
    /// or tabs took at most `max` iterations (the pattern's other
    /// `[ \t]+` make `outside` runs of their own); else the runs inside
    /// group 1 bound the iterations. A match with more is searched again
    /// with the pattern as written, built on first need.
    Check {
        exact: String,
        outside: usize,
        max: usize,
        regex: OnceLock<Regex>,
    },
    /// The greedy repetition ends the pattern: the lifted match is the
    /// exact one with more iterations appended, as each iteration is taken
    /// on its own merits (a later one failing never revisits an earlier
    /// one). It is cut after `max` iterations, which start after `head`,
    /// the part before the repetition, anchored.
    Cut { head: Regex, max: usize },
}

/// A match of a [`GatedRegex`]: what `regex::Match` offers, which a cut
/// match cannot be made into.
#[derive(Debug, Clone, Copy)]
pub(super) struct Found<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

impl<'t> Found<'t> {
    pub(super) fn start(&self) -> usize {
        self.start
    }

    pub(super) fn end(&self) -> usize {
        self.end
    }

    pub(super) fn as_str(&self) -> &'t str {
        &self.text[self.start..self.end]
    }
}

/// Transition cache per lazy DFA, as [`crate::recognizers::BoundaryRegex`]
/// has it: the street patterns thrash the `regex` default of 2 MB; the
/// cache fills only as far as texts need.
const DFA_CACHE_BYTES: usize = 32 << 20;

fn build(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .dfa_size_limit(DFA_CACHE_BYTES)
        .build()
}

impl GatedRegex {
    pub(super) fn new(pattern: &str) -> Result<Self, regex::Error> {
        Ok(Self {
            full: build(pattern)?,
            gate: build(&loose_gate(pattern))?,
            bound: None,
        })
    }

    /// `exact`, run as `lifted`: the same pattern with its repetition
    /// `{0,max}` made `*` (greedy or lazy alike) and wrapped in the only
    /// capture group; its other `[ \t]+` make at least `outside` runs of
    /// spaces or tabs in any match.
    pub(super) fn lifted(
        exact: &str,
        lifted: &str,
        outside: usize,
        max: usize,
    ) -> Result<Self, regex::Error> {
        let gated = Self::new(lifted)?;
        debug_assert_eq!(gated.full.captures_len(), 2, "one group: the repetition");
        Ok(Self {
            bound: Some(Bound::Check {
                exact: exact.to_owned(),
                outside,
                max,
                regex: OnceLock::new(),
            }),
            ..gated
        })
    }

    /// `lifted` is a pattern ending in a greedy repetition lifted from
    /// `{0,max}` to `*`, `head` (anchored, without `\b`) what precedes it.
    pub(super) fn cut(lifted: &str, head: &str, max: usize) -> Result<Self, regex::Error> {
        Ok(Self {
            bound: Some(Bound::Cut {
                head: build(head)?,
                max,
            }),
            ..Self::new(lifted)?
        })
    }

    /// `Regex::find_at` of the pattern as written.
    pub(super) fn find_at<'t>(&self, text: &'t str, pos: usize) -> Option<Found<'t>> {
        let start = self.gate.find_at(text, pos)?.start();
        let m = self.full.find_at(text, start)?;
        let found = Found {
            text,
            start: m.start(),
            end: m.end(),
        };
        match &self.bound {
            None => Some(found),
            Some(Bound::Check {
                exact,
                outside,
                max,
                regex,
            }) => {
                if blank_runs(m.as_str()).count() <= outside + max {
                    return Some(found);
                }
                // From its own start the lifted regex finds the same match.
                let iterations = self.full.captures_at(text, m.start()).map_or(0, |c| {
                    c.get(1).map_or(0, |g| blank_runs(g.as_str()).count())
                });
                if iterations <= *max {
                    return Some(found);
                }
                // The gate also matches wherever `exact` does.
                let exact = regex.get_or_init(|| {
                    build(exact).expect("the street tests build every exact pattern")
                });
                exact.find_at(text, start).map(|m| Found {
                    text,
                    start: m.start(),
                    end: m.end(),
                })
            }
            Some(Bound::Cut { head, max }) => {
                let s = m.as_str();
                let Some(h) = head.find(s) else {
                    debug_assert!(false, "the head matches where the pattern does");
                    return Some(found);
                };
                let end = blank_runs(&s[h.end()..])
                    .nth(*max)
                    .map_or(m.end(), |run| m.start() + h.end() + run);
                Some(Found { end, ..found })
            }
        }
    }

    /// `Regex::find_iter` of the pattern as written (which never matches
    /// empty).
    pub(super) fn find_iter<'r, 't>(&'r self, text: &'t str) -> impl Iterator<Item = Found<'t>> + 'r
    where
        't: 'r,
    {
        let mut pos = 0;
        std::iter::from_fn(move || {
            let m = self.find_at(text, pos)?;
            debug_assert!(m.end > m.start, "gated patterns never match empty");
            pos = m.end();
            Some(m)
        })
    }
}

/// Where each maximal run of spaces and tabs in `s` starts.
fn blank_runs(s: &str) -> impl Iterator<Item = usize> + '_ {
    let b = s.as_bytes();
    let blank = |c: u8| c == b' ' || c == b'\t';
    (0..b.len()).filter(move |&i| blank(b[i]) && (i == 0 || !blank(b[i - 1])))
}

/// Non-ASCII chars, as class items: every non-ASCII letter or digit is one.
const NON_ASCII: &str = r"\x{80}-\x{10FFFF}";

/// A pattern that matches wherever `pattern` does (see [`GatedRegex`]):
/// `\b` dropped, `\p{L}`, `\p{Lu}`, `\p{Ll}` and `\d` widened to their
/// ASCII part plus all non-ASCII chars, `{m,n}` (greedy or lazy) made
/// `{m,}`. Understands the subset of the syntax the street patterns use:
/// escapes, classes (not nested), groups and counted repetitions.
pub(super) fn loose_gate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push(c);
                    break;
                };
                let widened = match e {
                    'b' => Some(""),
                    'd' => Some("0-9"),
                    'p' if chars.peek() == Some(&'{') => {
                        let mut name = String::new();
                        for n in chars.by_ref() {
                            name.push(n);
                            if n == '}' {
                                break;
                            }
                        }
                        match name.as_str() {
                            "{L}" => Some("A-Za-z"),
                            "{Lu}" => Some("A-Z"),
                            "{Ll}" => Some("a-z"),
                            _ => {
                                out.push_str(r"\p");
                                out.push_str(&name);
                                None
                            }
                        }
                    }
                    _ => {
                        out.push(c);
                        out.push(e);
                        None
                    }
                };
                match widened {
                    Some("") => {}
                    Some(ascii) if in_class => {
                        out.push_str(ascii);
                        out.push_str(NON_ASCII);
                    }
                    Some(ascii) => {
                        out.push('[');
                        out.push_str(ascii);
                        out.push_str(NON_ASCII);
                        out.push(']');
                    }
                    None => {}
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // a `]` right after the opening is a literal
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '{' if !in_class => {
                let mut body = String::new();
                for n in chars.by_ref() {
                    if n == '}' {
                        break;
                    }
                    body.push(n);
                }
                out.push('{');
                match body.split_once(',') {
                    Some((min, _)) => {
                        out.push_str(min);
                        out.push(',');
                    }
                    None => out.push_str(&body),
                }
                out.push('}');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_widens_classes_and_bounds() {
        assert_eq!(
            loose_gate(r"\b\d{1,6}[\p{L}'\-]*(?:[ \t]+\p{Lu}){0,4}?\.\\b[\d]x{3}\p{N}"),
            r"[0-9\x{80}-\x{10FFFF}]{1,}[A-Za-z\x{80}-\x{10FFFF}'\-]*(?:[ \t]+[A-Z\x{80}-\x{10FFFF}]){0,}?\.\\b[0-9\x{80}-\x{10FFFF}]x{3}\p{N}"
        );
    }

    #[test]
    fn gated_finds_what_the_plain_regex_finds() {
        let pattern = r"\b\d{1,3}(?:[ \t]+\p{Lu}\p{Ll}*){1,2}?[ \t]+(?i:st|street)\b";
        let plain = Regex::new(pattern).unwrap();
        let gated = GatedRegex::new(pattern).unwrap();
        for text in [
            "12 Main St, 3 Élan Ösel street, x4 Main St, 5 A B C St, 6 Ab St",
            "٣ Zoë St; 99 Straße Street; 7 Main Sté 8 Main St",
            "no numbers here",
        ] {
            let want: Vec<_> = plain.find_iter(text).map(|m| m.range()).collect();
            let got: Vec<_> = gated.find_iter(text).map(|m| m.start()..m.end()).collect();
            assert_eq!(got, want, "{text}");
        }
    }
}
