//! The checks of the `sse_restore` and `json_traversal` fuzz targets
//! (`fuzz/fuzz_targets/`), shared with the test that replays their seeds
//! (`tests/privacy_fuzz_seeds.rs`). Each takes the fuzzer's bytes and
//! panics when an invariant breaks; none of this runs in the gateway.

use std::collections::HashSet;
use std::sync::Arc;

use amanah_pii::restore::{placeholder_spans, restore, Escape, StreamRestorer, MAX_PLACEHOLDER};
use serde_json::Value;

use super::conversations::Restorable;
use super::json::{for_each_content_string, is_valid_pointer};
use super::sse::{SseRestorer, MAX_EVENT_BYTES};

/// The value of `<PERSON_1>`: quotes, a backslash and non-ASCII text, so a
/// restored event that is not re-escaped breaks its JSON.
pub const PERSON_VALUE: &str = "Zoë \"Z\" O'Neil \\ 山田";
/// The value of `<EMAIL_ADDRESS_1>`.
pub const EMAIL_VALUE: &str = "zoe@example.com";

fn restorable() -> Restorable {
    let mut r = Restorable::default();
    r.insert("<PERSON_1>".into(), PERSON_VALUE.into());
    r.insert("<EMAIL_ADDRESS_1>".into(), EMAIL_VALUE.into());
    r
}

fn utf8_prefix(data: &[u8]) -> &str {
    match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// Runs `stream` through an [`SseRestorer`] in pieces of `chunk` bytes;
/// `None` when an event is too large (only past [`MAX_EVENT_BYTES`]).
fn run_sse(restorable: &Arc<Restorable>, stream: &[u8], chunk: usize) -> Option<Vec<u8>> {
    let mut r = SseRestorer::new(Arc::clone(restorable), None);
    let mut out = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        out.extend(r.push(piece).ok()?);
    }
    out.extend(r.finish());
    Some(out)
}

/// The events an SSE client dispatches from `stream` (WHATWG HTML
/// §9.2.6): `(event type, data, last event id)` each.
pub fn dispatched(stream: &[u8]) -> Vec<(String, String, String)> {
    let mut events = Vec::new();
    let (mut kind, mut data, mut id) = (String::new(), String::new(), String::new());
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < stream.len() {
        match stream[i] {
            b'\r' => {
                lines.push(&stream[start..i]);
                i += if stream.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            b'\n' => {
                lines.push(&stream[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    // An unterminated last line is never processed; neither is its event.
    for line in lines {
        let line = String::from_utf8_lossy(line);
        if line.is_empty() {
            if !data.is_empty() {
                data.pop();
                events.push((
                    std::mem::take(&mut kind),
                    std::mem::take(&mut data),
                    id.clone(),
                ));
            }
            kind.clear();
            data.clear();
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (&*line, ""),
        };
        match name {
            "event" => kind = value.to_owned(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => id = value.to_owned(),
            _ => {}
        }
    }
    events
}

/// The `sse_restore` target. The first byte picks a chunk size
/// (`1..=64`); the rest is an SSE stream, restored with two known
/// placeholders.
///
/// Asserts: no panic; the output is UTF-8 when the input is; a stream with
/// no `<`, `%` or `\` (nothing could start a placeholder) comes out byte
/// for byte; the output does not depend on the chunk size: it is the
/// output of the whole stream pushed at once, byte for byte (a chunk
/// boundary between the `\r` and `\n` of a blank line included), and a
/// client dispatches the same events from both.
pub fn check_sse_restore(data: &[u8]) {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 64) + 1;
    let restorable = Arc::new(restorable());
    let Some(whole) = run_sse(&restorable, stream, stream.len().max(1)) else {
        assert!(stream.len() > MAX_EVENT_BYTES);
        return;
    };
    let Some(chunked) = run_sse(&restorable, stream, chunk) else {
        assert!(stream.len() > MAX_EVENT_BYTES);
        return;
    };
    if std::str::from_utf8(stream).is_ok() {
        assert!(
            std::str::from_utf8(&whole).is_ok(),
            "whole output not UTF-8"
        );
        assert!(
            std::str::from_utf8(&chunked).is_ok(),
            "chunked output not UTF-8"
        );
    }
    if !stream.iter().any(|b| matches!(b, b'<' | b'%' | b'\\')) {
        assert!(
            whole == stream,
            "nothing to restore, yet the stream changed"
        );
        assert!(
            chunked == stream,
            "nothing to restore, yet the stream changed (chunk {chunk})"
        );
    }
    assert!(
        chunked == whole,
        "chunk {chunk}: {:?} vs {:?}",
        String::from_utf8_lossy(&chunked),
        String::from_utf8_lossy(&whole)
    );
    assert_eq!(dispatched(&chunked), dispatched(&whole), "chunk {chunk}");
}

/// Checks `placeholder_spans`, `restore` and `StreamRestorer` on `text`.
fn check_restore(text: &str, chunk: usize) {
    let spans = placeholder_spans(text);
    let mut last_end = 0;
    for &(s, e) in &spans {
        assert!(last_end <= s && s < e && e <= text.len(), "{spans:?}");
        assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
        assert!(matches!(text.as_bytes()[s], b'<' | b'\\' | b'%'));
        assert!(e - s <= MAX_PLACEHOLDER);
        last_end = e;
    }
    let map = restorable();
    for escape in [Escape::None, Escape::Json] {
        let (whole, n) = restore(text, &map, escape);
        assert!(n <= spans.len(), "{n} restored, {} spans", spans.len());
        if spans.is_empty() {
            assert_eq!(whole, text);
        }
        // In pieces (on character boundaries), the same text.
        let mut r = StreamRestorer::new(escape);
        let mut out = String::new();
        let mut rest = text;
        while !rest.is_empty() {
            let mut cut = chunk.min(rest.len());
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            r.push(&rest[..cut], &map, &mut out);
            assert!(r.held() <= MAX_PLACEHOLDER, "held {}", r.held());
            rest = &rest[cut..];
        }
        r.finish(&map, &mut out);
        assert_eq!(out, whole, "chunk {chunk}");
        assert_eq!(r.restored(), n);
    }
}

fn escape_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Pointers into `v`: `/messages`, then every prefix of its first path to
/// a leaf, deepest first, then the deepest again (overlaps and duplicates
/// must be visited once).
fn derived_pointers(v: &Value) -> Vec<String> {
    let mut prefixes = Vec::new();
    let mut path = String::new();
    let mut at = v;
    loop {
        let next = match at {
            Value::Array(items) => items.first().map(|i| ("0".to_owned(), i)),
            Value::Object(map) => map.iter().next().map(|(k, i)| (escape_token(k), i)),
            _ => None,
        };
        let Some((token, item)) = next else { break };
        path.push('/');
        path.push_str(&token);
        prefixes.push(path.clone());
        at = item;
    }
    let mut out = vec!["/messages".to_owned()];
    out.extend(prefixes.iter().rev().cloned());
    out.extend(prefixes.last().cloned());
    out
}

fn has_float(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

fn count_strings(v: &Value) -> usize {
    match v {
        Value::String(_) => 1,
        Value::Array(items) => items.iter().map(count_strings).sum(),
        Value::Object(map) => map.values().map(count_strings).sum(),
        _ => 0,
    }
}

/// Uppercases every string `pointers` select in a copy of `value`;
/// asserts none is visited twice and the result still round-trips.
fn traverse(value: &Value, pointers: &[String]) {
    let mut v = value.clone();
    let mut seen: HashSet<usize> = HashSet::new();
    for_each_content_string(&mut v, pointers, &mut |s| {
        // Strings are only changed in place, so their addresses are stable.
        assert!(
            seen.insert(s as *const String as usize),
            "visited twice: {pointers:?}"
        );
        if pointers.is_empty() {
            assert!(
                !(s.len() > 5 && s.as_bytes()[..5].eq_ignore_ascii_case(b"data:")),
                "a data URL was visited"
            );
        }
        *s = s.to_uppercase();
    });
    assert!(seen.len() <= count_strings(&v));
    let text = serde_json::to_string(&v).unwrap();
    let back: Value = serde_json::from_str(&text).unwrap();
    if !has_float(&v) {
        assert_eq!(back, v);
    }
}

/// The `json_traversal` target: the input as text is tried as a JSON
/// pointer and run through placeholder restoring; if it is a JSON value,
/// its content strings are uppercased with no pointers and with pointers
/// derived from it.
///
/// Asserts: no panic; placeholder spans are sorted, disjoint, inside the
/// text and on character boundaries; restoring the text in pieces gives
/// what restoring it whole gives; no string is visited twice; the
/// traversed value serializes and parses back (equal, when it holds no
/// floating-point number).
pub fn check_json_traversal(data: &[u8]) {
    let text = utf8_prefix(data);
    let _ = is_valid_pointer(text);
    for line in text.lines() {
        let _ = is_valid_pointer(line);
    }
    check_restore(text, data.len() % 13 + 1);
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    traverse(&value, &[]);
    let pointers = derived_pointers(&value);
    for p in &pointers {
        assert!(is_valid_pointer(p), "{p:?}");
    }
    traverse(&value, &pointers);
    traverse(&value, &["".to_owned(), "/0".to_owned()]);
    // Not pointers at all: nothing is found through them.
    traverse(&value, &["messages".to_owned(), "/a~2".to_owned()]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_ignores_an_extra_blank_line() {
        let a = dispatched(b"event: x\ndata: 1\ndata: 2\n\n\n: c\r\ndata: 3\r\r");
        let b = dispatched(b"event: x\ndata: 1\ndata: 2\n\n: c\r\ndata: 3\r\r");
        assert_eq!(a, b);
        assert_eq!(
            a,
            [
                ("x".to_owned(), "1\n2".to_owned(), String::new()),
                (String::new(), "3".to_owned(), String::new())
            ]
        );
    }

    #[test]
    fn the_checks_pass_on_plain_inputs() {
        check_sse_restore(
            b"\x01data: {\"delta\":\"<PER\"}\r\n\r\ndata: {\"delta\":\"SON_1>\"}\r\n\r\n",
        );
        check_json_traversal(br#"{"messages":[{"role":"user","content":"<PERSON_1>"}]}"#);
        check_json_traversal(b"");
    }
}
