//! Restoring placeholders in a model's answer, whole or as it streams.
//!
//! A placeholder can reach us in three spellings: as written
//! (`<PERSON_1>`), JSON-escaped (`\u003cPERSON_1\u003e`, as some encoders
//! write `<` and `>`) and percent-encoded (`%3CPERSON_1%3E`, inside a URL).
//! Each is replaced by the value written the same way: a value restored
//! into a URL is percent-encoded, one restored into a JSON string is
//! JSON-escaped, so restoring never breaks the document around it.
//!
//! Streaming: [`StreamRestorer::push`] emits everything up to the last
//! position that could still begin a placeholder and holds back only that
//! tail (at most [`MAX_PLACEHOLDER`] bytes), so a placeholder split across
//! any number of chunks is restored whole and never emitted in halves.
//! Only placeholders the given map made are replaced: text that merely
//! looks like one is passed through, so the restorer never inserts a value
//! the conversation did not send.

use crate::pseudonym::Placeholders;

/// The longest inner name (`PERSON_12`, a vault token) a placeholder may
/// have; longer text is not a placeholder.
const MAX_INNER: usize = 64;
/// The longest spelling of a placeholder, in bytes.
pub const MAX_PLACEHOLDER: usize = 2 * 6 + MAX_INNER;

/// How a value restored from a plain `<...>` placeholder is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As it is: the text is plain text (or already decoded JSON).
    None,
    /// Escaped for the inside of a JSON string: the text is raw JSON.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spelling {
    Plain,
    JsonEscaped,
    PercentEncoded,
}

impl Spelling {
    fn delimiters(self) -> (&'static str, &'static str) {
        match self {
            Spelling::Plain => ("<", ">"),
            Spelling::JsonEscaped => ("\\u003c", "\\u003e"),
            Spelling::PercentEncoded => ("%3c", "%3e"),
        }
    }
}

enum Found {
    /// A whole placeholder: `inner` is its name, `end` where it stops.
    Whole {
        spelling: Spelling,
        inner: (usize, usize),
        end: usize,
    },
    /// The text ends while it still could become one.
    Partial,
    Not,
}

/// `lit` (ASCII, lowercase) at `s[i..]`, compared without case. `Err(())`
/// when `s` ends inside a matching prefix.
fn literal_at(s: &[u8], i: usize, lit: &str) -> Result<bool, ()> {
    let lit = lit.as_bytes();
    let avail = &s[i.min(s.len())..];
    let n = avail.len().min(lit.len());
    if !avail[..n].eq_ignore_ascii_case(&lit[..n]) {
        return Ok(false);
    }
    if n < lit.len() {
        return Err(());
    }
    Ok(true)
}

fn placeholder_at(s: &[u8], i: usize) -> Found {
    let mut partial = false;
    for spelling in [
        Spelling::Plain,
        Spelling::JsonEscaped,
        Spelling::PercentEncoded,
    ] {
        let (open, close) = spelling.delimiters();
        match literal_at(s, i, open) {
            Ok(false) => continue,
            Err(()) => {
                partial = true;
                continue;
            }
            Ok(true) => {}
        }
        let start = i + open.len();
        let mut j = start;
        while j < s.len() && j - start < MAX_INNER && is_inner(s[j]) {
            j += 1;
        }
        if j == s.len() && j - start < MAX_INNER {
            partial = true;
            continue;
        }
        if j == start {
            continue;
        }
        match literal_at(s, j, close) {
            Ok(true) => {
                return Found::Whole {
                    spelling,
                    inner: (start, j),
                    end: j + close.len(),
                }
            }
            Err(()) => partial = true,
            Ok(false) => {}
        }
    }
    if partial {
        Found::Partial
    } else {
        Found::Not
    }
}

fn is_inner(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
}

/// Restores placeholders in a stream of text chunks.
#[derive(Debug)]
pub struct StreamRestorer {
    escape: Escape,
    held: String,
    restored: usize,
}

impl StreamRestorer {
    pub fn new(escape: Escape) -> Self {
        Self {
            escape,
            held: String::new(),
            restored: 0,
        }
    }

    /// Appends to `out` the restored text of `chunk` that can no longer be
    /// part of a placeholder; keeps the rest for the next chunk.
    pub fn push(&mut self, chunk: &str, map: &dyn Placeholders, out: &mut String) {
        if self.held.is_empty() {
            self.held = self.scan(chunk, map, out, false);
        } else {
            let mut text = std::mem::take(&mut self.held);
            text.push_str(chunk);
            self.held = self.scan(&text, map, out, false);
        }
    }

    /// The stream ended: what was held back is emitted (restored if it is a
    /// whole placeholder, as it is otherwise).
    pub fn finish(&mut self, map: &dyn Placeholders, out: &mut String) {
        let text = std::mem::take(&mut self.held);
        self.scan(&text, map, out, true);
    }

    /// Bytes held back, waiting for the next chunk.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Placeholders restored so far.
    pub fn restored(&self) -> usize {
        self.restored
    }

    /// Restores `text` into `out`; returns the tail to hold back (empty at
    /// the end of the stream).
    fn scan(&mut self, text: &str, map: &dyn Placeholders, out: &mut String, last: bool) -> String {
        let bytes = text.as_bytes();
        let mut emitted = 0;
        let mut i = 0;
        while let Some(off) = bytes[i..]
            .iter()
            .position(|&b| matches!(b, b'<' | b'\\' | b'%'))
        {
            let at = i + off;
            match placeholder_at(bytes, at) {
                Found::Whole {
                    spelling,
                    inner: (s, e),
                    end,
                } => {
                    let mut name = String::with_capacity(e - s + 2);
                    name.push('<');
                    name.push_str(&text[s..e]);
                    name.push('>');
                    if let Some(value) = map.value_of(&name) {
                        out.push_str(&text[emitted..at]);
                        write_value(value, spelling, self.escape, out);
                        self.restored += 1;
                        emitted = end;
                        i = end;
                    } else {
                        i = at + 1;
                    }
                }
                Found::Partial if !last => {
                    out.push_str(&text[emitted..at]);
                    return text[at..].to_owned();
                }
                Found::Partial | Found::Not => i = at + 1,
            }
        }
        out.push_str(&text[emitted..]);
        String::new()
    }
}

/// The byte ranges of every whole placeholder-shaped span of `text`, in
/// any spelling, whether or not a map knows it: text a response scan must
/// not touch.
pub fn placeholder_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while let Some(off) = bytes[i..]
        .iter()
        .position(|&b| matches!(b, b'<' | b'\\' | b'%'))
    {
        let at = i + off;
        match placeholder_at(bytes, at) {
            Found::Whole { end, .. } => {
                spans.push((at, end));
                i = end;
            }
            Found::Partial | Found::Not => i = at + 1,
        }
    }
    spans
}

/// Restores every placeholder of a whole `text`; returns the text and how
/// many were restored.
pub fn restore(text: &str, map: &dyn Placeholders, escape: Escape) -> (String, usize) {
    let mut r = StreamRestorer::new(escape);
    let mut out = String::with_capacity(text.len());
    r.push(text, map, &mut out);
    r.finish(map, &mut out);
    (out, r.restored)
}

fn write_value(value: &str, spelling: Spelling, escape: Escape, out: &mut String) {
    match (spelling, escape) {
        (Spelling::Plain, Escape::None) => out.push_str(value),
        (Spelling::Plain, Escape::Json) | (Spelling::JsonEscaped, _) => json_escape(value, out),
        (Spelling::PercentEncoded, _) => percent_encode(value, out),
    }
}

/// `value` as the inside of a JSON string (RFC 8259 §7).
pub fn json_escape(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
}

/// `value` percent-encoded, leaving only RFC 3986 unreserved characters.
fn percent_encode(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pseudonym::PseudonymMap;
    use crate::EntityType;

    fn map() -> PseudonymMap {
        let mut m = PseudonymMap::default();
        m.placeholder(EntityType::Person, "Zoë \"Z\" O'Neil")
            .unwrap();
        m.placeholder(EntityType::EmailAddress, "zoe@example.com")
            .unwrap();
        m
    }

    #[test]
    fn every_spelling_is_restored_in_its_own_encoding() {
        let m = map();
        let (out, n) = restore(
            "Hi <PERSON_1>, mailto:%3cEMAIL_ADDRESS_1%3E \\u003cPERSON_1\\u003E",
            &m,
            Escape::None,
        );
        assert_eq!(
            out,
            "Hi Zoë \"Z\" O'Neil, mailto:zoe%40example.com Zoë \\\"Z\\\" O'Neil"
        );
        assert_eq!(n, 3);
        let (json, _) = restore("{\"c\":\"<PERSON_1>\"}", &m, Escape::Json);
        assert_eq!(json, "{\"c\":\"Zoë \\\"Z\\\" O'Neil\"}");
    }

    #[test]
    fn unknown_and_malformed_placeholders_pass_through() {
        let m = map();
        for text in [
            "<PERSON_2>",
            "<person_1>",
            "<PERSON_1",
            "a < b > c",
            "%3C%3E",
            "\\u003c",
            "<>",
            "<<PERSON_1>",
        ] {
            let (out, _) = restore(text, &m, Escape::None);
            let expected = text.replace("<PERSON_1>", "Zoë \"Z\" O'Neil");
            assert_eq!(out, expected, "{text}");
        }
    }

    #[test]
    fn placeholders_split_at_every_byte_are_restored_whole() {
        let m = map();
        let text = "Dear <PERSON_1>, write to %3CEMAIL_ADDRESS_1%3E or \\u003cPERSON_1\\u003e. <PERSON_9> <";
        let (whole, _) = restore(text, &m, Escape::None);
        let mut r = StreamRestorer::new(Escape::None);
        let mut out = String::new();
        let mut emitted_lengths = Vec::new();
        for c in text.chars() {
            r.push(c.encode_utf8(&mut [0; 4]), &m, &mut out);
            assert!(r.held() <= MAX_PLACEHOLDER);
            emitted_lengths.push(out.len());
            // Never half a placeholder in what was emitted.
            assert!(!out.ends_with("<PERSON"), "{out}");
        }
        r.finish(&m, &mut out);
        assert_eq!(out, whole);
        assert_eq!(r.restored(), 3);
    }

    #[test]
    fn placeholder_spans_cover_every_spelling() {
        let text = "a <PERSON_1> b %3CX_2%3E c \\u003cY\\u003e <lower>";
        let spans: Vec<&str> = placeholder_spans(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(spans, ["<PERSON_1>", "%3CX_2%3E", "\\u003cY\\u003e"]);
    }

    #[test]
    fn only_a_possible_placeholder_is_held_back() {
        let m = map();
        let mut r = StreamRestorer::new(Escape::None);
        let mut out = String::new();
        r.push("Hello <PERS", &m, &mut out);
        assert_eq!(out, "Hello ");
        r.push("ON_1> and 5 % of", &m, &mut out);
        assert_eq!(out, "Hello Zoë \"Z\" O'Neil and 5 % of");
        assert_eq!(r.held(), 0);
        r.push(" x <b>", &m, &mut out);
        assert_eq!(r.held(), 0, "<b> is not a placeholder (lowercase)");
    }
}
