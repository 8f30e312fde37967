//! The admin API's request parsing: `admin_api::match_path`,
//! `admin_api::session_cookie` and `admin_api::percent_decode`.
//!
//! Input: the first line is `METHOD PATH[?QUERY]`, the rest is the value of
//! a `Cookie` header (longest valid UTF-8 prefix throughout).
//!
//! Asserts: never panics; a matched endpoint has the method asked for, one
//! non-empty, slash-free capture per `{…}` in its template, and the same
//! number of segments as the path; a session cookie found is a value of an
//! `amanah_session` pair with no `;`; decoding text without `%` or `+`
//! returns it unchanged.
#![no_main]

use amanah_gateway::admin_api::{match_path, percent_decode, session_cookie};
use http::{HeaderMap, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
    };
    let (first, cookie) = text.split_once('\n').unwrap_or((text, ""));
    let (method, target) = first.split_once(' ').unwrap_or(("GET", first));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if let Ok(method) = Method::from_bytes(method.as_bytes()) {
        if let Ok(m) = match_path(&method, path) {
            assert_eq!(m.endpoint.method, method);
            let captures = m.endpoint.path.matches('{').count();
            assert_eq!(m.params.len(), captures, "{path:?}");
            assert!(m.params.iter().all(|p| !p.is_empty() && !p.contains('/')));
            assert_eq!(
                m.endpoint.path.split('/').count(),
                path.split('/').count(),
                "{path:?}"
            );
        }
    }
    if let Ok(value) = HeaderValue::from_str(cookie) {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::COOKIE, value);
        if let Some(token) = session_cookie(&headers) {
            assert!(!token.contains(';'));
            assert!(cookie.contains(&format!("amanah_session={token}")));
        }
    }
    let decoded = percent_decode(query);
    if !query.contains('%') && !query.contains('+') {
        assert_eq!(decoded.as_deref(), Some(query));
    }
});
