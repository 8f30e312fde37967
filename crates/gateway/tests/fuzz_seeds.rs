//! Replays the fuzz targets' seed corpora (`fuzz/seeds/<target>/`, bad
//! inputs and crash reproducers included) through the same parsers on every
//! test run, so a bug a fuzzer once found stays fixed without a fuzzer.

use std::path::{Path, PathBuf};

use amanah_crypto::api_key::PresentedKey;
use amanah_gateway::config::{self, Source};
use amanah_gateway::privacy::fuzz_checks::{check_json_traversal, check_sse_restore};
use amanah_gateway::{logging, request_id, router};

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds for {target}");
    out
}

fn utf8_prefix(data: &[u8]) -> &str {
    match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
    }
}

#[test]
fn config_toml_seeds() {
    for (path, data) in seeds("config_toml") {
        let source = Source {
            file: Some(("seed".into(), utf8_prefix(&data).to_owned())),
            env: Vec::new(),
            data_dir: None,
            base_dir: Some("/fuzz-base".into()),
        };
        if let Err(problems) = config::load(&source) {
            assert!(!problems.0.is_empty(), "{}", path.display());
            let _ = problems.to_string();
        }
    }
}

#[test]
fn api_key_seeds() {
    for (path, data) in seeds("api_key_parse") {
        let s = utf8_prefix(&data);
        if let Some(k) = PresentedKey::parse(s) {
            assert_eq!(k.id(), &s[4..12], "{}", path.display());
            assert!(k
                .id()
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        }
    }
}

#[test]
fn request_path_seeds() {
    for (path, data) in seeds("request_path") {
        let p = utf8_prefix(&data);
        if router::check_request_path(p).is_ok() {
            let lower = p.to_ascii_lowercase();
            assert!(p.starts_with('/'), "{}", path.display());
            assert!(!p.split('/').any(|s| s == ".."), "{}", path.display());
            assert!(
                !lower.contains("%2e") && !lower.contains("%2f"),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn redact_seeds() {
    let key = regex::Regex::new(r"amk_[0-9a-f]{8}_([0-9A-Za-z]{8,})").unwrap();
    for (path, data) in seeds("redact") {
        let input = utf8_prefix(&data);
        let out = logging::redact(input);
        // No secret of a key-shaped string in the input survives; this is
        // what caught `adjacent_keys`, a second key glued to the first.
        for secret in key.captures_iter(input).map(|c| c[1].to_owned()) {
            assert!(!out.contains(&secret), "{}: {out}", path.display());
        }
    }
}

#[test]
fn request_id_seeds() {
    for (path, data) in seeds("request_id") {
        let Ok(v) = http::HeaderValue::from_bytes(&data) else {
            continue;
        };
        let mut headers = http::HeaderMap::new();
        headers.insert(request_id::HEADER, v);
        let id = request_id::accept_or_generate(&headers);
        let b = id.as_bytes();
        assert!((1..=128).contains(&b.len()), "{}", path.display());
        assert!(
            b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"._:-".contains(c)),
            "{}",
            path.display()
        );
    }
}

#[test]
fn admin_request_seeds() {
    use amanah_gateway::admin_api::{match_path, percent_decode, session_cookie};
    for (path, data) in seeds("admin_request") {
        let text = utf8_prefix(&data);
        let (first, cookie) = text.split_once('\n').unwrap_or((text, ""));
        let (method, target) = first.split_once(' ').unwrap_or(("GET", first));
        let (url_path, query) = target.split_once('?').unwrap_or((target, ""));
        if let Ok(method) = http::Method::from_bytes(method.as_bytes()) {
            if let Ok(m) = match_path(&method, url_path) {
                assert_eq!(m.endpoint.method, method, "{}", path.display());
                assert_eq!(m.params.len(), m.endpoint.path.matches('{').count());
                assert!(m.params.iter().all(|p| !p.is_empty() && !p.contains('/')));
                assert_eq!(
                    m.endpoint.path.split('/').count(),
                    url_path.split('/').count(),
                    "{}",
                    path.display()
                );
            }
        }
        if let Ok(value) = http::HeaderValue::from_str(cookie) {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::COOKIE, value);
            if let Some(token) = session_cookie(&headers) {
                assert!(cookie.contains(&format!("amanah_session={token}")));
                assert!(!token.contains(';'), "{}", path.display());
            }
        }
        let decoded = percent_decode(query);
        if !query.contains('%') && !query.contains('+') {
            assert_eq!(decoded.as_deref(), Some(query), "{}", path.display());
        }
    }
}

/// Runs `check` on every seed, naming the seed that fails.
fn replay(target: &str, check: fn(&[u8])) {
    for (path, data) in seeds(target) {
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("seed {} fails", path.display());
        }
    }
}

#[test]
fn sse_restore_seeds() {
    replay("sse_restore", check_sse_restore);
}

/// Every `sse_restore` seed again with every chunk size, not only the one
/// its first byte picks.
#[test]
fn sse_restore_seeds_at_every_chunk_size() {
    for (path, data) in seeds("sse_restore") {
        let Some((_, stream)) = data.split_first() else {
            continue;
        };
        for size in 0..64u8 {
            let mut input = vec![size];
            input.extend_from_slice(stream);
            if std::panic::catch_unwind(|| check_sse_restore(&input)).is_err() {
                panic!("seed {} fails with chunk {}", path.display(), size + 1);
            }
        }
    }
}

#[test]
fn json_traversal_seeds() {
    replay("json_traversal", check_json_traversal);
}

/// A chunk boundary between the `\r` and the `\n` of the blank line that
/// ends an event: the `\n` belongs to that event, whether it was passed
/// as it came or rewritten (the seed `crlf_restored_event`; an earlier
/// restorer sent it on as an extra empty line).
#[test]
fn a_cut_between_cr_and_lf_changes_nothing() {
    use std::sync::Arc;

    use amanah_gateway::privacy::conversations::Restorable;
    use amanah_gateway::privacy::sse::SseRestorer;

    let mut map = Restorable::default();
    map.insert("<PERSON_1>".into(), "Zoë".into());
    let map = Arc::new(map);
    let stream = b"data: {\"delta\":\"<PERSON_1>\"}\r\n\r\ndata: {\"n\":1}\r\n\r\n";
    let run = |cut: usize| {
        let mut r = SseRestorer::new(Arc::clone(&map), None);
        let mut out = r.push(&stream[..cut]).unwrap();
        out.extend(r.push(&stream[cut..]).unwrap());
        out.extend(r.finish());
        out
    };
    let whole = run(stream.len());
    assert_eq!(
        whole,
        "data: {\"delta\":\"Zoë\"}\n\ndata: {\"n\":1}\r\n\r\n".as_bytes()
    );
    for cut in 1..stream.len() {
        assert_eq!(run(cut), whole, "cut at {cut}");
    }
}

#[test]
fn peer_answer_seeds() {
    for (path, data) in seeds("peer_answers") {
        let _ = amanah_gateway::usage::parse(&data);
        for line in data.split(|&b| b == b'\n') {
            if let Ok(reply) = amanah_gateway::alerts::parse_reply_line(line) {
                assert!(reply.code <= 999, "{}", path.display());
                assert!(!reply.text.contains(['\r', '\n']), "{}", path.display());
            }
        }
    }
    // The seeds mean what they say.
    let usage = amanah_gateway::usage::parse(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fuzz/seeds/peer_answers/openai_usage"),
        )
        .unwrap(),
    );
    assert_eq!(usage.and_then(|u| u.total), Some(42));
    assert!(amanah_gateway::alerts::parse_reply_line(b"2x0 bad code\r\n").is_err());
    let last = amanah_gateway::alerts::parse_reply_line(b"250 AUTH PLAIN\r\n").unwrap();
    assert_eq!(
        (last.code, last.more, last.text.as_str()),
        (250, false, "AUTH PLAIN")
    );
}
