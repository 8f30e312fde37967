//! `PresentedKey::parse` on arbitrary text.
//!
//! Asserts: never panics; when it returns `Some`, the input is exactly
//! `KEY_LEN` bytes starting with `amk_`, `.id()` is 8 lowercase hex
//! characters taken from bytes 4..12, and `Debug` renders without panicking
//! and without the secret part.
#![no_main]

use amanah_crypto::api_key::{PresentedKey, ID_LEN, KEY_LEN, PREFIX};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
    };
    if let Some(key) = PresentedKey::parse(text) {
        let id = key.id();
        assert_eq!(id.len(), ID_LEN, "id {id:?} of {text:?}");
        assert!(
            id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "id {id:?} of {text:?} is not lowercase hex"
        );
        assert_eq!(text.len(), KEY_LEN, "{text:?}");
        assert!(text.starts_with(PREFIX), "{text:?}");
        assert_eq!(&text[PREFIX.len()..PREFIX.len() + ID_LEN], id);
        let shown = format!("{key:?}");
        assert!(
            !shown.contains(&text[PREFIX.len() + ID_LEN + 1..]),
            "{shown}"
        );
    }
});
