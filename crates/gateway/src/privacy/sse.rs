//! Restoring placeholders in a server-sent event stream, event by event.
//!
//! A model streams its answer as many small events, and a placeholder is
//! often cut between them (`"<PER"`, `"SON_1>"`). Bytes are therefore
//! gathered into whole events first (an SSE client dispatches nothing
//! before the blank line that ends an event, so this costs the client no
//! time), each event's JSON is decoded, and the text fields that carry the
//! answer (`choices[i].delta.content`, `choices[i].text`, tool call
//! `arguments`, the Responses API's and Anthropic's `delta`) each go
//! through their own [`StreamRestorer`]: a field's text that could still
//! begin a placeholder is held back and emitted with the next event of
//! that field, or, when the choice finishes or the stream ends, in an event
//! of its own made from the field's last event. Other strings are restored
//! whole. Events that change are written back as one `data:` line; the
//! others pass byte for byte.

use std::collections::BTreeMap;
use std::sync::Arc;

use amanah_pii::restore::{restore, Escape, StreamRestorer};
use serde_json::Value;

use super::conversations::Restorable;
use super::ResponseScan;

/// The largest event held while waiting for its end; a bigger one is an
/// upstream fault, not an answer.
pub const MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// Text a response scan gathers before it looks: detection needs context,
/// so text is scanned up to a sentence or line end, or this many bytes.
const SCAN_WINDOW: usize = 1024;

#[derive(Debug, thiserror::Error)]
#[error("an event of the upstream's stream exceeds {MAX_EVENT_BYTES} bytes")]
pub struct EventTooLarge;

struct FieldStream {
    restorer: StreamRestorer,
    /// Text the response scan has not looked at yet.
    unscanned: String,
    /// The JSON of the field's last event, to build a flush event from
    /// (kept as text: parsed again only on the rare flush, not copied as a
    /// tree for every event).
    template: String,
}

impl FieldStream {
    /// Everything the field still holds, scanned and restored; returns how
    /// many values the scan masked.
    fn drain(
        &mut self,
        scan: Option<&ResponseScan>,
        restorable: &Restorable,
        out: &mut String,
    ) -> usize {
        let rest = std::mem::take(&mut self.unscanned);
        let (text, masked) = match scan {
            Some(scan) if !rest.is_empty() => scan.mask(&rest),
            _ => (rest, 0),
        };
        self.restorer.push(&text, restorable, out);
        self.restorer.finish(restorable, out);
        masked
    }
}

pub struct SseRestorer {
    pending: Vec<u8>,
    search: EventSearch,
    /// Set when the last event ended on a `\r` that closed a chunk: whether
    /// that event passed byte for byte.
    lf_after_cr: Option<bool>,
    /// An event was seen (a byte order mark can only open the stream).
    started: bool,
    fields: BTreeMap<String, FieldStream>,
    restorable: Arc<Restorable>,
    scan: Option<Arc<ResponseScan>>,
    masked: usize,
}

impl std::fmt::Debug for SseRestorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseRestorer")
            .field("pending", &self.pending.len())
            .field("fields", &self.fields.len())
            .finish()
    }
}

impl SseRestorer {
    pub fn new(restorable: Arc<Restorable>, scan: Option<Arc<ResponseScan>>) -> Self {
        Self {
            pending: Vec::new(),
            search: EventSearch::default(),
            lf_after_cr: None,
            started: false,
            fields: BTreeMap::new(),
            restorable,
            scan,
            masked: 0,
        }
    }

    /// Values the response scan masked so far.
    pub fn masked(&self) -> usize {
        self.masked
    }

    /// The restored bytes of every event `chunk` completes.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<Vec<u8>, EventTooLarge> {
        let mut out = Vec::new();
        // The last event ended on a `\r` at the end of a chunk: a `\n`
        // now is the second half of that `\r\n`, and belongs to it.
        if let Some(passed_raw) = self.lf_after_cr {
            if let Some((&first, rest)) = chunk.split_first() {
                self.lf_after_cr = None;
                if first == b'\n' {
                    if passed_raw {
                        out.push(b'\n');
                    }
                    chunk = rest;
                }
            }
        }
        self.pending.extend_from_slice(chunk);
        while let Some(end) = self.search.next_event(&self.pending) {
            let event: Vec<u8> = self.pending.drain(..end.len).collect();
            let rewritten = self.event(&event, &mut out);
            if end.on_final_cr && self.pending.is_empty() {
                self.lf_after_cr = Some(!rewritten);
            }
        }
        if self.pending.len() > MAX_EVENT_BYTES {
            return Err(EventTooLarge);
        }
        Ok(out)
    }

    /// The stream ended: an unfinished last event and every held-back text.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            self.event(&rest, &mut out);
        }
        self.flush(|_| true, &mut out);
        out
    }

    /// Restores one event into `out`; whether it was rewritten (rather
    /// than passed byte for byte).
    fn event(&mut self, raw: &[u8], out: &mut Vec<u8>) -> bool {
        let Ok(mut text) = std::str::from_utf8(raw) else {
            out.extend_from_slice(raw);
            return false;
        };
        if !std::mem::replace(&mut self.started, true) {
            // A byte order mark opens a stream, not a field name.
            text = text.strip_prefix('\u{feff}').unwrap_or(text);
        }
        let mut data: Option<String> = None;
        for line in lines(text) {
            if let Some(v) = field_value(line, "data") {
                match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(v);
                    }
                    None => data = Some(v.to_owned()),
                }
            }
        }
        let Some(data) = data else {
            out.extend_from_slice(raw);
            return false;
        };
        match serde_json::from_str::<Value>(&data) {
            Ok(mut value) if value.is_object() => {
                let finished: Vec<String> = finished_choices(&value)
                    .into_iter()
                    .map(|choice| format!("/choices/{choice}/"))
                    .collect();
                let ends = |p: &str| finished.iter().any(|f| p.starts_with(f.as_str()));
                let changed = self.restore_event(&data, &mut value, &ends);
                // Fields of a finished choice that this event does not
                // carry: what they hold comes before it.
                self.flush(ends, out);
                if changed {
                    write_event(text, &value.to_string(), out);
                } else {
                    out.extend_from_slice(raw);
                }
                changed
            }
            _ => {
                // `[DONE]` or text: whatever was held belongs before it.
                self.flush(|_| true, out);
                let (restored, n) = restore(&data, &*self.restorable, Escape::None);
                if n > 0 {
                    write_event(text, &restored, out);
                } else {
                    out.extend_from_slice(raw);
                }
                n > 0
            }
        }
    }

    /// Restores the strings of one event; whether any changed. Fields
    /// `ends` selects are finished here: all they hold goes into this event.
    fn restore_event(
        &mut self,
        data: &str,
        value: &mut Value,
        ends: &dyn Fn(&str) -> bool,
    ) -> bool {
        let mut changed = false;
        let mut path = String::new();
        walk(value, &mut path, &mut |path, s| {
            if is_streamed_field(path) {
                let field = self
                    .fields
                    .entry(path.to_owned())
                    .or_insert_with(|| FieldStream {
                        restorer: StreamRestorer::new(Escape::None),
                        unscanned: String::new(),
                        template: String::new(),
                    });
                field.template.clear();
                field.template.push_str(data);
                let mut text = String::new();
                match &self.scan {
                    Some(scan) => {
                        field.unscanned.push_str(s);
                        let ready = scan_boundary(&field.unscanned);
                        if ready > 0 {
                            let part: String = field.unscanned.drain(..ready).collect();
                            let (masked, n) = scan.mask(&part);
                            self.masked += n;
                            field.restorer.push(&masked, &*self.restorable, &mut text);
                        }
                    }
                    None => field.restorer.push(s, &*self.restorable, &mut text),
                }
                if ends(path) {
                    if let Some(mut field) = self.fields.remove(path) {
                        self.masked +=
                            field.drain(self.scan.as_deref(), &self.restorable, &mut text);
                    }
                }
                if text != *s {
                    *s = text;
                    changed = true;
                }
            } else {
                let mut text = s.clone();
                let key = path.rsplit('/').next().unwrap_or("");
                // `model`, `id`, `object`…: names, not the model's words.
                let content = !super::json::is_protocol_key(key);
                if let Some(scan) = self.scan.as_ref().filter(|_| content) {
                    let (masked, n) = scan.mask(&text);
                    self.masked += n;
                    text = masked;
                }
                let (restored, _) = restore(&text, &*self.restorable, Escape::None);
                if restored != *s {
                    *s = restored;
                    changed = true;
                }
            }
        });
        changed
    }

    /// Emits what the fields selected by `which` still hold, each as an
    /// event made from the field's last one.
    fn flush(&mut self, which: impl Fn(&str) -> bool, out: &mut Vec<u8>) {
        let paths: Vec<String> = self.fields.keys().filter(|p| which(p)).cloned().collect();
        for path in paths {
            let Some(mut field) = self.fields.remove(&path) else {
                continue;
            };
            let mut text = String::new();
            self.masked += field.drain(self.scan.as_deref(), &self.restorable, &mut text);
            if text.is_empty() {
                continue;
            }
            // The template parsed when its event arrived; should it not
            // now, the text still goes out, as a plain event.
            let Ok(mut event) = serde_json::from_str::<Value>(&field.template) else {
                write_event("", &text, out);
                continue;
            };
            let mut p = String::new();
            walk(&mut event, &mut p, &mut |p, s| {
                if p == path {
                    *s = std::mem::take(&mut text);
                } else if is_streamed_field(p) {
                    s.clear();
                }
            });
            // A finished choice's flush must not say it finished twice.
            clear_finish_reasons(&mut event);
            write_event("", &event.to_string(), out);
        }
    }
}

/// Where the first whole event of a growing buffer ends, searched
/// incrementally: bytes already looked at are not looked at again, so an
/// event arriving a byte at a time costs linear, not quadratic, time.
#[derive(Debug, Default)]
struct EventSearch {
    /// Where to resume.
    at: usize,
    /// Where the line `at` is in began.
    line_start: usize,
}

struct EventEnd {
    /// The event's length, its closing blank line included.
    len: usize,
    /// The blank line was a `\r` with nothing after it yet.
    on_final_cr: bool,
}

impl EventSearch {
    fn next_event(&mut self, buf: &[u8]) -> Option<EventEnd> {
        let mut i = self.at;
        while let Some(off) = buf[i..].iter().position(|&b| b == b'\n' || b == b'\r') {
            let j = i + off;
            let (term, on_final_cr) = if buf[j] == b'\r' {
                match buf.get(j + 1) {
                    // A blank line's `\r` ends the event either way.
                    None if j == self.line_start => (1, true),
                    // A line's `\r` may be half a `\r\n`: look again later.
                    None => {
                        self.at = j;
                        return None;
                    }
                    Some(b'\n') => (2, false),
                    Some(_) => (1, false),
                }
            } else {
                (1, false)
            };
            if j == self.line_start {
                *self = Self::default();
                return Some(EventEnd {
                    len: j + term,
                    on_final_cr,
                });
            }
            self.line_start = j + term;
            i = self.line_start;
        }
        self.at = buf.len();
        None
    }
}

/// The lines of one event, without their terminators.
fn lines(event: &str) -> impl Iterator<Item = &str> {
    event
        .split('\n')
        .flat_map(|l| l.split('\r'))
        .filter(|l| !l.is_empty())
}

/// The value of `line` if it is field `name` (`name:value`, one optional
/// space after the colon, as the SSE specification reads it).
fn field_value<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(name)?;
    if rest.is_empty() {
        // A field name alone: the field with an empty value.
        return Some(rest);
    }
    let rest = rest.strip_prefix(':')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// `original`'s non-data lines (event name, id, retry, comments), then one
/// `data:` line, then the blank line.
fn write_event(original: &str, data: &str, out: &mut Vec<u8>) {
    for line in lines(original) {
        if field_value(line, "data").is_none() {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    // JSON text holds no raw newline; plain data may, one line each.
    for part in data.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(part.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

/// Calls `f` with the JSON pointer and value of every string in `v`.
fn walk(v: &mut Value, path: &mut String, f: &mut dyn FnMut(&str, &mut String)) {
    match v {
        Value::String(s) => f(path, s),
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                walk(item, path, f);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                walk(item, path, f);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The fields a model streams its answer through, piece by piece.
fn is_streamed_field(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    let index = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        // OpenAI chat and completions.
        ["choices", i, "delta", "content"] | ["choices", i, "text"] => index(i),
        ["choices", i, "delta", "tool_calls", j, "function", "arguments"] => index(i) && index(j),
        // Responses API (`response.output_text.delta`) and Anthropic
        // (`content_block_delta`).
        ["delta"] | ["delta", "text"] | ["delta", "partial_json"] => true,
        _ => false,
    }
}

/// Indexes of the choices this event finishes.
fn finished_choices(v: &Value) -> Vec<u64> {
    v.get("choices")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter(|c| c.get("finish_reason").is_some_and(|f| !f.is_null()))
                .filter_map(|c| c.get("index").and_then(Value::as_u64))
                .collect()
        })
        .unwrap_or_default()
}

fn clear_finish_reasons(v: &mut Value) {
    if let Some(cs) = v.get_mut("choices").and_then(Value::as_array_mut) {
        for c in cs {
            if let Some(f) = c.get_mut("finish_reason") {
                *f = Value::Null;
            }
        }
    }
}

/// How much of `text` a response scan may look at now: up to the last
/// sentence or line end, or, past [`SCAN_WINDOW`], up to the last space
/// (placeholders hold no space, so none is cut).
fn scan_boundary(text: &str) -> usize {
    let b = text.as_bytes();
    let sentence_end = (1..b.len())
        .rev()
        .find(|&i| b[i] == b'\n' || (b[i] == b' ' && matches!(b[i - 1], b'.' | b'!' | b'?')));
    if let Some(i) = sentence_end {
        return i + 1;
    }
    if b.len() > SCAN_WINDOW {
        if let Some(i) = text.rfind(char::is_whitespace) {
            return i + 1;
        }
        return b.len();
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn restorable() -> Arc<Restorable> {
        let mut r = Restorable::default();
        r.insert("<PERSON_1>".into(), "Zoë \"Z\" O'Neil".into());
        r.insert("<EMAIL_ADDRESS_1>".into(), "zoe@example.com".into());
        Arc::new(r)
    }

    fn chunk_event(content: &str) -> String {
        let v = json!({"id": "c1", "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]});
        format!("data: {v}\n\n")
    }

    fn finish_event() -> String {
        let v =
            json!({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
        format!("data: {v}\n\n")
    }

    /// The content a client reassembles from a stream.
    fn content_of(stream: &[u8]) -> String {
        let text = std::str::from_utf8(stream).unwrap();
        let mut out = String::new();
        for line in text.lines() {
            if let Some(d) = line.strip_prefix("data: ") {
                if let Ok(v) = serde_json::from_str::<Value>(d) {
                    if let Some(c) = v["choices"][0]["delta"]["content"].as_str() {
                        out.push_str(c);
                    }
                }
            }
        }
        out
    }

    fn run(stream: &[u8], cut: usize) -> Vec<u8> {
        let mut r = SseRestorer::new(restorable(), None);
        let mut out = Vec::new();
        for piece in stream.chunks(cut) {
            out.extend(r.push(piece).unwrap());
        }
        out.extend(r.finish());
        out
    }

    #[test]
    fn placeholders_split_across_events_and_bytes_are_restored() {
        let pieces = [
            "Hello <",
            "PER",
            "SON_",
            "1>, write to <EMAIL",
            "_ADDRESS_1>",
            " now <",
        ];
        let mut stream: String = pieces.iter().map(|p| chunk_event(p)).collect();
        stream.push_str(&finish_event());
        stream.push_str("data: [DONE]\n\n");
        for cut in [1, 2, 3, 7, 64, stream.len()] {
            let out = run(stream.as_bytes(), cut);
            assert_eq!(
                content_of(&out),
                "Hello Zoë \"Z\" O'Neil, write to zoe@example.com now <",
                "cut {cut}"
            );
            let text = String::from_utf8(out).unwrap();
            assert!(
                !text.contains("PER\""),
                "half a placeholder went out: {text}"
            );
            assert!(text.ends_with("data: [DONE]\n\n"));
            // Exactly one event says the choice finished.
            assert_eq!(text.matches("\"stop\"").count(), 1);
        }
    }

    #[test]
    fn a_stream_cut_off_mid_placeholder_emits_the_text_as_it_is() {
        let stream = format!("{}{}", chunk_event("see <PERSON"), chunk_event("_1"));
        let out = run(stream.as_bytes(), 5);
        assert_eq!(content_of(&out), "see <PERSON_1");
    }

    #[test]
    fn untouched_events_pass_byte_for_byte_with_their_fields() {
        let stream = "event: ping\r\nid: 7\r\ndata: {\"x\":1}\r\n\r\n: comment\n\nretry: 10\n\n";
        let out = run(stream.as_bytes(), 3);
        assert_eq!(out, stream.as_bytes());
        let renamed = "event: delta\nid: 9\ndata: {\"delta\":\"<PERSON_1>\"}\n\n";
        let out = String::from_utf8(run(renamed.as_bytes(), 1)).unwrap();
        assert!(out.starts_with("event: delta\nid: 9\ndata: "), "{out}");
        assert!(out.contains("O'Neil"), "{out}");
    }

    #[test]
    fn unknown_placeholders_are_never_filled() {
        let stream = chunk_event("<PERSON_2> and %3CPERSON_1%3E");
        let out = run(stream.as_bytes(), 4);
        assert_eq!(
            content_of(&out),
            "<PERSON_2> and Zo%C3%AB%20%22Z%22%20O%27Neil"
        );
    }

    fn end(buf: &[u8]) -> Option<(usize, bool)> {
        EventSearch::default()
            .next_event(buf)
            .map(|e| (e.len, e.on_final_cr))
    }

    #[test]
    fn event_boundaries_in_every_line_ending() {
        assert_eq!(end(b"data: x\n\nrest"), Some((9, false)));
        assert_eq!(end(b"data: x\r\n\r\n"), Some((11, false)));
        assert_eq!(end(b"data: x\r\r"), Some((9, true)));
        assert_eq!(end(b"data: x\r"), None);
        assert_eq!(end(b"data: x\n"), None);
        assert_eq!(end(b"\n"), Some((1, false)));
    }

    #[test]
    fn the_search_resumes_where_it_stopped() {
        let mut search = EventSearch::default();
        let mut buf = Vec::new();
        for &b in b"data: a\r\ndata: b\r" {
            buf.push(b);
            assert!(search.next_event(&buf).is_none());
        }
        buf.extend_from_slice(b"\n\r\n");
        assert_eq!(search.next_event(&buf).map(|e| e.len), Some(buf.len()));
    }

    #[test]
    fn a_crlf_cut_after_its_cr_ends_the_event_once() {
        let stream = b"data: {\"delta\":\"<PERSON_1>\"}\r\n\r\ndata: {\"x\":1}\r\n\r\n";
        let whole = run(stream, stream.len());
        for cut in 1..stream.len() {
            let mut r = SseRestorer::new(restorable(), None);
            let mut out = r.push(&stream[..cut]).unwrap();
            out.extend(r.push(&stream[cut..]).unwrap());
            out.extend(r.finish());
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    #[test]
    fn a_byte_order_mark_and_a_bare_data_line_are_read_as_the_spec_says() {
        let out = String::from_utf8(run(
            "\u{feff}data: {\"delta\":\"<PERSON_1>\"}\n\n".as_bytes(),
            3,
        ))
        .unwrap();
        assert!(out.contains("O'Neil"), "{out}");
        assert_eq!(field_value("data", "data"), Some(""));
        assert_eq!(field_value("database: x", "data"), None);
    }

    #[test]
    fn a_response_scan_looks_at_whole_sentences_or_lines() {
        assert_eq!(scan_boundary("Call Ann at 555"), 0, "no end yet");
        assert_eq!(scan_boundary("Hi Ann. Call at 555"), "Hi Ann. ".len());
        assert_eq!(scan_boundary("one\ntwo"), "one\n".len());
        assert_eq!(
            scan_boundary("3.5 kg"),
            0,
            "a decimal point is no sentence end"
        );
        let long = format!("{} tail", "word ".repeat(SCAN_WINDOW / 5));
        assert_eq!(scan_boundary(&long), long.len() - "tail".len());
        let unbroken = "x".repeat(SCAN_WINDOW + 1);
        assert_eq!(scan_boundary(&unbroken), unbroken.len());
    }

    #[test]
    fn an_endless_event_is_refused() {
        let mut r = SseRestorer::new(restorable(), None);
        let big = vec![b'a'; MAX_EVENT_BYTES + 1];
        assert!(r.push(&big).is_err());
    }

    #[test]
    fn streamed_fields_are_the_answer_fields() {
        for p in [
            "/choices/0/delta/content",
            "/choices/3/text",
            "/choices/0/delta/tool_calls/1/function/arguments",
            "/delta",
            "/delta/text",
        ] {
            assert!(is_streamed_field(p), "{p}");
        }
        for p in ["/choices/x/text", "/model", "/choices/0/delta/role", ""] {
            assert!(!is_streamed_field(p), "{p}");
        }
    }
}
