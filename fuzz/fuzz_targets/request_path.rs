//! `router::check_request_path` on arbitrary text.
//!
//! Asserts: never panics; when it returns `Ok`, the path starts with `/`,
//! has no `..` segment (split on `/`), contains no `%2e` or `%2f` in any
//! case, and has no backslash or ASCII control character.
#![no_main]

use amanah_gateway::router::check_request_path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
    };
    if check_request_path(path).is_ok() {
        assert!(path.starts_with('/'), "accepted {path:?}: not absolute");
        assert!(
            !path.split('/').any(|s| s == ".."),
            "accepted {path:?}: has a .. segment"
        );
        let lower = path.to_ascii_lowercase();
        assert!(
            !lower.contains("%2e") && !lower.contains("%2f"),
            "accepted {path:?}: has an encoded dot or slash"
        );
        assert!(
            !path.bytes().any(|b| b == b'\\' || b.is_ascii_control()),
            "accepted {path:?}: has a backslash or control character"
        );
    }
});
