//! Unit tests with real signatures made by `ring`, and the negative corpus:
//! one test (or one case in a table) per way a token must fail.

use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair};
use serde_json::{json, Value};

use super::key::pem_der_for_tests;
use super::*;
use crate::base64::encode_url;
use crate::SecretString;

const NOW: i64 = 1_700_000_000;
const ISS: &str = "https://idp.example.test";
const SECRET: &str = "test-only-hmac-secret-0123456789-abcdefghijklmnop";
const RSA_PRIVATE: &str = include_str!("../../tests/fixtures/test_rsa2048_private.pkcs8.pem");
const RSA_PUBLIC: &str = include_str!("../../tests/fixtures/test_rsa2048_public.spki.pem");
const RSA_PUBLIC_PKCS1: &str = include_str!("../../tests/fixtures/test_rsa2048_public.pkcs1.pem");
const RSA_1024: &str = include_str!("../../tests/fixtures/test_rsa1024_public_too_small.spki.pem");
const P256_PUBLIC: &str = include_str!("../../tests/fixtures/test_p256_public.spki.pem");
const P384_PUBLIC: &str = include_str!("../../tests/fixtures/test_p384_public.spki.pem");
const P521_PUBLIC: &str =
    include_str!("../../tests/fixtures/test_p521_public_unsupported.spki.pem");
const ED25519_PUBLIC: &str = include_str!("../../tests/fixtures/test_ed25519_public.spki.pem");

/// Something that signs test tokens.
enum Signer {
    Hmac(Vec<u8>),
    Rsa(signature::RsaKeyPair),
    Ec(signature::EcdsaKeyPair),
    Ed(signature::Ed25519KeyPair),
}

impl Signer {
    fn sign(&self, alg: Algorithm, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Self::Hmac(secret) => {
                let h = match alg {
                    Algorithm::HS256 => ring::hmac::HMAC_SHA256,
                    Algorithm::HS384 => ring::hmac::HMAC_SHA384,
                    _ => ring::hmac::HMAC_SHA512,
                };
                ring::hmac::sign(&ring::hmac::Key::new(h, secret), input)
                    .as_ref()
                    .to_vec()
            }
            Self::Rsa(kp) => {
                let padding: &dyn signature::RsaEncoding = match alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    _ => &signature::RSA_PSS_SHA256,
                };
                let mut sig = vec![0; kp.public().modulus_len()];
                kp.sign(padding, &rng, input, &mut sig).unwrap();
                sig
            }
            Self::Ec(kp) => kp.sign(&rng, input).unwrap().as_ref().to_vec(),
            Self::Ed(kp) => kp.sign(input).as_ref().to_vec(),
        }
    }
}

fn mint_raw(header: &[u8], payload: &[u8], signer: &Signer, alg: Algorithm) -> String {
    let input = format!("{}.{}", encode_url(header), encode_url(payload));
    let sig = signer.sign(alg, input.as_bytes());
    format!("{input}.{}", encode_url(&sig))
}

fn mint(header: &Value, payload: &Value, signer: &Signer, alg: Algorithm) -> String {
    mint_raw(
        header.to_string().as_bytes(),
        payload.to_string().as_bytes(),
        signer,
        alg,
    )
}

fn header(alg: Algorithm, kid: &str) -> Value {
    json!({"alg": alg.name(), "typ": "JWT", "kid": kid})
}

fn good_claims() -> Value {
    json!({"sub": "user-1", "iss": ISS, "aud": "amanah", "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 600})
}

fn validation() -> Validation {
    Validation::new(Algorithm::ALL)
        .with_issuer(ISS)
        .with_audience("amanah")
}

/// One signer per key type, and a key set holding all their public keys
/// (kids `hmac`, `rsa`, `p256`, `p384`, `ed`).
struct World {
    hmac: Signer,
    rsa: Signer,
    p256: Signer,
    p384: Signer,
    ed: Signer,
    keys: KeySet,
}

fn ec_signer(alg: &'static signature::EcdsaSigningAlgorithm) -> (Signer, Vec<u8>) {
    let rng = SystemRandom::new();
    let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    let kp = signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
    let point = kp.public_key().as_ref().to_vec();
    (Signer::Ec(kp), point)
}

fn ec_jwk(kid: &str, crv: &str, point: &[u8]) -> Value {
    let coord = (point.len() - 1) / 2;
    json!({"kty": "EC", "crv": crv, "kid": kid,
           "x": encode_url(&point[1..1 + coord]), "y": encode_url(&point[1 + coord..])})
}

fn world() -> World {
    let rng = SystemRandom::new();
    let rsa = signature::RsaKeyPair::from_pkcs8(&pem_der_for_tests(RSA_PRIVATE)).unwrap();
    let (p256, p256_point) = ec_signer(&signature::ECDSA_P256_SHA256_FIXED_SIGNING);
    let (p384, p384_point) = ec_signer(&signature::ECDSA_P384_SHA384_FIXED_SIGNING);
    let ed_pkcs8 = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let ed = signature::Ed25519KeyPair::from_pkcs8(ed_pkcs8.as_ref()).unwrap();
    let jwks = json!({"keys": [
        ec_jwk("p256", "P-256", &p256_point),
        ec_jwk("p384", "P-384", &p384_point),
        {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": encode_url(ed.public_key().as_ref())},
    ]});
    let (mut keys, skipped) = KeySet::from_jwks(jwks.to_string().as_bytes()).unwrap();
    assert_eq!(skipped, []);
    keys.push(VerifyingKey::from_pem(RSA_PUBLIC, Some("rsa")).unwrap());
    keys.push(VerifyingKey::hmac(&SecretString::new(SECRET.into()), Some("hmac")).unwrap());
    World {
        hmac: Signer::Hmac(SECRET.as_bytes().to_vec()),
        rsa: Signer::Rsa(rsa),
        p256,
        p384,
        ed: Signer::Ed(ed),
        keys,
    }
}

impl World {
    fn signer_for(&self, alg: Algorithm) -> (&Signer, &'static str) {
        use Algorithm::*;
        match alg {
            HS256 | HS384 | HS512 => (&self.hmac, "hmac"),
            RS256 | RS384 | RS512 | PS256 => (&self.rsa, "rsa"),
            ES256 => (&self.p256, "p256"),
            ES384 => (&self.p384, "p384"),
            EdDSA => (&self.ed, "ed"),
        }
    }

    fn token(&self, alg: Algorithm, claims: &Value) -> String {
        let (signer, kid) = self.signer_for(alg);
        mint(&header(alg, kid), claims, signer, alg)
    }

    fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        verify(token, &self.keys, &validation(), NOW)
    }

    /// Signs `claims` with HS256 and verifies with `v`.
    fn check_claims(&self, claims: &Value, v: &Validation) -> Result<Claims, JwtError> {
        let t = mint(
            &header(Algorithm::HS256, "hmac"),
            claims,
            &self.hmac,
            Algorithm::HS256,
        );
        verify(&t, &self.keys, v, NOW)
    }
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

#[test]
fn every_algorithm_round_trips() {
    let w = world();
    for alg in Algorithm::ALL {
        let t = w.token(alg, &good_claims());
        let c = w.verify(&t).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(c.sub.as_deref(), Some("user-1"));
        assert_eq!(c.aud, ["amanah"]);
        assert_eq!(c.exp, Some(NOW + 600));
    }
}

#[test]
fn every_algorithm_also_without_kid() {
    let w = world();
    for alg in Algorithm::ALL {
        let (signer, _) = w.signer_for(alg);
        let t = mint(&json!({"alg": alg.name()}), &good_claims(), signer, alg);
        w.verify(&t).unwrap_or_else(|e| panic!("{alg}: {e}"));
    }
}

#[test]
fn algorithm_names_are_case_sensitive() {
    for a in Algorithm::ALL {
        assert_eq!(Algorithm::from_name(a.name()), Some(a));
        assert_eq!(Algorithm::from_name(&a.name().to_lowercase()), None);
    }
    for n in [
        "none", "NONE", "None", "nOnE", "", "HS1", "RS1", "ES512", "PS384", "Ed25519",
    ] {
        assert_eq!(Algorithm::from_name(n), None, "{n}");
    }
}

#[test]
fn alg_none_is_refused_with_and_without_signature() {
    let w = world();
    let payload = encode_url(good_claims().to_string().as_bytes());
    for name in ["none", "NONE", "None", "nOnE"] {
        let h = encode_url(json!({"alg": name, "typ": "JWT"}).to_string().as_bytes());
        for sig in ["", "AAAA", &encode_url(b"anything at all")] {
            let t = format!("{h}.{payload}.{sig}");
            assert_eq!(
                w.verify(&t),
                Err(JwtError::UnsupportedAlgorithm),
                "{name} {sig}"
            );
        }
    }
    // Two segments, the other common spelling of an unsigned token.
    let h = encode_url(br#"{"alg":"none"}"#);
    assert!(matches!(
        w.verify(&format!("{h}.{payload}")),
        Err(JwtError::Malformed(_))
    ));
}

#[test]
fn missing_or_non_string_alg() {
    let w = world();
    for h in [
        json!({"typ": "JWT"}),
        json!({"alg": 256}),
        json!({"alg": null}),
        json!({"alg": ["HS256"]}),
    ] {
        let t = mint(&h, &good_claims(), &w.hmac, Algorithm::HS256);
        assert!(matches!(w.verify(&t), Err(JwtError::Malformed(_))), "{h}");
    }
}

#[test]
fn algorithm_not_in_validation_is_refused_before_any_key() {
    let w = world();
    let t = w.token(Algorithm::RS256, &good_claims());
    let v = Validation::new([Algorithm::ES256]).with_issuer(ISS);
    assert_eq!(
        verify(&t, &w.keys, &v, NOW),
        Err(JwtError::AlgorithmNotAllowed)
    );
    let v = Validation::new([]);
    assert_eq!(
        verify(&t, &w.keys, &v, NOW),
        Err(JwtError::AlgorithmNotAllowed)
    );
}

/// The classic: a verifier that picks the key by `kid` and the algorithm
/// from the header would HMAC-verify with the RSA public key's bytes.
#[test]
fn rsa_public_key_as_hmac_secret_is_refused() {
    let w = world();
    let rsa_only: KeySet = [VerifyingKey::from_pem(RSA_PUBLIC, Some("rsa")).unwrap()]
        .into_iter()
        .collect();
    let der = pem_der_for_tests(RSA_PUBLIC);
    let secrets: [&[u8]; 4] = [
        RSA_PUBLIC.as_bytes(),
        RSA_PUBLIC.trim_end().as_bytes(),
        RSA_PUBLIC_PKCS1.as_bytes(),
        &der,
    ];
    for secret in secrets {
        let forger = Signer::Hmac(secret.to_vec());
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let with_kid = mint(&header(alg, "rsa"), &good_claims(), &forger, alg);
            let no_kid = mint(&json!({"alg": alg.name()}), &good_claims(), &forger, alg);
            let v = validation();
            assert_eq!(
                verify(&with_kid, &rsa_only, &v, NOW),
                Err(JwtError::NoMatchingKey)
            );
            assert_eq!(
                verify(&no_kid, &rsa_only, &v, NOW),
                Err(JwtError::NoMatchingKey)
            );
            // A set that holds an HMAC key too: the RSA kid still refuses
            // HS*, and the HMAC key does not know the forger's secret.
            assert_eq!(w.verify(&with_kid), Err(JwtError::NoMatchingKey));
            assert_eq!(w.verify(&no_kid), Err(JwtError::BadSignature));
            let to_hmac_kid = mint(&header(alg, "hmac"), &good_claims(), &forger, alg);
            assert_eq!(w.verify(&to_hmac_kid), Err(JwtError::BadSignature));
        }
    }
}

#[test]
fn keys_verify_only_their_own_algorithm_family() {
    let w = world();
    // Every (token algorithm, key id) pair where the key cannot serve the
    // algorithm must fail before any signature check.
    for alg in Algorithm::ALL {
        let (signer, own_kid) = w.signer_for(alg);
        for kid in ["hmac", "rsa", "p256", "p384", "ed"] {
            if kid == own_kid {
                continue;
            }
            let t = mint(&header(alg, kid), &good_claims(), signer, alg);
            assert_eq!(
                w.verify(&t),
                Err(JwtError::NoMatchingKey),
                "{alg} with {kid}"
            );
        }
    }
}

#[test]
fn es256_token_against_p384_key() {
    let w = world();
    let t = mint(
        &header(Algorithm::ES256, "p384"),
        &good_claims(),
        &w.p256,
        Algorithm::ES256,
    );
    assert_eq!(w.verify(&t), Err(JwtError::NoMatchingKey));
    // Relabelled as ES384: the P-384 key accepts the algorithm, the
    // signature (made on P-256) does not verify.
    let t = mint(
        &header(Algorithm::ES384, "p384"),
        &good_claims(),
        &w.p256,
        Algorithm::ES256,
    );
    assert_eq!(w.verify(&t), Err(JwtError::BadSignature));
}

#[test]
fn pinned_algorithm_is_the_only_one_accepted() {
    let w = world();
    let pinned = VerifyingKey::from_pem(RSA_PUBLIC, Some("rsa"))
        .unwrap()
        .with_alg(Algorithm::RS256)
        .unwrap();
    let set: KeySet = [pinned].into_iter().collect();
    let v = validation();
    assert!(verify(&w.token(Algorithm::RS256, &good_claims()), &set, &v, NOW).is_ok());
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256] {
        let t = w.token(alg, &good_claims());
        assert_eq!(
            verify(&t, &set, &v, NOW),
            Err(JwtError::NoMatchingKey),
            "{alg}"
        );
    }
    let e = VerifyingKey::from_pem(RSA_PUBLIC, None)
        .unwrap()
        .with_alg(Algorithm::ES256);
    assert_eq!(e.unwrap_err(), JwkError::AlgorithmMismatch);
    let e = VerifyingKey::hmac_from_bytes(SECRET.as_bytes(), None)
        .unwrap()
        .with_alg(Algorithm::RS256);
    assert_eq!(e.unwrap_err(), JwkError::AlgorithmMismatch);
}

#[test]
fn unknown_kid_is_reported_sanitized() {
    let w = world();
    let t = mint(
        &header(Algorithm::HS256, "rotated-2"),
        &good_claims(),
        &w.hmac,
        Algorithm::HS256,
    );
    let err = w.verify(&t).unwrap_err();
    assert_eq!(err, JwtError::UnknownKid("rotated-2".into()));
    assert!(err.key_refresh_may_help());
    assert!(!JwtError::BadSignature.key_refresh_may_help());

    let evil = format!("../../etc/passwd\n\u{1b}[31m<script>{}", "A".repeat(500));
    let t = mint(
        &header(Algorithm::HS256, &evil),
        &good_claims(),
        &w.hmac,
        Algorithm::HS256,
    );
    let JwtError::UnknownKid(shown) = w.verify(&t).unwrap_err() else {
        panic!("expected UnknownKid");
    };
    assert!(shown.len() <= 64, "{shown}");
    assert!(shown
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)));
    let msg = JwtError::UnknownKid(shown).to_string();
    assert!(!msg.contains('\n') && !msg.contains('<') && !msg.contains('/'));
}

#[test]
fn non_string_kid_is_malformed() {
    let w = world();
    let t = mint(
        &json!({"alg": "HS256", "kid": 7}),
        &good_claims(),
        &w.hmac,
        Algorithm::HS256,
    );
    assert!(matches!(w.verify(&t), Err(JwtError::Malformed(_))));
}

#[test]
fn tampering_breaks_the_signature() {
    let w = world();
    for alg in Algorithm::ALL {
        let t = w.token(alg, &good_claims());
        let parts: Vec<&str> = t.split('.').collect();
        let evil_payload = encode_url(
            with(good_claims(), "sub", json!("admin"))
                .to_string()
                .as_bytes(),
        );
        let tampered_payload = format!("{}.{}.{}", parts[0], evil_payload, parts[2]);
        assert_eq!(
            w.verify(&tampered_payload),
            Err(JwtError::BadSignature),
            "{alg} payload"
        );

        let (_, kid) = w.signer_for(alg);
        let evil_header = encode_url(
            json!({"alg": alg.name(), "kid": kid, "typ": "at+jwt"})
                .to_string()
                .as_bytes(),
        );
        let tampered_header = format!("{}.{}.{}", evil_header, parts[1], parts[2]);
        assert_eq!(
            w.verify(&tampered_header),
            Err(JwtError::BadSignature),
            "{alg} header"
        );

        let mut sig = crate::base64::decode_url(parts[2].as_bytes()).unwrap();
        sig[0] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], encode_url(&sig));
        assert_eq!(
            w.verify(&flipped),
            Err(JwtError::BadSignature),
            "{alg} signature"
        );

        let empty_sig = format!("{}.{}.", parts[0], parts[1]);
        assert_eq!(
            w.verify(&empty_sig),
            Err(JwtError::BadSignature),
            "{alg} empty"
        );
    }
}

#[test]
fn rs_and_ps_relabelled_fail() {
    let w = world();
    let t = w.token(Algorithm::RS256, &good_claims());
    let parts: Vec<&str> = t.split('.').collect();
    let h = encode_url(header(Algorithm::PS256, "rsa").to_string().as_bytes());
    assert_eq!(
        w.verify(&format!("{h}.{}.{}", parts[1], parts[2])),
        Err(JwtError::BadSignature)
    );
}

#[test]
fn padding_and_foreign_characters_are_malformed() {
    let w = world();
    let t = w.token(Algorithm::HS256, &good_claims());
    let parts: Vec<&str> = t.split('.').collect();
    let cases = [
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}=", parts[0], parts[1], parts[2]),
        format!("{}.{}==.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}", parts[0].replace('e', "+"), parts[1], parts[2]),
        format!("{}.{} .{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}\n", parts[0], parts[1], parts[2]),
        format!(" {}.{}.{}", parts[0], parts[1], parts[2]),
    ];
    for c in &cases {
        assert!(matches!(w.verify(c), Err(JwtError::Malformed(_))), "{c}");
    }
    // Padding inside a segment that is correctly signed as sent: the
    // signature holds, the encoding is still refused.
    let h = encode_url(header(Algorithm::HS256, "hmac").to_string().as_bytes());
    let mut p = encode_url(good_claims().to_string().as_bytes());
    while p.len() & 3 != 0 {
        p.push('=');
    }
    if !p.ends_with('=') {
        p = encode_url(with(good_claims(), "x", json!("y")).to_string().as_bytes()) + "=";
    }
    let input = format!("{h}.{p}");
    let sig = w.hmac.sign(Algorithm::HS256, input.as_bytes());
    let t = format!("{input}.{}", encode_url(&sig));
    assert!(matches!(w.verify(&t), Err(JwtError::Malformed(_))), "{t}");
}

#[test]
fn segment_count_must_be_three() {
    let w = world();
    let t = w.token(Algorithm::HS256, &good_claims());
    let cases = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        t.replacen('.', "", 1),
        format!("{t}."),
        format!("{t}.extra"),
        format!("{t}.a.b"), // JWE compact has five segments
    ];
    for c in &cases {
        assert!(matches!(w.verify(c), Err(JwtError::Malformed(_))), "{c:?}");
    }
}

#[test]
fn huge_token_is_refused_before_parsing() {
    let w = world();
    let big = with(good_claims(), "pad", json!("x".repeat(MAX_TOKEN_LEN)));
    let t = w.token(Algorithm::HS256, &big);
    assert_eq!(w.verify(&t), Err(JwtError::TooLong));
    assert_eq!(
        w.verify(&"a".repeat(MAX_TOKEN_LEN + 1)),
        Err(JwtError::TooLong)
    );
    // Just under the cap is fine.
    let base = w
        .token(Algorithm::HS256, &with(good_claims(), "pad", json!("")))
        .len();
    let room = (MAX_TOKEN_LEN - base) / 4 * 3 - 3;
    let t = w.token(
        Algorithm::HS256,
        &with(good_claims(), "pad", json!("x".repeat(room))),
    );
    assert!(t.len() <= MAX_TOKEN_LEN);
    w.verify(&t).unwrap();
}

#[test]
fn header_and_payload_must_be_json_objects() {
    let w = world();
    let good_h = header(Algorithm::HS256, "hmac").to_string();
    let good_p = good_claims().to_string();
    let bad: [&[u8]; 8] = [
        b"",
        b"[]",
        b"\"HS256\"",
        b"null",
        b"1",
        b"{",
        b"{} {}",
        b"\xef\xbb\xbf{}",
    ];
    for b in bad {
        let t = mint_raw(b, good_p.as_bytes(), &w.hmac, Algorithm::HS256);
        assert!(
            matches!(w.verify(&t), Err(JwtError::Malformed(_))),
            "header {b:?}"
        );
        let t = mint_raw(good_h.as_bytes(), b, &w.hmac, Algorithm::HS256);
        assert!(
            matches!(w.verify(&t), Err(JwtError::Malformed(_))),
            "payload {b:?}"
        );
    }
}

#[test]
fn duplicate_member_names_are_refused() {
    let w = world();
    let h = br#"{"alg":"HS256","kid":"hmac","alg":"none"}"#;
    let t = mint_raw(
        h,
        good_claims().to_string().as_bytes(),
        &w.hmac,
        Algorithm::HS256,
    );
    assert!(matches!(w.verify(&t), Err(JwtError::Malformed(_))));
    let p = format!(
        r#"{{"sub":"user-1","sub":"admin","iss":"{ISS}","aud":"amanah","exp":{}}}"#,
        NOW + 60
    );
    let t = mint_raw(
        header(Algorithm::HS256, "hmac").to_string().as_bytes(),
        p.as_bytes(),
        &w.hmac,
        Algorithm::HS256,
    );
    assert!(matches!(w.verify(&t), Err(JwtError::Malformed(_))));
}

#[test]
fn crit_header_is_refused() {
    let w = world();
    for crit in [json!(["exp"]), json!([]), json!("b64")] {
        let h = json!({"alg": "HS256", "kid": "hmac", "crit": crit, "exp": 1});
        let t = mint(&h, &good_claims(), &w.hmac, Algorithm::HS256);
        assert!(
            matches!(w.verify(&t), Err(JwtError::Malformed(_))),
            "{crit}"
        );
    }
}

#[test]
fn typ_must_say_jwt() {
    let w = world();
    for typ in [
        "JWT",
        "jwt",
        "at+jwt",
        "AT+JWT",
        "application/jwt",
        "application/at+jwt",
    ] {
        let h = json!({"alg": "HS256", "kid": "hmac", "typ": typ});
        w.verify(&mint(&h, &good_claims(), &w.hmac, Algorithm::HS256))
            .unwrap_or_else(|e| panic!("{typ}: {e}"));
    }
    for typ in [
        json!("JOSE"),
        json!("logout+jwt"),
        json!("dpop+jwt"),
        json!(""),
        json!(1),
        json!(null),
    ] {
        let h = json!({"alg": "HS256", "kid": "hmac", "typ": typ});
        let t = mint(&h, &good_claims(), &w.hmac, Algorithm::HS256);
        assert!(matches!(w.verify(&t), Err(JwtError::Malformed(_))), "{typ}");
    }
}

#[test]
fn issuer_is_exact() {
    let w = world();
    let v = validation();
    for iss in [
        json!("https://evil.example"),
        json!(format!("{ISS}/")),
        json!("HTTPS://IDP.EXAMPLE.TEST"),
    ] {
        let c = with(good_claims(), "iss", iss.clone());
        assert_eq!(w.check_claims(&c, &v), Err(JwtError::WrongIssuer), "{iss}");
    }
    assert_eq!(
        w.check_claims(&without(good_claims(), "iss"), &v),
        Err(JwtError::MissingClaim("iss"))
    );
    let c = with(good_claims(), "iss", json!(["x"]));
    assert!(matches!(
        w.check_claims(&c, &v),
        Err(JwtError::Malformed(_))
    ));
    // Not configured: not checked.
    let mut open = v.clone();
    open.issuer = None;
    w.check_claims(&with(good_claims(), "iss", json!("anyone")), &open)
        .unwrap();
}

#[test]
fn audience_must_intersect() {
    let w = world();
    let v = validation();
    w.check_claims(&with(good_claims(), "aud", json!(["x", "amanah"])), &v)
        .unwrap();
    for aud in [
        json!("other"),
        json!(["x", "y"]),
        json!([]),
        json!("Amanah"),
    ] {
        let c = with(good_claims(), "aud", aud.clone());
        assert_eq!(
            w.check_claims(&c, &v),
            Err(JwtError::WrongAudience),
            "{aud}"
        );
    }
    assert_eq!(
        w.check_claims(&without(good_claims(), "aud"), &v),
        Err(JwtError::MissingClaim("aud"))
    );
    for aud in [json!(1), json!(["amanah", 2]), json!({"a": 1}), json!(null)] {
        let c = with(good_claims(), "aud", aud.clone());
        assert!(
            matches!(w.check_claims(&c, &v), Err(JwtError::Malformed(_))),
            "{aud}"
        );
    }
    let two = validation().with_audience("second");
    w.check_claims(&with(good_claims(), "aud", json!("second")), &two)
        .unwrap();
}

#[test]
fn expiry_boundary_with_leeway() {
    let w = world();
    for leeway in [0u64, 60] {
        let v = validation().with_leeway_secs(leeway);
        let l = leeway as i64;
        let at = |exp: i64| {
            with(
                with(good_claims(), "exp", json!(exp)),
                "iat",
                json!(exp - 100),
            )
        };
        assert_eq!(
            w.check_claims(&at(NOW - l), &v),
            Err(JwtError::Expired),
            "leeway {leeway}"
        );
        assert_eq!(
            w.check_claims(&at(NOW - l - 1000), &v),
            Err(JwtError::Expired)
        );
        w.check_claims(&at(NOW - l + 1), &v).unwrap();
    }
}

#[test]
fn exp_required_by_default() {
    let w = world();
    let c = without(good_claims(), "exp");
    assert_eq!(
        w.check_claims(&c, &validation()),
        Err(JwtError::MissingClaim("exp"))
    );
    let mut v = validation();
    v.require_exp = false;
    w.check_claims(&c, &v).unwrap();
    // A lifetime limit needs an `exp` even when `require_exp` is off.
    let v = v.with_max_lifetime_secs(3600);
    assert_eq!(w.check_claims(&c, &v), Err(JwtError::MissingClaim("exp")));
}

#[test]
fn not_before_boundary() {
    let w = world();
    let v = validation().with_leeway_secs(30);
    let c = |nbf: i64| with(good_claims(), "nbf", json!(nbf));
    w.check_claims(&c(NOW + 30), &v).unwrap();
    assert_eq!(w.check_claims(&c(NOW + 31), &v), Err(JwtError::NotYetValid));
}

#[test]
fn issued_in_the_future() {
    let w = world();
    let v = validation().with_leeway_secs(30);
    let c = |iat: i64| with(good_claims(), "iat", json!(iat));
    w.check_claims(&c(NOW + 30), &v).unwrap();
    assert_eq!(
        w.check_claims(&c(NOW + 31), &v),
        Err(JwtError::IssuedInFuture)
    );
}

#[test]
fn lifetime_limit() {
    let w = world();
    let v = validation().with_max_lifetime_secs(3600);
    let c = |iat: i64, exp: i64| with(with(good_claims(), "iat", json!(iat)), "exp", json!(exp));
    w.check_claims(&c(NOW - 100, NOW - 100 + 3600), &v).unwrap();
    assert_eq!(
        w.check_claims(&c(NOW - 100, NOW - 100 + 3601), &v),
        Err(JwtError::LifetimeTooLong)
    );
    // Without `iat`, the remaining lifetime counts.
    let no_iat = |exp: i64| without(with(good_claims(), "exp", json!(exp)), "iat");
    w.check_claims(&no_iat(NOW + 3600), &v).unwrap();
    assert_eq!(
        w.check_claims(&no_iat(NOW + 3601), &v),
        Err(JwtError::LifetimeTooLong)
    );
}

#[test]
fn float_dates_are_accepted_and_rounded_strictly() {
    let w = world();
    let c = json!({"iss": ISS, "aud": "amanah", "exp": (NOW + 100) as f64 + 0.9,
                   "nbf": (NOW - 5) as f64 + 0.1, "iat": (NOW - 5) as f64 + 0.5});
    let claims = w.check_claims(&c, &validation()).unwrap();
    assert_eq!(claims.exp, Some(NOW + 100));
    assert_eq!(claims.nbf, Some(NOW - 4));
    assert_eq!(claims.iat, Some(NOW - 4));
    // A fractional `exp` just past the boundary is expired.
    let v = validation().with_leeway_secs(0);
    let c = with(good_claims(), "exp", json!(NOW as f64 + 0.5));
    assert_eq!(w.check_claims(&c, &v), Err(JwtError::Expired));
}

#[test]
fn non_numeric_dates_are_refused() {
    let w = world();
    let bad = [
        json!(NOW.to_string()),
        json!("2030-01-01T00:00:00Z"),
        json!(null),
        json!(true),
        json!([NOW]),
        json!({"$date": NOW}),
        json!(u64::MAX),
        json!(1e300),
        json!(-1e300),
        json!(9_007_199_254_740_993i64),
    ];
    for claim in ["exp", "nbf", "iat"] {
        for b in &bad {
            let c = with(good_claims(), claim, b.clone());
            assert!(
                matches!(
                    w.check_claims(&c, &validation()),
                    Err(JwtError::Malformed(_))
                ),
                "{claim} = {b}"
            );
        }
    }
}

#[test]
fn far_dates_do_not_overflow() {
    let w = world();
    let mut v = validation().with_leeway_secs(u64::MAX);
    v.issuer = None;
    let c = json!({"aud": "amanah", "exp": -(1i64 << 53), "nbf": 1i64 << 53, "iat": 1i64 << 53});
    // Absurd leeway makes everything valid, without panicking on overflow.
    w.check_claims(&c, &v).unwrap();
    let c = with(
        with(good_claims(), "exp", json!(1i64 << 53)),
        "iat",
        json!(-(1i64 << 53)),
    );
    let v = validation()
        .with_leeway_secs(0)
        .with_max_lifetime_secs(u64::MAX);
    w.check_claims(&c, &v).unwrap();
    let v = validation().with_max_lifetime_secs(10);
    assert_eq!(w.check_claims(&c, &v), Err(JwtError::LifetimeTooLong));
}

#[test]
fn sub_must_be_a_string() {
    let w = world();
    let c = with(good_claims(), "sub", json!(42));
    assert!(matches!(
        w.check_claims(&c, &validation()),
        Err(JwtError::Malformed(_))
    ));
}

#[test]
fn strings_at_reads_roles_groups_and_scope() {
    let w = world();
    let c = json!({"iss": ISS, "aud": "amanah", "exp": NOW + 60,
        "scope": "openid  chat:write\tadmin",
        "groups": ["admins", "devs", 3, null],
        "realm_access": {"roles": ["amanah-admin", "viewer"], "deep": {"x": "a b"}},
        "https://amanah.example/roles": ["ops"],
        "n": 5});
    let claims = w.check_claims(&c, &validation()).unwrap();
    assert_eq!(
        claims.strings_at("scope"),
        ["openid", "chat:write", "admin"]
    );
    assert_eq!(claims.strings_at("groups"), ["admins", "devs"]);
    assert_eq!(
        claims.strings_at("realm_access.roles"),
        ["amanah-admin", "viewer"]
    );
    assert_eq!(claims.strings_at("realm_access.deep.x"), ["a", "b"]);
    assert_eq!(claims.strings_at("https://amanah.example/roles"), ["ops"]);
    assert!(claims.strings_at("n").is_empty());
    assert!(claims.strings_at("missing").is_empty());
    assert!(claims.strings_at("realm_access").is_empty());
    assert!(claims.strings_at("realm_access.roles.x").is_empty());
    assert!(claims.strings_at("").is_empty());
    assert!(claims.strings_at("...").is_empty());
}

#[test]
fn keys_are_tried_in_order_up_to_the_limit_without_kid() {
    let w = world();
    let secrets: Vec<String> = (0..MAX_KEYS_TRIED_WITHOUT_KID + 1)
        .map(|i| format!("{SECRET}-{i}"))
        .collect();
    let set: KeySet = secrets
        .iter()
        .map(|s| VerifyingKey::hmac_from_bytes(s.as_bytes(), None).unwrap())
        .collect();
    let v = validation();
    for (i, s) in secrets.iter().enumerate() {
        let signer = Signer::Hmac(s.clone().into_bytes());
        let t = mint(
            &json!({"alg": "HS256"}),
            &good_claims(),
            &signer,
            Algorithm::HS256,
        );
        let r = verify(&t, &set, &v, NOW);
        if i < MAX_KEYS_TRIED_WITHOUT_KID {
            r.unwrap();
        } else {
            assert_eq!(r, Err(JwtError::BadSignature));
        }
    }
    // Keys of other types do not use up the budget.
    let mut mixed = w.keys.clone();
    mixed.extend(set.iter().cloned());
    let signer = Signer::Hmac(secrets[1].clone().into_bytes());
    let t = mint(
        &json!({"alg": "HS256"}),
        &good_claims(),
        &signer,
        Algorithm::HS256,
    );
    verify(&t, &mixed, &v, NOW).unwrap();
}

#[test]
fn empty_key_set_matches_nothing() {
    let w = world();
    let t = mint(
        &json!({"alg": "HS256"}),
        &good_claims(),
        &w.hmac,
        Algorithm::HS256,
    );
    assert_eq!(
        verify(&t, &KeySet::new(), &validation(), NOW),
        Err(JwtError::NoMatchingKey)
    );
}

#[test]
fn ecdsa_der_signature_is_refused() {
    // JWS uses the fixed r||s form; an ASN.1 DER signature must not verify.
    let w = world();
    let rng = SystemRandom::new();
    let pkcs8 =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .unwrap();
    let kp = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        pkcs8.as_ref(),
        &rng,
    )
    .unwrap();
    let jwks = json!({"keys": [ec_jwk("der", "P-256", kp.public_key().as_ref())]});
    let (set, _) = KeySet::from_jwks(jwks.to_string().as_bytes()).unwrap();
    let t = mint(
        &header(Algorithm::ES256, "der"),
        &good_claims(),
        &Signer::Ec(kp),
        Algorithm::ES256,
    );
    assert_eq!(
        verify(&t, &set, &validation(), NOW),
        Err(JwtError::BadSignature)
    );
    drop(w);
}

#[test]
fn debug_never_shows_hmac_secret() {
    let w = world();
    let shown = format!("{:?}", w.keys);
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("0123456789"), "{shown}");
    assert!(shown.contains("Hmac(***)"), "{shown}");
    assert!(
        shown.contains("\"hmac\"") && shown.contains("\"rsa\""),
        "{shown}"
    );
    assert!(
        shown.contains("Rsa(2048 bits)") && shown.contains("EcP384"),
        "{shown}"
    );
    let key = VerifyingKey::hmac_from_bytes(&[0xab; 40], Some("k")).unwrap();
    assert!(!format!("{key:?}").to_lowercase().contains("abab"));
}

#[test]
fn errors_never_echo_token_content() {
    // Every error of the negative corpus above renders from static text;
    // spot-check a few against a token full of marker text.
    let w = world();
    let marker = "MARKER1234";
    let h = encode_url(
        json!({"alg": marker, "typ": marker, "kid": marker})
            .to_string()
            .as_bytes(),
    );
    for t in [
        format!("{h}.{marker}.{marker}"),
        format!("{marker}.{marker}.{marker}"),
        format!("{h}.{marker}"),
    ] {
        let e = w.verify(&t).unwrap_err();
        assert!(!e.to_string().contains(marker), "{e}");
        assert!(!format!("{e:?}").contains(marker), "{e:?}");
    }
}

#[test]
fn hmac_secret_minimum_length() {
    let short = SecretString::new("x".repeat(MIN_HMAC_SECRET_LEN - 1));
    assert_eq!(
        VerifyingKey::hmac(&short, None).unwrap_err(),
        JwkError::HmacSecretTooShort
    );
    let ok = SecretString::new("x".repeat(MIN_HMAC_SECRET_LEN));
    assert_eq!(
        VerifyingKey::hmac(&ok, None).unwrap().key_type(),
        KeyType::Hmac
    );
    assert_eq!(
        VerifyingKey::hmac(&ok, Some(&"k".repeat(MAX_KID_LEN + 1))).unwrap_err(),
        JwkError::KidTooLong
    );
}

#[test]
fn pem_public_keys_of_every_type() {
    let w = world();
    let spki = VerifyingKey::from_pem(RSA_PUBLIC, Some("a")).unwrap();
    let pkcs1 = VerifyingKey::from_pem(RSA_PUBLIC_PKCS1, Some("a")).unwrap();
    for key in [spki, pkcs1] {
        assert_eq!(key.key_type(), KeyType::Rsa);
        assert_eq!(key.kid(), Some("a"));
        let set: KeySet = [key].into_iter().collect();
        for alg in [Algorithm::RS256, Algorithm::PS256] {
            let t = mint(&header(alg, "a"), &good_claims(), &w.rsa, alg);
            verify(&t, &set, &validation(), NOW).unwrap();
        }
    }
    let cases = [
        (P256_PUBLIC, KeyType::EcP256),
        (P384_PUBLIC, KeyType::EcP384),
        (ED25519_PUBLIC, KeyType::Ed25519),
    ];
    for (pem, kind) in cases {
        assert_eq!(VerifyingKey::from_pem(pem, None).unwrap().key_type(), kind);
        // CRLF line endings and surrounding text are fine.
        let crlf = format!("explanatory text\r\n{}", pem.replace('\n', "\r\n"));
        assert_eq!(
            VerifyingKey::from_pem(&crlf, None).unwrap().key_type(),
            kind
        );
    }
}

#[test]
fn pem_refusals() {
    let small = VerifyingKey::from_pem(RSA_1024, None).unwrap_err();
    assert_eq!(small, JwkError::RsaKeySize { bits: 1024 });
    assert_eq!(
        VerifyingKey::from_pem(P521_PUBLIC, None).unwrap_err(),
        JwkError::UnsupportedCurve
    );
    assert_eq!(
        VerifyingKey::from_pem(RSA_PRIVATE, None).unwrap_err(),
        JwkError::PrivateKey
    );
    let ec_private = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    assert_eq!(
        VerifyingKey::from_pem(ec_private, None).unwrap_err(),
        JwkError::PrivateKey
    );
    let body: String = RSA_PUBLIC
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let cases = [
        String::new(),
        "not a pem".into(),
        body.clone(),
        format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"),
        format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END RSA PUBLIC KEY-----\n"),
        format!("-----BEGIN PUBLIC KEY-----\n{body}\n"),
        format!("{RSA_PUBLIC}{RSA_PUBLIC}"),
        format!("{RSA_PUBLIC}trailing"),
        format!("-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n{body}\n-----END PUBLIC KEY-----\n"),
        RSA_PUBLIC.replacen('M', "*", 1),
        // An SPKI labelled as PKCS#1 does not parse as PKCS#1.
        format!("-----BEGIN RSA PUBLIC KEY-----\n{body}\n-----END RSA PUBLIC KEY-----\n"),
        // One byte cut from the DER.
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            body[..body.len() - 8].to_owned() + "AAAA"
        ),
        "x".repeat(MAX_PEM_LEN + 1),
    ];
    for c in &cases {
        let e = VerifyingKey::from_pem(c, None).unwrap_err();
        assert!(!e.to_string().contains(&body[10..40]), "{e}");
    }
}

fn rsa_jwk_members() -> (String, String) {
    let key = signature::RsaKeyPair::from_pkcs8(&pem_der_for_tests(RSA_PRIVATE)).unwrap();
    let n = key.public().modulus_len();
    let der = key.public().as_ref().to_vec();
    // The public key is PKCS#1 DER: SEQUENCE { INTEGER n, INTEGER e }.
    let mut r = super::der::Reader::new(&der);
    let mut seq = r.sequence().unwrap();
    let modulus = seq.positive_integer().unwrap().to_vec();
    let exponent = seq.positive_integer().unwrap().to_vec();
    assert_eq!(modulus.len(), n);
    (encode_url(&modulus), encode_url(&exponent))
}

#[test]
fn jwks_loads_usable_keys_and_reports_the_rest() {
    let (n, e) = rsa_jwk_members();
    let p256 = ec_signer(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).1;
    let good_ec = ec_jwk("ec", "P-256", &p256);
    let short_x = with(good_ec.clone(), "x", json!(encode_url(&p256[2..33])));
    let doc = json!({"keys": [
        {"kty": "RSA", "kid": "rsa", "use": "sig", "alg": "RS256", "n": n, "e": e,
         "d": "private-exponent-must-be-ignored", "p": "x", "q": "y", "x5c": ["..."]},
        good_ec,
        {"kty": "oct", "kid": "sym", "k": "c2VjcmV0LXRoYXQtbXVzdC1ub3QtbG9hZA"},
        {"kty": "RSA", "kid": "enc", "use": "enc", "n": n, "e": e},
        {"kty": "RSA", "kid": "ops", "key_ops": ["encrypt"], "n": n, "e": e},
        {"kty": "RSA", "kid": "mismatch", "alg": "ES256", "n": n, "e": e},
        {"kty": "RSA", "kid": "rsa1_5", "alg": "RSA-OAEP", "n": n, "e": e},
        {"kty": "RSA", "kid": "small", "n": encode_url(&[0xc5; 128]), "e": "AQAB"},
        {"kty": "RSA", "kid": "even-e", "n": n, "e": "AQAA"},
        {"kty": "RSA", "kid": "padded", "n": format!("{n}=="), "e": e},
        {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
        short_x,
        {"kty": "OKP", "kid": "x25519", "crv": "X25519", "x": encode_url(&[9; 32])},
        {"kty": "OKP", "kid": "ed-short", "crv": "Ed25519", "x": encode_url(&[9; 31])},
        {"kty": "RSA", "kid": 5, "n": n, "e": e},
        {"kty": "DSA", "kid": "dsa"},
        {"kid": "no-kty"},
        "not an object",
        [1, 2],
        null,
        {"kty": "RSA", "kid": "ops-ok", "key_ops": ["verify", "sign"], "n": n, "e": e},
    ]});
    let (set, skipped) = KeySet::from_jwks(doc.to_string().as_bytes()).unwrap();
    let kept: Vec<_> = set.iter().map(|k| k.kid().unwrap().to_owned()).collect();
    assert_eq!(kept, ["rsa", "ec", "ops-ok"]);
    assert_eq!(set.iter().next().unwrap().alg(), Some(Algorithm::RS256));
    let reasons: Vec<(Option<&str>, &JwkError)> = skipped
        .iter()
        .map(|s| (s.kid.as_deref(), &s.reason))
        .collect();
    use JwkError::*;
    assert_eq!(
        reasons,
        [
            (Some("sym"), &SymmetricKeyNotAllowed),
            (Some("enc"), &NotForSignatures),
            (Some("ops"), &NotForSignatures),
            (Some("mismatch"), &AlgorithmMismatch),
            (Some("rsa1_5"), &UnsupportedAlgorithm),
            (Some("small"), &RsaKeySize { bits: 1024 }),
            (
                Some("even-e"),
                &Malformed("unsupported RSA public exponent")
            ),
            (Some("padded"), &Malformed("`n` missing or not base64url")),
            (Some("p521"), &UnsupportedCurve),
            (Some("ec"), &Malformed("EC coordinate has the wrong length")),
            (Some("x25519"), &UnsupportedCurve),
            (Some("ed-short"), &Malformed("Ed25519 key is not 32 bytes")),
            (None, &Malformed("`kid` is not a string")),
            (Some("dsa"), &UnsupportedKeyType),
            (Some("no-kty"), &Malformed("missing `kty`")),
            (None, &Malformed("key is not a JSON object")),
            (None, &Malformed("key is not a JSON object")),
            (None, &Malformed("key is not a JSON object")),
        ]
    );
    let shown = format!("{set:?} {skipped:?}");
    assert!(
        !shown.contains("private-exponent") && !shown.contains("c2VjcmV0"),
        "{shown}"
    );
}

#[test]
fn jwks_duplicate_members_skip_the_key() {
    let (n, e) = rsa_jwk_members();
    let doc = format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"a","n":"{n}","e":"{e}","kid":"b"}},{{"kty":"RSA","n":"{n}","e":"{e}"}}]}}"#
    );
    let (set, skipped) = KeySet::from_jwks(doc.as_bytes()).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(
        skipped[0].reason,
        JwkError::Malformed("duplicate member in key")
    );
}

#[test]
fn jwks_documents_that_are_not_key_sets() {
    let cases: [&[u8]; 9] = [
        b"",
        b"not json",
        b"[]",
        b"{}",
        br#"{"keys": {}}"#,
        br#"{"keys": "x"}"#,
        br#"{"keys": [], "keys": []}"#,
        br#"{"keys": []} trailing"#,
        b"\xff\xfe",
    ];
    for c in cases {
        assert!(
            matches!(KeySet::from_jwks(c), Err(JwkError::NotAKeySet(_))),
            "{c:?}"
        );
    }
    let (set, skipped) = KeySet::from_jwks(br#"{"keys": [], "other": {"d": 1}}"#).unwrap();
    assert!(set.is_empty() && skipped.is_empty());
    let huge = format!(r#"{{"keys": [], "pad": "{}"}}"#, "x".repeat(MAX_JWKS_LEN));
    assert_eq!(
        KeySet::from_jwks(huge.as_bytes()).unwrap_err(),
        JwkError::TooLarge
    );
    let deep = "[".repeat(10_000);
    assert!(KeySet::from_jwks(format!(r#"{{"keys": {deep}"#).as_bytes()).is_err());
}

#[test]
fn jwks_key_count_is_capped() {
    let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": encode_url(&[7; 32])});
    let doc = json!({"keys": vec![ed; MAX_JWKS_KEYS + 5]});
    let (set, skipped) = KeySet::from_jwks(doc.to_string().as_bytes()).unwrap();
    assert_eq!(set.len(), MAX_JWKS_KEYS);
    assert_eq!(skipped.len(), 5);
    assert!(skipped.iter().all(|s| s.reason == JwkError::TooManyKeys));
    assert_eq!(skipped[0].index, MAX_JWKS_KEYS);
}

#[test]
fn invalid_ec_point_in_jwks_fails_at_verification() {
    // The shape is right, the point is not on the curve: ring refuses it,
    // so every token fails as a bad signature rather than verifying.
    let w = world();
    let mut point = vec![0x04];
    point.extend([1u8; 64]);
    let doc = json!({"keys": [ec_jwk("p256", "P-256", &point)]});
    let (set, skipped) = KeySet::from_jwks(doc.to_string().as_bytes()).unwrap();
    assert!(skipped.is_empty());
    let t = w.token(Algorithm::ES256, &good_claims());
    assert_eq!(
        verify(&t, &set, &validation(), NOW),
        Err(JwtError::BadSignature)
    );
}
