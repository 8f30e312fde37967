//! The byte formats: known answers from the Python reference in
//! `docs/AUDIT_FORMAT.md`, the JSON form, the detail hasher, keys and
//! checkpoints.

use amanah_audit::{
    event_hash, parse_checkpoint_file, Chain, Checkpoint, CheckpointPolicy, DetailHasher,
    DetailValue, Event, Outcome, SigningKey, VerifyingKey, GENESIS_HASH,
};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The detail key of the known-answer test: bytes 0, 1, …, 31.
fn kat_hasher() -> DetailHasher {
    DetailHasher::new(&(0u8..32).collect::<Vec<_>>()).unwrap()
}

fn kat_events() -> (Event, Event) {
    let e1 = Event::new(
        1_795_000_000_000,
        "gw-1",
        "user:alice",
        "model.invoke",
        "route:chat",
        Outcome::Success,
    )
    .with_client_ip("203.0.113.7")
    .with_request_id("req-1")
    .with_detail("status", "200")
    .with_hashed_detail(&kat_hasher(), "user.email", "alice@example.org");
    let e2 = Event::new(-1, "gw-1", "", "login", "user:bob", Outcome::Denied);
    (e1, e2)
}

// Printed by `python3 audit_ref.py` (docs/AUDIT_FORMAT.md).
const KAT_HMAC1: &str = "c91acb3ae987e1471f039731e1d85fca5f2c012a26f327569506e6e84820d72d";
const KAT_CANONICAL1: &str = "010000000000000001000001a1ee565e00000000000000000467772d31000000000000000a757365723a616c696365000000000000000c6d6f64656c2e696e766f6b65000000000000000a726f7574653a6368617400000000000000077375636365737301000000000000000b3230332e302e3131332e370100000000000000057265712d3100000000000000020000000000000006737461747573000000000000000003323030000000000000000a757365722e656d61696c01c91acb3ae987e1471f039731e1d85fca5f2c012a26f327569506e6e84820d72d";
const KAT_HASH1: &str = "8cb472625b51a29be7723dac03c6e7b55400bba5dfb5205c7518bea94d568a29";
const KAT_CANONICAL2: &str = "010000000000000002ffffffffffffffff000000000000000467772d31000000000000000000000000000000056c6f67696e0000000000000008757365723a626f62000000000000000664656e69656400000000000000000000";
const KAT_HASH2: &str = "b50ff3381897824bf18f903b287f94d69bb1438affdb9529a21ee4a1c1ace3b9";
const KAT_KEY_ID: &str = "fe812c12f3ab4ce6";
const KAT_SIGNATURE: &str = "438754c4fd737a0268a9d825598623a4e496c05daf2c1c4764fb707019330eb322df6b7546f3cecca4a2a21fa6f1208e98ef71cb7a94056738757db333660e04";

#[test]
fn canonical_bytes_and_hashes_match_the_python_reference() {
    let (e1, e2) = kat_events();
    let mut chain = Chain::new();
    let c1 = chain.append(e1);
    let c2 = chain.append(e2);
    assert_eq!(
        c1.event.details["user.email"],
        DetailValue::Hmac(hex_array(KAT_HMAC1))
    );
    assert_eq!(hex(&c1.event.canonical_bytes()), KAT_CANONICAL1);
    assert_eq!(c1.prev_hash, GENESIS_HASH);
    assert_eq!(hex(&c1.hash), KAT_HASH1);
    assert_eq!(hex(&c2.event.canonical_bytes()), KAT_CANONICAL2);
    assert_eq!(c2.prev_hash, c1.hash);
    assert_eq!(hex(&c2.hash), KAT_HASH2);
    assert_eq!(event_hash(&c1.hash, &c2.event), c2.hash);
}

#[test]
fn checkpoint_signature_matches_the_python_reference() {
    let key = SigningKey::from_seed(&[7u8; 32]).unwrap();
    assert_eq!(key.verifying_key().key_id(), KAT_KEY_ID);
    let cp = key.sign(2, hex_array(KAT_HASH2), 1_795_000_001_000, "gw-1");
    assert_eq!(cp.key_id, KAT_KEY_ID);
    // Ed25519 is deterministic (RFC 8032).
    assert_eq!(hex(&cp.signature), KAT_SIGNATURE);
    key.verifying_key().verify(&cp).unwrap();
}

fn hex_array<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn json_form_is_pinned_and_round_trips() {
    let (e1, e2) = kat_events();
    let mut chain = Chain::new();
    let c1 = chain.append(e1);
    let c2 = chain.append(e2);
    assert_eq!(
        c1.event.to_json(),
        format!(
            "{{\"v\":1,\"seq\":1,\"time_unix_ms\":1795000000000,\"node\":\"gw-1\",\
             \"actor\":\"user:alice\",\"action\":\"model.invoke\",\"resource\":\"route:chat\",\
             \"outcome\":\"success\",\"client_ip\":\"203.0.113.7\",\"request_id\":\"req-1\",\
             \"details\":{{\"status\":\"200\",\"user.email\":{{\"hmac_sha256\":\"{KAT_HMAC1}\"}}}}}}"
        )
    );
    assert_eq!(
        c2.event.to_json(),
        "{\"v\":1,\"seq\":2,\"time_unix_ms\":-1,\"node\":\"gw-1\",\"actor\":\"\",\
         \"action\":\"login\",\"resource\":\"user:bob\",\"outcome\":\"denied\",\"details\":{}}"
    );
    for c in [c1, c2] {
        let back = Event::from_json(&c.event.to_json()).unwrap();
        assert_eq!(back, c.event);
        assert_eq!(event_hash(&c.prev_hash, &back), c.hash);
    }
}

#[test]
fn from_json_accepts_null_optionals_and_any_member_order() {
    let e = Event::from_json(
        r#"{"details":{},"outcome":"error","resource":"r","action":"a","actor":"x",
            "node":"n","time_unix_ms":5,"seq":9,"v":1,"client_ip":null}"#,
    )
    .unwrap();
    assert_eq!(e.seq, 9);
    assert_eq!(e.outcome, Outcome::Error);
    assert_eq!(e.client_ip, None);
}

#[test]
fn from_json_refuses_bad_inputs() {
    let good = r#"{"v":1,"seq":1,"time_unix_ms":0,"node":"n","actor":"a","action":"x","resource":"r","outcome":"success","details":{}}"#;
    Event::from_json(good).unwrap();
    let bad = [
        (
            "unknown member",
            good.replace("\"details\"", "\"extra\":1,\"details\""),
        ),
        ("version 2", good.replace("\"v\":1", "\"v\":2")),
        ("no version", good.replace("\"v\":1,", "")),
        ("no details", good.replace(",\"details\":{}", "")),
        (
            "duplicate member",
            good.replace("\"node\":\"n\"", "\"node\":\"n\",\"node\":\"m\""),
        ),
        ("unknown outcome", good.replace("success", "ok")),
        ("negative seq", good.replace("\"seq\":1", "\"seq\":-1")),
        ("seq as string", good.replace("\"seq\":1", "\"seq\":\"1\"")),
        ("trailing data", format!("{good} x")),
        ("detail number", good.replace("{}", "{\"a\":1}")),
        ("detail null", good.replace("{}", "{\"a\":null}")),
        (
            "duplicate detail",
            good.replace("{}", "{\"a\":\"1\",\"a\":\"2\"}"),
        ),
        (
            "uppercase hex",
            good.replace(
                "{}",
                &format!("{{\"a\":{{\"hmac_sha256\":\"{}\"}}}}", "AB".repeat(32)),
            ),
        ),
        (
            "short hex",
            good.replace(
                "{}",
                &format!("{{\"a\":{{\"hmac_sha256\":\"{}\"}}}}", "ab".repeat(31)),
            ),
        ),
        (
            "non-hex",
            good.replace(
                "{}",
                &format!("{{\"a\":{{\"hmac_sha256\":\"{}\"}}}}", "zz".repeat(32)),
            ),
        ),
        (
            "other hash member",
            good.replace(
                "{}",
                &format!("{{\"a\":{{\"sha1\":\"{}\"}}}}", "ab".repeat(32)),
            ),
        ),
        (
            "two hash members",
            good.replace(
                "{}",
                &format!(
                    "{{\"a\":{{\"hmac_sha256\":\"{0}\",\"hmac_sha256\":\"{0}\"}}}}",
                    "ab".repeat(32)
                ),
            ),
        ),
        ("empty object", good.replace("{}", "{\"a\":{}}")),
        ("array", "[]".to_owned()),
        ("empty", String::new()),
    ];
    for (what, json) in bad {
        assert!(Event::from_json(&json).is_err(), "{what}: {json}");
    }
}

#[test]
fn hashed_details_never_hold_the_clear_value() {
    let secret = "alice.secret@example.org";
    let hasher = kat_hasher();
    let e = Event::new(0, "gw-1", "user:x", "login", "user:alice", Outcome::Success)
        .with_hashed_detail(&hasher, "user.email", secret)
        .with_hashed_detail(&hasher, "client.ip", "198.51.100.23");
    let canonical = e.canonical_bytes();
    let json = e.to_json();
    let debug = format!("{e:?}");
    for text in [secret, "198.51.100.23", "alice.secret"] {
        assert!(
            !canonical.windows(text.len()).any(|w| w == text.as_bytes()),
            "{text} in canonical bytes"
        );
        assert!(!json.contains(text), "{text} in JSON");
        assert!(!debug.contains(text), "{text} in Debug");
    }
    assert!(hasher.matches("user.email", secret, &e.details["user.email"]));
    assert!(!hasher.matches("user.email", "bob@example.org", &e.details["user.email"]));
    // The same value in another field hashes differently.
    assert_ne!(hasher.hash("a", "v"), hasher.hash("b", "v"));
    // Field and value boundaries are length-prefixed.
    assert_ne!(hasher.hash("ab", "c"), hasher.hash("a", "bc"));
    // Another key, another hash.
    let other = DetailHasher::new(&[1u8; 32]).unwrap();
    assert_ne!(other.hash("a", "v"), hasher.hash("a", "v"));
    assert!(DetailHasher::new(&[1u8; 31]).is_err());
    assert_eq!(format!("{hasher:?}"), "DetailHasher(***)");
}

#[test]
fn keys_load_from_seed_pkcs8_and_base64() {
    let pkcs8 = SigningKey::generate_pkcs8();
    let key = SigningKey::from_pkcs8(&pkcs8).unwrap();
    let public = key.verifying_key().clone();
    assert_eq!(
        VerifyingKey::from_base64(&format!(" {}\n", public.to_base64())).unwrap(),
        public
    );
    assert_eq!(VerifyingKey::from_bytes(public.as_bytes()).unwrap(), public);
    assert!(VerifyingKey::from_base64("AAAA").is_err());
    assert!(VerifyingKey::from_bytes(&[0u8; 31]).is_err());
    assert!(SigningKey::from_seed(&[0u8; 31]).is_err());
    assert!(SigningKey::from_pkcs8(b"not a key").is_err());
    let debug = format!("{key:?}");
    assert!(debug.contains(&public.key_id()), "{debug}");
    let cp = key.sign(1, [3u8; 32], 10, "gw-1");
    public.verify(&cp).unwrap();
    let other = SigningKey::from_seed(&[8u8; 32]).unwrap();
    assert!(other.verifying_key().verify(&cp).is_err());
}

#[test]
fn checkpoint_text_round_trips_and_is_strict() {
    let key = SigningKey::from_seed(&[7u8; 32]).unwrap();
    let cp = key.sign(40, [0xab; 32], 1_795_000_000_000, "gw-1");
    let text = cp.to_text();
    assert!(!text.contains('\n'));
    assert_eq!(Checkpoint::from_text(&text).unwrap(), cp);
    assert_eq!(Checkpoint::from_text(&format!("{text}\n")).unwrap(), cp);
    let file = format!("{text}\n\n{}\n", key.sign(50, [1; 32], 2, "gw-1").to_text());
    assert_eq!(parse_checkpoint_file(&file).unwrap().len(), 2);
    let err = parse_checkpoint_file(&format!("{text}\nnot json\n")).unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    for bad in [
        text.replace("\"v\":1", "\"v\":2"),
        text.replace("\"seq\":40", "\"seq\":40,\"extra\":true"),
        text.replace(&"ab".repeat(32), &"AB".repeat(32)),
        text.replace(&"ab".repeat(32), &"ab".repeat(31)),
        text.replace("\"signature\":\"", "\"signature\":\"00"),
        String::new(),
    ] {
        assert!(Checkpoint::from_text(&bad).is_err(), "{bad}");
    }
}

#[test]
fn checkpoint_policy_counts_events_and_time() {
    let key = SigningKey::from_seed(&[7u8; 32]).unwrap();
    let p = CheckpointPolicy {
        every_events: 10,
        every_secs: 60,
    };
    assert!(!p.due(None, 0, 0));
    assert!(p.due(None, 0, 1)); // a new chain is anchored at once
    let last = key.sign(10, [0; 32], 1_000_000, "n");
    assert!(!p.due(Some(&last), 1_000_000, 10)); // nothing new
    assert!(!p.due(Some(&last), 1_059_999, 19));
    assert!(p.due(Some(&last), 1_060_000, 11));
    assert!(p.due(Some(&last), 1_000_001, 20));
    let count_only = CheckpointPolicy {
        every_events: 10,
        every_secs: 0,
    };
    assert!(!count_only.due(None, i64::MAX, 9));
    assert!(count_only.due(None, 0, 10));
    assert!(!count_only.due(Some(&last), i64::MAX, 19));
    let time_only = CheckpointPolicy {
        every_events: 0,
        every_secs: 60,
    };
    assert!(!time_only.due(Some(&last), 1_059_999, 1_000));
    assert!(time_only.due(Some(&last), 1_060_000, 11));
    assert!(!time_only.due(Some(&last), i64::MIN, 11));
}

#[test]
fn an_empty_chain_has_no_checkpoint() {
    let key = SigningKey::from_seed(&[7u8; 32]).unwrap();
    let mut chain = Chain::new();
    assert!(chain.checkpoint(&key, "gw-1", 0).is_none());
    chain.append(Event::new(0, "n", "a", "x", "r", Outcome::Success));
    let cp = chain.checkpoint(&key, "gw-1", 5).unwrap();
    assert_eq!((cp.seq, cp.hash), (1, chain.last_hash()));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn detail_value() -> impl Strategy<Value = DetailValue> {
        prop_oneof![
            ".{0,12}".prop_map(DetailValue::Clear),
            any::<[u8; 32]>().prop_map(DetailValue::Hmac),
        ]
    }

    prop_compose! {
        fn event()(
            seq in any::<u64>(),
            time_unix_ms in any::<i64>(),
            node in ".{0,8}",
            actor in ".{0,8}",
            action in ".{0,8}",
            resource in ".{0,8}",
            outcome in prop_oneof![
                Just(Outcome::Success), Just(Outcome::Failure),
                Just(Outcome::Denied), Just(Outcome::Error)
            ],
            client_ip in proptest::option::of(".{0,8}"),
            request_id in proptest::option::of(".{0,8}"),
            details in proptest::collection::btree_map(".{0,6}", detail_value(), 0..4),
        ) -> Event {
            Event {
                seq, time_unix_ms, node, actor, action, resource, outcome,
                client_ip, request_id, details,
            }
        }
    }

    proptest! {
        #[test]
        fn json_round_trips(e in event()) {
            let back = Event::from_json(&e.to_json()).unwrap();
            prop_assert_eq!(&back, &e);
            prop_assert_eq!(back.canonical_bytes(), e.canonical_bytes());
        }

        /// Different events never share canonical bytes (so never a hash).
        #[test]
        fn canonical_bytes_are_injective(a in event(), b in event()) {
            prop_assert_eq!(a == b, a.canonical_bytes() == b.canonical_bytes());
        }

        /// Moving bytes between adjacent fields changes the encoding.
        #[test]
        fn field_boundaries_are_unambiguous(s in ".{1,10}", cut in 0usize..10) {
            let cut = s.char_indices().map(|(i, _)| i).nth(cut % s.chars().count()).unwrap();
            let a = Event::new(0, "", s.clone(), "", "", Outcome::Success);
            let b = Event::new(0, "", &s[..cut], &s[cut..], "", Outcome::Success);
            prop_assert_ne!(a.canonical_bytes(), b.canonical_bytes());
        }

        #[test]
        fn checkpoint_text_round_trips(
            seq in any::<u64>(), hash in any::<[u8; 32]>(), time in any::<i64>(), node in ".{0,12}"
        ) {
            let key = SigningKey::from_seed(&[7u8; 32]).unwrap();
            let cp = key.sign(seq, hash, time, &node);
            let back = Checkpoint::from_text(&cp.to_text()).unwrap();
            prop_assert!(key.verifying_key().verify(&back).is_ok());
            prop_assert_eq!(back, cp);
        }
    }
}
