use proptest::prelude::*;

use super::*;
use crate::random::encode_hex;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn key_from(start: u8) -> Zeroizing<[u8; KEY_LEN]> {
    let mut k = Zeroizing::new([0u8; KEY_LEN]);
    for (i, b) in k.iter_mut().enumerate() {
        *b = start + i as u8;
    }
    k
}

fn aad<'a>(record_id: &'a str, subject: &'a str) -> RecordAad<'a> {
    RecordAad {
        record_id,
        subject,
        kind: "transcript",
        key_version: 1,
        data_class: "general",
        region: None,
        purpose: None,
    }
}

fn keyring() -> Keyring {
    Keyring::new(vec![Kek::generate(1, 1_700_000_000).unwrap()]).unwrap()
}

// ------------------------------------------------------------------ known answers

/// Bytes computed by an independent implementation of the formats in the
/// module docs (Python `cryptography`'s AESGCM, see the comment below), with
/// root key 00..1f, KEK 20..3f, data key 40..5f and fixed nonces.
///
/// ```python
/// lp = lambda b: struct.pack(">Q", len(b)) + b
/// aad = lp(b"amanah.envelope.v1.kek") + b"\x01" + struct.pack(">IQ", 7, 1700000000)
/// sealed = b"\x01" + struct.pack(">IQ", 7, 1700000000) + n1 + AESGCM(root).encrypt(n1, kek, aad)
/// aad = lp(b"amanah.envelope.v1.dek") + b"\x01" + struct.pack(">I", 7) + lp(b"subject-42")
/// wrapped = b"\x01" + struct.pack(">I", 7) + n2 + AESGCM(kek).encrypt(n2, dek, aad)
/// aad = (lp(b"amanah.envelope.v1.record") + b"\x01" + struct.pack(">I", 3)
///        + lp(b"rec-1") + lp(b"subject-42") + lp(b"transcript") + lp(b"child")
///        + b"\x01" + lp(b"eu") + b"\x00")
/// record = b"\x01" + struct.pack(">I", 3) + n3 + AESGCM(dek).encrypt(n3, plaintext, aad)
/// ```
const KAT_SEALED_KEK: &str = "0100000007000000006553f100a1a1a1a1a1a1a1a1a1a1a1a185e1d97df73b57f3ec348b66c415e9f841006f706edcc6df7312ea9beff0deeaeac93b3631cad1c1ce797e371307b262";
const KAT_WRAPPED: &str = "0100000007b2b2b2b2b2b2b2b2b2b2b2b241deb4bcd02c80856a2f03be10bed2e8a9be7b03dc88420624d8a2883ec232308b197893adfc2a552470592b3b6b5631";
const KAT_RECORD: &str = "0100000003c3c3c3c3c3c3c3c3c3c3c3c32a6f3c1b2a992889472f7e8b933b074f8fe489417279c925fb366856a525ca475262d996300791ca6beff3";
const KAT_PLAINTEXT: &str = "Hello, Amanah — ünïcode";

#[test]
fn known_answers_match_an_independent_implementation() {
    let root = RootKey(key_from(0x00));
    let kek = Kek::from_parts(7, 1_700_000_000, key_from(0x20));
    let dek = DataKey::from_bytes(key_from(0x40));
    let rec = RecordAad {
        record_id: "rec-1",
        subject: "subject-42",
        kind: "transcript",
        key_version: 3,
        data_class: "child",
        region: Some("eu"),
        purpose: None,
    };

    assert_eq!(
        encode_hex(&root.seal_kek_with_nonce(&kek, [0xa1; 12])),
        KAT_SEALED_KEK
    );
    assert_eq!(
        encode_hex(
            kek.wrap_with_nonce(&dek, "subject-42", [0xb2; 12])
                .as_bytes()
        ),
        KAT_WRAPPED
    );
    assert_eq!(
        encode_hex(&dek.encrypt_with_nonce(&rec, KAT_PLAINTEXT.as_bytes(), [0xc3; 12])),
        KAT_RECORD
    );

    // And the other way: the reference bytes open.
    let opened = root.open_kek(&hex(KAT_SEALED_KEK)).unwrap();
    assert_eq!((opened.version(), opened.created_at()), (7, 1_700_000_000));
    assert_eq!(*opened.bytes, *key_from(0x20));
    let ring = Keyring::new(vec![opened]).unwrap();
    let wrapped = WrappedKey::from_bytes(&hex(KAT_WRAPPED)).unwrap();
    let unwrapped = ring.unwrap(&wrapped, "subject-42").unwrap();
    assert_eq!(*unwrapped.bytes, *key_from(0x40));
    let plain = unwrapped.decrypt(&rec, &hex(KAT_RECORD)).unwrap();
    assert_eq!(plain.as_slice(), KAT_PLAINTEXT.as_bytes());
    assert_eq!(ciphertext_key_version(&hex(KAT_RECORD)), Ok(3));
}

// ------------------------------------------------------------------ records

#[test]
fn record_round_trips() {
    let (dek, _) = keyring().new_data_key("subject-1");
    for len in [0, 1, 15, 16, 17, 1000, 70_000] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let a = aad("rec-1", "subject-1");
        let ct = dek.encrypt(&a, &plaintext);
        assert_eq!(ct.len(), len + RECORD_OVERHEAD);
        assert_eq!(ct[0], FORMAT_V1);
        assert_eq!(ciphertext_key_version(&ct), Ok(1));
        assert_eq!(dek.decrypt(&a, &ct).unwrap().as_slice(), plaintext, "{len}");
    }
}

#[test]
fn same_record_encrypts_differently() {
    let (dek, _) = keyring().new_data_key("s");
    let a = aad("r", "s");
    let x = dek.encrypt(&a, b"same");
    let y = dek.encrypt(&a, b"same");
    assert_ne!(x, y);
    assert_ne!(x[5..17], y[5..17]);
}

#[test]
fn every_flipped_bit_of_a_record_is_detected() {
    let (dek, _) = keyring().new_data_key("subject-1");
    let a = aad("rec-1", "subject-1");
    let ct = dek.encrypt(&a, b"a short transcript");
    for i in 0..ct.len() {
        for bit in 0..8 {
            let mut bad = ct.clone();
            bad[i] ^= 1 << bit;
            let expected = if i == 0 {
                EnvelopeError::UnknownFormat
            } else {
                EnvelopeError::Forged
            };
            assert_eq!(dek.decrypt(&a, &bad), Err(expected), "byte {i} bit {bit}");
        }
    }
}

#[test]
fn truncated_or_extended_records_are_refused() {
    let (dek, _) = keyring().new_data_key("s");
    let a = aad("r", "s");
    let ct = dek.encrypt(&a, b"twenty bytes of text");
    assert_eq!(dek.decrypt(&a, &[]), Err(EnvelopeError::Malformed));
    for cut in 1..RECORD_OVERHEAD {
        assert_eq!(
            dek.decrypt(&a, &ct[..cut]),
            Err(EnvelopeError::Malformed),
            "{cut}"
        );
        assert_eq!(
            ciphertext_key_version(&ct[..cut]),
            Err(EnvelopeError::Malformed)
        );
    }
    for cut in RECORD_OVERHEAD..ct.len() {
        assert_eq!(
            dek.decrypt(&a, &ct[..cut]),
            Err(EnvelopeError::Forged),
            "{cut}"
        );
    }
    let mut longer = ct.clone();
    longer.push(0);
    assert_eq!(dek.decrypt(&a, &longer), Err(EnvelopeError::Forged));
    assert_eq!(
        ciphertext_key_version(&[2; 40]),
        Err(EnvelopeError::UnknownFormat)
    );
}

#[test]
fn wrong_aad_or_key_is_forged() {
    let ring = keyring();
    let (dek, _) = ring.new_data_key("subject-1");
    let good = RecordAad {
        record_id: "rec-1",
        subject: "subject-1",
        kind: "transcript",
        key_version: 4,
        data_class: "child",
        region: Some("eu"),
        purpose: Some("support"),
    };
    let ct = dek.encrypt(&good, b"plaintext");
    assert!(dek.decrypt(&good, &ct).is_ok());
    for bad in [
        RecordAad {
            record_id: "rec-2",
            ..good
        },
        RecordAad {
            subject: "subject-2",
            ..good
        },
        RecordAad {
            kind: "document",
            ..good
        },
        RecordAad {
            key_version: 5,
            ..good
        },
        // What decides who may read it: a relabelled record does not open.
        RecordAad {
            data_class: "general",
            ..good
        },
        RecordAad {
            region: None,
            ..good
        },
        RecordAad {
            region: Some("us"),
            ..good
        },
        RecordAad {
            purpose: None,
            ..good
        },
        RecordAad {
            region: Some("support"),
            purpose: Some("eu"),
            ..good
        },
        // Moving bytes across a field boundary changes the encoding.
        RecordAad {
            record_id: "rec-1subject-1",
            subject: "",
            ..good
        },
    ] {
        assert_eq!(
            dek.decrypt(&bad, &ct),
            Err(EnvelopeError::Forged),
            "{bad:?}"
        );
    }
    let (other, _) = ring.new_data_key("subject-1");
    assert_eq!(other.decrypt(&good, &ct), Err(EnvelopeError::Forged));
}

#[test]
fn aad_encoding_is_injective_across_fields() {
    let a = RecordAad {
        record_id: "ab",
        subject: "c",
        kind: "k",
        key_version: 1,
        data_class: "general",
        region: None,
        purpose: None,
    };
    let b = RecordAad {
        record_id: "a",
        subject: "bc",
        ..a
    };
    assert_ne!(a.encode(), b.encode());
    assert!(a.encode().starts_with(&[0, 0, 0, 0, 0, 0, 0, 25]));
    assert!(a.encode()[8..].starts_with(b"amanah.envelope.v1.record\x01\0\0\0\x01"));
}

// ------------------------------------------------------------------ wrapped keys

#[test]
fn wrapped_key_round_trips_through_bytes() {
    let ring = keyring();
    let (dek, wrapped) = ring.new_data_key("tenant-7");
    let bytes = wrapped.to_bytes();
    assert_eq!(bytes.len(), WRAPPED_KEY_LEN);
    assert_eq!(&bytes[..5], &[1, 0, 0, 0, 1]);
    let parsed = WrappedKey::from_bytes(&bytes).unwrap();
    assert_eq!(parsed, wrapped);
    assert_eq!(parsed.kek_version(), 1);
    let again = ring.unwrap(&parsed, "tenant-7").unwrap();
    assert_eq!(*again.bytes, *dek.bytes);
}

#[test]
fn wrapped_key_for_another_owner_fails() {
    let ring = keyring();
    let (_, wrapped) = ring.new_data_key("subject-1");
    assert_eq!(
        ring.unwrap(&wrapped, "subject-2").unwrap_err(),
        EnvelopeError::Forged
    );
    assert_eq!(
        ring.unwrap(&wrapped, "").unwrap_err(),
        EnvelopeError::Forged
    );
    assert_eq!(
        ring.rewrap(&wrapped, "subject-2").unwrap_err(),
        EnvelopeError::Forged
    );
    assert!(ring.unwrap(&wrapped, "subject-1").is_ok());
}

#[test]
fn every_flipped_bit_of_a_wrapped_key_is_detected() {
    let ring = keyring();
    let (_, wrapped) = ring.new_data_key("subject-1");
    let bytes = wrapped.to_bytes();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << bit;
            let result = WrappedKey::from_bytes(&bad).and_then(|w| ring.unwrap(&w, "subject-1"));
            let err = result.unwrap_err();
            match i {
                0 => assert_eq!(err, EnvelopeError::UnknownFormat),
                // The version: only version 1 exists, so the lookup fails
                // (or the version is 0, which no key has).
                1..=4 => assert!(
                    matches!(
                        err,
                        EnvelopeError::UnknownKeyVersion { version } if version != 1
                    ) || (i == 4 && bit == 0 && err == EnvelopeError::Malformed),
                    "byte {i} bit {bit}: {err:?}"
                ),
                _ => assert_eq!(err, EnvelopeError::Forged, "byte {i} bit {bit}"),
            }
        }
    }
}

#[test]
fn relabelled_wrapped_key_is_forged() {
    // Two KEKs; a key wrapped under 2 relabelled as 1 meets the wrong KEK
    // and an AAD naming another version.
    let mut ring = keyring();
    ring.rotate(1_700_000_100);
    let (_, wrapped) = ring.new_data_key("s");
    let mut bytes = wrapped.to_bytes();
    bytes[4] = 1;
    let relabelled = WrappedKey::from_bytes(&bytes).unwrap();
    assert_eq!(relabelled.kek_version(), 1);
    assert_eq!(
        ring.unwrap(&relabelled, "s").unwrap_err(),
        EnvelopeError::Forged
    );
}

#[test]
fn truncated_wrapped_keys_are_malformed() {
    let (_, wrapped) = keyring().new_data_key("s");
    let bytes = wrapped.to_bytes();
    for cut in 0..bytes.len() {
        assert_eq!(
            WrappedKey::from_bytes(&bytes[..cut]),
            Err(EnvelopeError::Malformed),
            "{cut}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        WrappedKey::from_bytes(&longer),
        Err(EnvelopeError::Malformed)
    );
    let mut zero_version = bytes.clone();
    zero_version[1..5].fill(0);
    assert_eq!(
        WrappedKey::from_bytes(&zero_version),
        Err(EnvelopeError::Malformed)
    );
}

// ------------------------------------------------------------------ keyring

#[test]
fn keyring_construction_errors() {
    assert_eq!(
        Keyring::new(vec![]).unwrap_err(),
        EnvelopeError::EmptyKeyring
    );
    let dup = vec![
        Kek::generate(1, 0).unwrap(),
        Kek::generate(2, 0).unwrap(),
        Kek::generate(2, 5).unwrap(),
    ];
    assert_eq!(
        Keyring::new(dup).unwrap_err(),
        EnvelopeError::DuplicateKeyVersion { version: 2 }
    );
    assert_eq!(
        Kek::generate(0, 0).unwrap_err(),
        EnvelopeError::InvalidKeyVersion { version: 0 }
    );
    // The highest version is current, whatever the order given.
    let ring = Keyring::new(vec![
        Kek::generate(3, 30).unwrap(),
        Kek::generate(1, 10).unwrap(),
    ])
    .unwrap();
    assert_eq!(ring.current_version(), 3);
    assert_eq!(ring.min_decryption_version(), 1);
    assert_eq!(ring.keks().map(Kek::version).collect::<Vec<_>>(), [1, 3]);
}

#[test]
fn rotation_moves_new_writes_and_keeps_old_keys() {
    let t0 = 1_700_000_000;
    let mut ring = keyring();
    let (dek1, wrapped1) = ring.new_data_key("subject-1");
    let a = aad("rec-1", "subject-1");
    let record = dek1.encrypt(&a, b"written under KEK 1");
    assert!(!ring.needs_rewrap(&wrapped1));

    let kek = ring.rotate(t0 + 10);
    assert_eq!((kek.version(), kek.created_at()), (2, t0 + 10));
    assert_eq!(ring.current_version(), 2);
    let (_, wrapped2) = ring.new_data_key("subject-2");
    assert_eq!(wrapped2.kek_version(), 2);
    assert!(ring.needs_rewrap(&wrapped1));
    assert!(!ring.needs_rewrap(&wrapped2));

    // The old wrapped key still unwraps and still opens its record.
    let dek1_again = ring.unwrap(&wrapped1, "subject-1").unwrap();
    assert_eq!(
        dek1_again.decrypt(&a, &record).unwrap().as_slice(),
        b"written under KEK 1"
    );
    assert_eq!(ring.rotate(t0 + 20).version(), 3);
    assert_eq!(ring.keks().map(Kek::version).collect::<Vec<_>>(), [1, 2, 3]);
}

#[test]
fn rewrap_moves_a_key_to_the_current_version_unchanged() {
    let mut ring = keyring();
    let (dek, wrapped1) = ring.new_data_key("subject-1");
    let a = aad("rec-1", "subject-1");
    let record = dek.encrypt(&a, b"old record");
    ring.rotate(1_700_000_500);
    let wrapped2 = ring.rewrap(&wrapped1, "subject-1").unwrap();
    assert_eq!(wrapped2.kek_version(), 2);
    assert_ne!(wrapped2.as_bytes(), wrapped1.as_bytes());
    let dek2 = ring.unwrap(&wrapped2, "subject-1").unwrap();
    assert_eq!(*dek2.bytes, *dek.bytes);
    assert_eq!(dek2.decrypt(&a, &record).unwrap().as_slice(), b"old record");
    // Bound to its owner as before.
    assert_eq!(
        ring.unwrap(&wrapped2, "subject-2").unwrap_err(),
        EnvelopeError::Forged
    );
}

#[test]
fn retired_versions_are_refused() {
    let mut ring = keyring();
    let (_, wrapped1) = ring.new_data_key("s");
    ring.rotate(1_700_000_500);
    let (_, wrapped2) = ring.new_data_key("s");
    let rewrapped = ring.rewrap(&wrapped1, "s").unwrap();

    ring.set_min_decryption_version(2).unwrap();
    assert_eq!(ring.min_decryption_version(), 2);
    let retired = EnvelopeError::KeyVersionRetired { version: 1 };
    assert_eq!(ring.unwrap(&wrapped1, "s").unwrap_err(), retired);
    assert_eq!(ring.rewrap(&wrapped1, "s").unwrap_err(), retired);
    assert!(ring.unwrap(&wrapped2, "s").is_ok());
    assert!(ring.unwrap(&rewrapped, "s").is_ok());

    assert_eq!(
        ring.set_min_decryption_version(3),
        Err(EnvelopeError::InvalidKeyVersion { version: 3 })
    );
    assert_eq!(
        ring.set_min_decryption_version(0),
        Err(EnvelopeError::InvalidKeyVersion { version: 0 })
    );
    assert_eq!(ring.min_decryption_version(), 2);
    // It may be lowered again.
    ring.set_min_decryption_version(1).unwrap();
    assert!(ring.unwrap(&wrapped1, "s").is_ok());
}

#[test]
fn unknown_versions_are_refused() {
    let mut other = keyring();
    other.rotate(1_700_000_500);
    let (_, wrapped) = other.new_data_key("s");
    assert_eq!(
        keyring().unwrap(&wrapped, "s").unwrap_err(),
        EnvelopeError::UnknownKeyVersion { version: 2 }
    );
    // Same version number, different KEK.
    let (_, wrapped1) = keyring().new_data_key("s");
    assert_eq!(
        keyring().unwrap(&wrapped1, "s").unwrap_err(),
        EnvelopeError::Forged
    );
}

#[test]
fn rotation_is_due_after_the_period() {
    let t0 = 1_700_000_000;
    let mut ring = keyring();
    let period = DEFAULT_ROTATION_PERIOD_SECS;
    assert_eq!(period, 7_776_000);
    assert!(!ring.needs_rotation(t0, period));
    assert!(!ring.needs_rotation(t0 + period - 1, period));
    assert!(ring.needs_rotation(t0 + period, period));
    assert!(!ring.needs_rotation(t0 - 5, period), "clock behind the KEK");
    ring.rotate(t0 + period);
    assert!(!ring.needs_rotation(t0 + period, period));
    assert!(ring.needs_rotation(t0 + 2 * period, period));
}

#[test]
fn keyring_persists_through_sealed_keks() {
    let root = RootKey::generate();
    let mut ring = keyring();
    let (_, w1) = ring.new_data_key("s");
    ring.rotate(1_700_000_500);
    let (_, w2) = ring.new_data_key("s");
    let stored: Vec<Vec<u8>> = ring.keks().map(|k| root.seal_kek(k)).collect();

    let loaded = Keyring::new(
        stored
            .iter()
            .map(|s| root.open_kek(s))
            .collect::<Result<Vec<_>, _>>()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(loaded.current_version(), 2);
    assert_eq!(
        *loaded.unwrap(&w1, "s").unwrap().bytes,
        *ring.unwrap(&w1, "s").unwrap().bytes
    );
    assert!(loaded.unwrap(&w2, "s").is_ok());
}

// ------------------------------------------------------------------ sealed KEKs

#[test]
fn sealed_kek_round_trips() {
    let root = RootKey::generate();
    let kek = Kek::generate(5, 1_700_000_123).unwrap();
    let sealed = root.seal_kek(&kek);
    assert_eq!(sealed.len(), SEALED_KEK_LEN);
    assert_eq!(&sealed[..5], &[1, 0, 0, 0, 5]);
    let opened = root.open_kek(&sealed).unwrap();
    assert_eq!(opened.version(), 5);
    assert_eq!(opened.created_at(), 1_700_000_123);
    assert_eq!(*opened.bytes, *kek.bytes);
    assert_ne!(root.seal_kek(&kek), sealed, "fresh nonce");
    assert_eq!(
        RootKey::generate().open_kek(&sealed).unwrap_err(),
        EnvelopeError::Forged
    );
}

#[test]
fn relabelled_sealed_kek_is_forged() {
    let root = RootKey::generate();
    let sealed = root.seal_kek(&Kek::generate(1, 1_700_000_000).unwrap());
    let mut as_v2 = sealed.clone();
    as_v2[1..5].copy_from_slice(&2u32.to_be_bytes());
    assert_eq!(root.open_kek(&as_v2).unwrap_err(), EnvelopeError::Forged);
    let mut younger = sealed.clone();
    younger[5..13].copy_from_slice(&1_800_000_000u64.to_be_bytes());
    assert_eq!(root.open_kek(&younger).unwrap_err(), EnvelopeError::Forged);

    for i in 0..sealed.len() {
        for bit in 0..8 {
            let mut bad = sealed.clone();
            bad[i] ^= 1 << bit;
            let expected = if i == 0 {
                EnvelopeError::UnknownFormat
            } else {
                EnvelopeError::Forged
            };
            assert_eq!(root.open_kek(&bad).unwrap_err(), expected, "byte {i}");
        }
    }
    for cut in 0..sealed.len() {
        assert_eq!(
            root.open_kek(&sealed[..cut]).unwrap_err(),
            EnvelopeError::Malformed
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert_eq!(
        root.open_kek(&longer).unwrap_err(),
        EnvelopeError::Malformed
    );
}

// ------------------------------------------------------------------ root key

#[test]
fn root_key_from_base64() {
    let key = RootKey::generate();
    let text = key.to_base64();
    assert_eq!(text.expose().len(), 44);
    assert!(text.expose().ends_with('='));
    let back = RootKey::from_base64(text.expose()).unwrap();
    assert_eq!(*back.0, *key.0);
    // A key file's trailing newline is fine.
    let back = RootKey::from_base64(&format!("  {}\n", text.expose())).unwrap();
    assert_eq!(*back.0, *key.0);
    // `openssl rand -base64 32`-style known value.
    let known = RootKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
    assert_eq!(*known.0, *key_from(0));
}

#[test]
fn root_key_errors_are_clear_and_hide_the_input() {
    let not_base64 =
        EnvelopeError::InvalidRootKey("it is not standard base64 (A-Z a-z 0-9 + / with = padding)");
    let wrong_len =
        EnvelopeError::InvalidRootKey("it must decode to exactly 32 bytes (44 base64 characters)");
    let b31 = crate::base64::encode_standard(&[7u8; 31]);
    let b33 = crate::base64::encode_standard(&[7u8; 33]);
    let url = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-_";
    let unpadded = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    for (input, expected) in [
        ("", &wrong_len),
        (b31.as_str(), &wrong_len),
        (b33.as_str(), &wrong_len),
        (url, &not_base64),
        (unpadded, &not_base64),
        ("AAECAwQFBgcICQoLDA0O DxAREhMUFRYXGBkaGxwdHh8=", &not_base64),
        ("secret-passphrase-not-a-key!", &not_base64),
    ] {
        let err = RootKey::from_base64(input).unwrap_err();
        assert_eq!(&err, expected, "{input:?}");
        if !input.is_empty() {
            assert!(!err.to_string().contains(input));
        }
    }
    assert_eq!(
        wrong_len.to_string(),
        "root key is invalid: it must decode to exactly 32 bytes (44 base64 characters)"
    );
    assert!(RootKey::from_bytes(&[0; 31]).is_err());
    assert!(RootKey::from_bytes(&[0; 32]).is_ok());
}

#[test]
fn static_provider_gives_its_key() {
    let key = RootKey::generate();
    let provider: Box<dyn KeyProvider> = Box::new(StaticKeyProvider::new(key.clone()));
    assert_eq!(*provider.root_key().unwrap().0, *key.0);
    assert_eq!(provider.describe(), "static key (tests only)");
    let err = ProviderError::Invalid {
        provider: "file /etc/amanah/root.key".into(),
        error: EnvelopeError::InvalidRootKey("it must be exactly 32 bytes"),
    };
    assert_eq!(
        err.to_string(),
        "file /etc/amanah/root.key: root key is invalid: it must be exactly 32 bytes"
    );
}

// ------------------------------------------------------------------ Debug

/// Every spelling of `key` that a careless `Debug` could print.
fn spellings(key: &[u8; KEY_LEN]) -> Vec<String> {
    let lower = encode_hex(key);
    vec![
        lower.clone(),
        lower.to_uppercase(),
        lower[..16].to_owned(),
        crate::base64::encode_standard(key),
        crate::base64::encode_standard(key)[..12].to_owned(),
        format!("{:?}", &key[..8]),
        format!("{key:?}")[1..30].to_owned(),
    ]
}

fn assert_hidden(shown: &str, key: &[u8; KEY_LEN]) {
    for s in spellings(key) {
        assert!(!shown.contains(&s), "{shown} contains {s}");
    }
}

#[test]
fn debug_output_hides_every_key() {
    let root = RootKey::generate();
    let shown = format!("{root:?} {root:#?}");
    assert_eq!(format!("{root:?}"), "RootKey(***)");
    assert_hidden(&shown, &root.0);
    let provider = StaticKeyProvider::new(root.clone());
    assert_hidden(&format!("{provider:?} {provider:#?}"), &root.0);

    let mut ring = keyring();
    ring.rotate(1_700_000_100);
    let kek = ring.current();
    let shown = format!("{kek:?}");
    assert_eq!(shown, "Kek { version: 2, created_at: 1700000100, .. }");
    assert_hidden(&format!("{shown} {kek:#?}"), &kek.bytes);

    let shown = format!("{ring:?} {ring:#?}");
    assert_eq!(
        format!("{ring:?}"),
        "Keyring { versions: [1, 2], current: 2, min_decryption_version: 1 }"
    );
    for kek in ring.keks() {
        assert_hidden(&shown, &kek.bytes);
    }

    let (dek, wrapped) = ring.new_data_key("s");
    assert_eq!(format!("{dek:?}"), "DataKey(***)");
    assert_hidden(&format!("{dek:?} {dek:#?} {wrapped:?}"), &dek.bytes);
    assert_eq!(format!("{wrapped:?}"), "WrappedKey { kek_version: 2, .. }");
}

#[test]
fn errors_carry_no_detail() {
    assert_eq!(
        EnvelopeError::Forged.to_string(),
        "encrypted value failed authentication"
    );
    assert_eq!(
        EnvelopeError::KeyVersionRetired { version: 1 }.to_string(),
        "key version 1 is retired"
    );
    assert_eq!(
        EnvelopeError::UnknownKeyVersion { version: 9 }.to_string(),
        "key version 9 is unknown"
    );
}

#[test]
fn keys_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<RootKey>();
    shared::<Kek>();
    shared::<Keyring>();
    shared::<DataKey>();
    shared::<WrappedKey>();
    shared::<StaticKeyProvider>();
    shared::<EnvelopeError>();
    shared::<ProviderError>();
    let _: &dyn KeyProvider = &StaticKeyProvider::new(RootKey::generate());
}

// ------------------------------------------------------------------ properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_record_round_trips(
        plaintext in proptest::collection::vec(any::<u8>(), 0..2048),
        record_id in ".{0,40}",
        subject in ".{0,40}",
        kind in ".{0,20}",
        key_version in any::<u32>(),
    ) {
        let (dek, _) = keyring().new_data_key(&subject);
        let a = RecordAad {
            record_id: &record_id,
            subject: &subject,
            kind: &kind,
            key_version,
            data_class: &kind,
            region: Some(&subject),
            purpose: None,
        };
        let ct = dek.encrypt(&a, &plaintext);
        prop_assert_eq!(ct.len(), plaintext.len() + RECORD_OVERHEAD);
        prop_assert_eq!(ciphertext_key_version(&ct), Ok(key_version));
        let opened = dek.decrypt(&a, &ct).unwrap();
        prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        let moved = RecordAad { record_id: &format!("{record_id}x"), ..a };
        prop_assert_eq!(dek.decrypt(&moved, &ct), Err(EnvelopeError::Forged));
    }

    #[test]
    fn any_owner_binds_its_wrapped_key(owner in ".{0,40}", other in ".{0,40}") {
        let ring = keyring();
        let (dek, wrapped) = ring.new_data_key(&owner);
        let back = ring.unwrap(&WrappedKey::from_bytes(&wrapped.to_bytes()).unwrap(), &owner).unwrap();
        prop_assert_eq!(*back.bytes, *dek.bytes);
        if other != owner {
            prop_assert_eq!(ring.unwrap(&wrapped, &other).unwrap_err(), EnvelopeError::Forged);
        }
    }

    #[test]
    fn root_key_base64_round_trips(bytes in proptest::array::uniform32(any::<u8>())) {
        let key = RootKey::from_bytes(&bytes).unwrap();
        let back = RootKey::from_base64(key.to_base64().expose()).unwrap();
        prop_assert_eq!(*back.0, bytes);
    }
}
