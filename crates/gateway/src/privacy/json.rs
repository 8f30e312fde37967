//! Which strings of a JSON body are scanned.
//!
//! By default every string value of an OpenAI-compatible body: chat
//! `messages[].content` (a string or content parts), `prompt`, `input`,
//! tool call `arguments`, and whatever a newer API adds. Strings that name
//! protocol things (`model`, `role`, `type`, ids) are [`Part::Protocol`]:
//! the privacy stage looks in them only for identifiers and secrets whose
//! shape is checked, so a model name is never rewritten as a date while an
//! SSN slipped into an `id` is still caught. Inline data URLs (base64
//! images and audio, which text detection cannot read) are left alone. A
//! route can narrow the scan to JSON pointers (RFC 6901).

use serde_json::Value;

/// Object keys whose string values are protocol vocabulary, not content.
const PROTOCOL_KEYS: [&str; 9] = [
    "model",
    "role",
    "type",
    "id",
    "tool_call_id",
    "object",
    "encoding_format",
    "finish_reason",
    "detail",
];

/// Whether `key`'s string value is protocol vocabulary, not content.
pub fn is_protocol_key(key: &str) -> bool {
    PROTOCOL_KEYS.contains(&key)
}

/// What a string of a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Words someone wrote: prompts, messages, arguments.
    Content,
    /// The value of a protocol key (`model`, `role`, `id`…).
    Protocol,
}

/// Calls `f` on every content string of `body`, or only on those below
/// `pointers` when there are any. Each string is visited once even when
/// pointers overlap (a pointer below another one is skipped).
pub fn for_each_content_string(
    body: &mut Value,
    pointers: &[String],
    f: &mut dyn FnMut(&mut String),
) {
    for_each_string(body, pointers, &mut |s, part| {
        if part == Part::Content {
            f(s)
        }
    });
}

/// Calls `f` on every string of `body` (below `pointers`, when there are
/// any) with what kind of string it is; data URLs are skipped.
pub fn for_each_string(
    body: &mut Value,
    pointers: &[String],
    f: &mut dyn FnMut(&mut String, Part),
) {
    if pointers.is_empty() {
        visit(body, f);
        return;
    }
    for (i, p) in pointers.iter().enumerate() {
        let covered = pointers
            .iter()
            .enumerate()
            .any(|(j, q)| j != i && is_below(p, q) && (p != q || j < i));
        if covered {
            continue;
        }
        if let Some(v) = body.pointer_mut(p) {
            visit(v, f);
        }
    }
}

/// Whether pointer `p` is `q` or lies below it.
fn is_below(p: &str, q: &str) -> bool {
    q.is_empty() || p == q || (p.starts_with(q) && p.as_bytes().get(q.len()) == Some(&b'/'))
}

fn visit(v: &mut Value, f: &mut dyn FnMut(&mut String, Part)) {
    match v {
        Value::String(s) => {
            if !is_data_url(s) {
                f(s, Part::Content)
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| visit(i, f)),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(s) if is_protocol_key(k) => f(s, Part::Protocol),
                    _ => visit(v, f),
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn is_data_url(s: &str) -> bool {
    s.len() > 5 && s.as_bytes()[..5].eq_ignore_ascii_case(b"data:")
}

/// Removes what JSON pointer `pointer` names (an object member, or an
/// array element); `false` if it names nothing. Data minimization: the
/// field is gone before any other stage, or the upstream, reads the body.
pub fn remove_pointer(body: &mut Value, pointer: &str) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    match body.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&key).is_some(),
        Some(Value::Array(items)) => match key.parse::<usize>() {
            Ok(i) if i < items.len() && (key == "0" || !key.starts_with('0')) => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether `p` is a JSON pointer (RFC 6901): empty, or `/`-separated
/// tokens whose `~` escapes are `~0` or `~1`.
pub fn is_valid_pointer(p: &str) -> bool {
    if p.is_empty() {
        return true;
    }
    if !p.starts_with('/') {
        return false;
    }
    let b = p.as_bytes();
    b.iter()
        .enumerate()
        .all(|(i, &c)| c != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn collect(body: &mut Value, pointers: &[&str]) -> Vec<String> {
        let pointers: Vec<String> = pointers.iter().map(|s| (*s).to_owned()).collect();
        let mut seen = Vec::new();
        for_each_content_string(body, &pointers, &mut |s| {
            seen.push(s.clone());
            s.make_ascii_uppercase();
        });
        seen
    }

    #[test]
    fn chat_bodies_have_their_content_scanned_and_protocol_words_left() {
        let mut body = json!({
            "model": "gpt-4o",
            "user": "ann@example.com",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "name": "ann", "content": [
                    {"type": "text", "text": "hi"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
                ]},
                {"role": "assistant", "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "lookup", "arguments": "{\"email\":\"x@y.z\"}"}}
                ]}
            ],
            "temperature": 0.2
        });
        let seen = collect(&mut body, &[]);
        assert_eq!(
            seen,
            // serde_json's maps iterate in key order.
            [
                "be brief",
                "hi",
                "ann",
                "{\"email\":\"x@y.z\"}",
                "lookup",
                "ann@example.com"
            ]
        );
        assert_eq!(body["model"], "gpt-4o");
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][0]["content"], "BE BRIEF");
    }

    #[test]
    fn pointers_narrow_the_scan_and_overlaps_are_visited_once() {
        let mut body = json!({"prompt": "a", "input": ["b", "c"], "suffix": "d"});
        assert_eq!(
            collect(&mut body, &["/input", "/input/1", "/nope"]),
            ["b", "c"]
        );
        let mut body = json!({"prompt": "a"});
        assert_eq!(collect(&mut body, &["/prompt", "/prompt"]), ["a"]);
        let mut body = json!({"prompt": "a", "p": "b"});
        assert_eq!(collect(&mut body, &["/p"]), ["b"]);
    }

    #[test]
    fn pointers_remove_members_and_elements() {
        let mut v = json!({"user": {"email": "a@b.c", "id": 7}, "a/b": 1, "list": [1, 2, 3]});
        assert!(remove_pointer(&mut v, "/user/email"));
        assert!(remove_pointer(&mut v, "/a~1b"));
        assert!(remove_pointer(&mut v, "/list/1"));
        assert!(!remove_pointer(&mut v, "/list/01"));
        assert!(!remove_pointer(&mut v, "/missing/x"));
        assert!(!remove_pointer(&mut v, "/user/email"));
        assert!(!remove_pointer(&mut v, ""));
        assert_eq!(v, json!({"user": {"id": 7}, "list": [1, 3]}));
    }

    #[test]
    fn pointer_syntax() {
        for ok in ["", "/messages", "/a~1b/~0c", "/0"] {
            assert!(is_valid_pointer(ok), "{ok}");
        }
        for bad in ["messages", "/a~2", "/a~"] {
            assert!(!is_valid_pointer(bad), "{bad}");
        }
    }
}
